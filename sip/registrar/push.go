package registrar

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"

	"pbx/store"
)

// RFC 8599 support: a Contact's pn-provider, pn-prid and pn-param are kept
// with its binding, so that a call can wake the device by push; the device
// then registers again and Expect hands its fresh binding to whoever waits
// for it. The pn-purr parameter (a mid-dialog wake-up, RFC 8599 §6) is
// left in the Contact unused: this registrar issues no +sip.pnspurr in its
// 2xx, so a conforming device never relies on it. pn-timeout and pn-silent
// are Linphone extensions the RFC does not define; they stay in the
// Contact as any unknown URI parameter does.

// StatusPushNotSupported is RFC 8599's 555 "Push Notification Service Not
// Supported": the REGISTER named a push service this server cannot use.
const StatusPushNotSupported = 555

// contactPush reads the RFC 8599 parameters and the +sip.instance of a
// Contact.
func contactPush(c *sip.ContactHeader) (store.PushParams, string) {
	var p store.PushParams
	if c.Address.UriParams != nil {
		p.Provider, _ = c.Address.UriParams.Get("pn-provider")
		p.PRID, _ = c.Address.UriParams.Get("pn-prid")
		p.Param, _ = c.Address.UriParams.Get("pn-param")
	}
	inst := ""
	if c.Params != nil {
		inst, _ = c.Params.Get("+sip.instance")
		inst = strings.TrimSuffix(strings.TrimPrefix(strings.Trim(inst, `"`), "<"), ">")
	}
	return p, inst
}

// sameDevice reports whether binding b registers the same device instance
// as w: the same +sip.instance, or, for devices that send none, the same
// push parameters (RFC 8599 §5.6.2 compares pn-provider, pn-prid and
// pn-param). A device woken by push usually comes back on a new
// connection, with a new Contact port: the Contact itself cannot tell.
func sameDevice(b, w store.Binding) bool {
	if b.DeviceID != w.DeviceID {
		return false
	}
	if b.Instance != "" && b.Instance == w.Instance {
		return true
	}
	return b.Push.Wakeable() && b.Push == w.Push
}

// expectations are the waits for devices woken by push. They are per
// node: the woken device's REGISTER must come to the node that pushed,
// which holds for one node; several nodes behind an edge would pass the
// news through the store.
type expectations struct {
	// seq numbers the REGISTERs as they arrive: a wait is served only by
	// a REGISTER that came after it began, never by the late 200 OK of
	// the one that registered the sleeping binding.
	seq  atomic.Uint64
	mu   sync.Mutex
	list []*expectation
}

type expectation struct {
	want  store.Binding
	after uint64
	ch    chan store.Binding
}

// Expect starts waiting for the device of binding want to register again
// (same instance or push parameters); the binding it registers is sent on
// the channel once the 200 OK has gone. stop ends the wait. Call Expect
// before sending the push, so that no REGISTER can come between.
func (r *Registrar) Expect(want store.Binding) (<-chan store.Binding, func()) {
	x := &r.expect
	e := &expectation{want: want, after: x.seq.Load(), ch: make(chan store.Binding, 1)}
	x.mu.Lock()
	x.list = append(x.list, e)
	x.mu.Unlock()
	return e.ch, func() {
		x.mu.Lock()
		x.list = slices.DeleteFunc(x.list, func(o *expectation) bool { return o == e })
		x.mu.Unlock()
	}
}

// arrived numbers a REGISTER that has just arrived.
func (x *expectations) arrived() uint64 { return x.seq.Add(1) }

// registered tells the waits of b's device that it registered b with the
// REGISTER numbered seq.
func (x *expectations) registered(b store.Binding, seq uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.list) == 0 {
		return
	}
	x.list = slices.DeleteFunc(x.list, func(e *expectation) bool {
		if seq <= e.after || !sameDevice(b, e.want) {
			return false
		}
		e.ch <- b // buffered, and each expectation is served once
		return true
	})
}

// supportsPush reports whether the registrar can push to provider.
func (r *Registrar) supportsPush(provider string) bool {
	return slices.Contains(r.cfg.PushProviders, provider)
}

// featureCaps is the Feature-Caps header of a 2xx to a REGISTER that
// asked for push by provider (RFC 8599 §5.4): the server supports it, and
// sip.pnsreg asks the device to refresh its registration by itself, as
// this server sends no pushes for refreshes (§5.6.1.1, a value above 120).
func featureCaps(provider string) sip.Header {
	return sip.NewHeader("Feature-Caps", `*;+sip.pns="`+provider+`";+sip.pnsreg="121"`)
}
