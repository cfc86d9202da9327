package sipserver

import (
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"
)

// drainFunc reports whether the node refuses new calls, and for how long
// a client should stay away.
type drainFunc func() (retryAfter time.Duration, draining bool)

// SetDraining gives the endpoint a drain mode (the b2bua's): while
// draining reports true, an out-of-dialog OPTIONS is answered 503 with
// Retry-After, so that a dispatcher probing the node (Kamailio's
// dispatcher module) sends new calls elsewhere. OPTIONS inside a dialog
// (a keepalive of a current call) are answered as usual.
func (s *Server) SetDraining(draining func() (retryAfter time.Duration, draining bool)) {
	if draining == nil {
		s.draining.Store(nil)
		return
	}
	f := drainFunc(draining)
	s.draining.Store(&f)
}

// refuseOptions answers OPTIONS 503 when the node drains; it reports
// whether it did.
func (s *Server) refuseOptions(req *sip.Request, tx sip.ServerTransaction) bool {
	f := s.draining.Load()
	if f == nil {
		return false
	}
	if to := req.To(); to != nil {
		if tag, _ := to.Params.Get("tag"); tag != "" {
			return false
		}
	}
	after, draining := (*f)()
	if !draining {
		return false
	}
	secs := int((after + time.Second - 1) / time.Second)
	Respond(tx, req, 503, "Service Unavailable - draining", sip.NewHeader("Retry-After", strconv.Itoa(secs)))
	return true
}
