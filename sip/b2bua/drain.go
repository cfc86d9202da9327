package b2bua

import (
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"

	"pbx/sip/sipserver"
)

// DefaultDrainRetryAfter is the Retry-After of the 503 that refuses new
// calls while the node drains, unless Config.DrainRetryAfter says
// otherwise: long enough for a restart, short enough for a dispatcher to
// come back soon.
const DefaultDrainRetryAfter = 30 * time.Second

// drainState is the drain mode of a Service; guarded by Service.mu.
type drainState struct {
	draining bool
	idle     chan struct{} // made on first use; closed once draining with no call
	idleDone bool
}

// Drain makes the node refuse new calls while the current ones finish:
// a new INVITE is answered 503 with Retry-After, and so is an OPTIONS
// probe from a dispatcher (Kamailio's dispatcher module then sends calls
// to other nodes). In-dialog requests of current calls are served as
// before. Idle tells when the last call has ended. Drain cannot be undone:
// a drained node is restarted.
func (s *Service) Drain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.drain.draining {
		return
	}
	s.drain.draining = true
	s.log.Info("draining: new calls refused", "calls", len(s.calls))
	s.checkIdleLocked()
}

// Draining reports whether Drain was called.
func (s *Service) Draining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.drain.draining
}

// Idle is closed once the node drains and no call is left.
func (s *Service) Idle() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkIdleLocked()
	return s.drain.idle
}

// admitting reports whether the node takes new calls: not while it drains
// or after Close. Every way a call starts asks it (or draining, under
// s.mu, as it adds the call to s.calls); a call added to s.calls must be
// removed with callEnded.
func (s *Service) admitting() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closed && !s.draining()
}

// draining reports whether the node drains; s.mu is held. Originate then
// fails with callctl.ErrDraining.
func (s *Service) draining() bool { return s.drain.draining }

// callEnded forgets a finished call and closes Idle when it was the last
// one of a draining node.
func (s *Service) callEnded(c *Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.calls, c)
	s.checkIdleLocked()
}

func (s *Service) checkIdleLocked() {
	if s.drain.idle == nil {
		s.drain.idle = make(chan struct{})
	}
	if s.drain.draining && !s.drain.idleDone && len(s.calls) == 0 {
		s.drain.idleDone = true
		close(s.drain.idle)
		s.log.Info("drained: no call left")
	}
}

func (s *Service) retryAfter() time.Duration {
	if s.cfg.DrainRetryAfter > 0 {
		return s.cfg.DrainRetryAfter
	}
	return DefaultDrainRetryAfter
}

// refuseNew answers a new INVITE the node does not take: 503, with
// Retry-After while draining (after Close there is nothing to come back to).
func (s *Service) refuseNew(tx sip.ServerTransaction, req *sip.Request) {
	if !s.Draining() {
		respond(tx, req, 503, "Service Unavailable")
		return
	}
	respond(tx, req, 503, "Service Unavailable - draining", retryAfterHeader(s.retryAfter()))
}

// drainStatus is the SIP endpoint's OPTIONS hook (sipserver.SetDraining).
func (s *Service) drainStatus() (time.Duration, bool) {
	if !s.Draining() {
		return 0, false
	}
	return s.retryAfter(), true
}

func retryAfterHeader(d time.Duration) sip.Header {
	return sip.NewHeader("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
}

// mountDrain lets the endpoint's OPTIONS answers follow the drain mode.
func (s *Service) mountDrain(srv *sipserver.Server) { srv.SetDraining(s.drainStatus) }
