package dialplan

import (
	"context"
	"sync/atomic"
	"time"

	"pbx/callctl"
	"pbx/store"
)

// Waker wakes devices asleep behind a push service (RFC 8599): a mobile
// softphone in the background keeps no connection, so a call sends it a
// push and rings it once it has registered again. cmd/pbx implements it
// with package push and the registrar.
type Waker interface {
	// Wake sends each of w.Bindings a push for the call and calls woken
	// with the binding each device registers on waking, at most once per
	// device (from any goroutine). It returns when every device has woken or failed, or when
	// ctx ends; a slow push service delays nothing but its own device.
	Wake(ctx context.Context, w Wake, woken func(store.Binding))
}

// Wake is one call's wake-up of a licence's sleeping devices.
type Wake struct {
	CallID   string
	Caller   callctl.Party
	Bindings []store.Binding
}

// DefaultPushWait is how long a call waits for a device woken by push to
// register (Plan.PushWait).
const DefaultPushWait = 10 * time.Second

// asleep splits bindings into those rung at once and those woken by push
// first (when the plan has a Waker).
func (p *Plan) asleep(bindings []store.Binding) (awake, asleep []store.Binding) {
	if p.Waker == nil {
		return bindings, nil
	}
	for _, b := range bindings {
		if b.Push.Wakeable() {
			asleep = append(asleep, b)
		} else {
			awake = append(awake, b)
		}
	}
	return awake, asleep
}

func (p *Plan) pushWait() time.Duration {
	if p.PushWait > 0 {
		return p.PushWait
	}
	return DefaultPushWait
}

// waitingRoom is the destination that keeps a dial open while woken
// devices register: it has no target and starts only when the wait is
// over, so that a dial whose other devices all failed quickly (or that
// has none) is still there to ring the device that wakes.
func waitingRoom(callee callctl.Party, tag string, wait, ring time.Duration) callctl.Destination {
	if wait > ring {
		wait = ring
	}
	return callctl.Destination{Callee: callee, Tag: tag, Delay: wait}
}

// wake starts waking the asleep devices of a dial under way: each that
// registers in time is added to the dial. When alone is set (the dial
// has nothing else to ring) and every push failed, the dial ends at once
// (RFC 8599 §5.6.2) rather than at the end of the wait. The returned stop
// ends the wake-up and waits for it.
func (r reacher) wake(ctx context.Context, dialing callctl.Dialing, asleep []store.Binding, dest callctl.Destination, alone bool) (stop func()) {
	p := r.plan
	caller := r.call.Origin().Caller
	if r.callerID != nil {
		caller = *r.callerID
	}
	wctx, cancel := context.WithTimeout(ctx, p.pushWait())
	done := make(chan struct{})
	go func() {
		defer close(done)
		var woken atomic.Int32 // woken is called from the waker's goroutines
		p.Waker.Wake(wctx, Wake{CallID: r.call.ID(), Caller: caller, Bindings: asleep}, func(b store.Binding) {
			woken.Add(1)
			d := dest
			d.Targets = Targets([]store.Binding{b})
			if err := dialing.Add(d); err != nil {
				p.log().Info("dialplan: a woken device registered after the dial ended", "device_id", b.DeviceID)
			}
		})
		if alone && woken.Load() == 0 && wctx.Err() == nil {
			dialing.Cancel(callctl.CauseUnavailable)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
