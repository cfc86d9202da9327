package registrar

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// pathOf is the Path of a REGISTER (RFC 3327): the values of its Path
// headers in order, joined as one header value. A proxy in front of the
// device (an edge such as Kamailio) adds itself there, with the address of
// the device's flow; requests to the device then carry it as their Route
// set, so that any node sharing the store reaches the device through the
// proxy that holds its flow.
func pathOf(req *sip.Request) string {
	hs := req.GetHeaders("Path")
	if len(hs) == 0 {
		return ""
	}
	vals := make([]string, 0, len(hs))
	for _, h := range hs {
		if v := strings.TrimSpace(h.Value()); v != "" {
			vals = append(vals, v)
		}
	}
	return strings.Join(vals, ", ")
}
