package provisioning

import (
	"regexp"
	"strings"
)

// userAgent is what a device says about itself in the User-Agent header.
type userAgent struct {
	vendor   Vendor
	model    string
	firmware string
	mac      string // normalised; empty when the header carries none
}

// yealinkUA covers every sample in the vendor documentation, including the
// double space and the MAC without colons seen on some T5x firmware.
var yealinkUA = regexp.MustCompile(`(?i)^yealink\s+(?:SIP(?: VP)?-)?(\w+)\s+([\d.]+)\s+([0-9a-f]{2}(?::[0-9a-f]{2}){5}|[0-9a-f]{12})$`)

// gigasetUA: "N510 IP PRO/42.262.00.000.000;7C2F80123456",
// "Gigaset N720 DM PRO/70.089.00.000.000;7C2F80CA21E4",
// "Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;7C2F80E0D605;Handset=2",
// and older firmware without the ";MAC" part.
var gigasetUA = regexp.MustCompile(`(?i)^(?:gigaset\s+)?(N\d{3}[A-Z]?(?:[ -](?:IP|DM)[ -]PRO)?)/([^;\s]+)(?:;([0-9a-f]{12}))?(?:;.*)?$`)

// grandstreamUA: "Grandstream Model HW HT801 V1.1A SW 1.0.17.5 DevId
// c074ad273a10", "Grandstream Model HW HT802V2 V1.0A SW 1.0.5.4 DevId
// ec74d763e419" (wazo's samples). [U] The WP8xx are assumed to send the
// same form; no sample of theirs was found.
var grandstreamUA = regexp.MustCompile(`(?i)^Grandstream Model HW (\w+)(?:\s+V[^ ]+)? SW ([^ ]+) DevId ([0-9a-f]{12}|[0-9a-f]{2}(?::[0-9a-f]{2}){5})$`)

func parseUserAgent(s string) userAgent {
	s = strings.TrimSpace(s)
	if m := grandstreamUA.FindStringSubmatch(s); m != nil {
		mac, _ := NormalizeMAC(m[3])
		return userAgent{vendor: Grandstream, model: m[1], firmware: m[2], mac: mac}
	}
	if m := yealinkUA.FindStringSubmatch(s); m != nil {
		mac, _ := NormalizeMAC(m[3])
		return userAgent{vendor: Yealink, model: m[1], firmware: m[2], mac: mac}
	}
	if m := gigasetUA.FindStringSubmatch(s); m != nil {
		ua := userAgent{vendor: Gigaset, model: m[1], firmware: m[2]}
		if m[3] != "" {
			ua.mac, _ = NormalizeMAC(m[3])
		}
		return ua
	}
	return userAgent{}
}
