package main

import (
	"time"
)

// drain makes the node refuse new calls (503 with Retry-After to INVITEs
// and to a dispatcher's OPTIONS) and waits until the current calls have
// ended, timeout has passed or abort is closed (a second signal); it
// reports whether every call ended. Registrations, the API and in-dialog
// requests are served meanwhile.
func (a *app) drain(timeout time.Duration, abort <-chan struct{}) bool {
	b := a.calls.b2bua
	b.Drain()
	a.log.Info("draining: waiting for the calls in progress", "calls", b.Stats().Calls, "timeout", timeout)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-b.Idle():
		a.log.Info("drained: no call left")
		return true
	case <-t.C:
		a.log.Warn("drain timeout: calls still in progress are hung up", "calls", b.Stats().Calls)
	case <-abort:
		a.log.Warn("drain interrupted: calls still in progress are hung up", "calls", b.Stats().Calls)
	}
	return false
}
