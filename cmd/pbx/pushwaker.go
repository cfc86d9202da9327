package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pbx/dialplan"
	"pbx/push"
	"pbx/sip/registrar"
	"pbx/store"
)

// pushWaker wakes sleeping softphones for the dialplan: it sends each a
// push and hands back the binding the device registers on waking (the
// registrar's Expect). A token the service refuses for good removes its
// binding.
type pushWaker struct {
	senders push.Senders
	reg     *registrar.Registrar
	store   interface {
		DeletePushBinding(ctx context.Context, deviceID, provider, prid string) (int64, error)
	}
	log *slog.Logger
	ttl time.Duration // of the pushes: the wait for the device
	// pushes counts the pushes by service and outcome (sent, gone,
	// failed); woken the devices that registered in time.
	pushes *prometheus.CounterVec
	woken  *prometheus.CounterVec
}

var _ dialplan.Waker = (*pushWaker)(nil)

// Wake wakes every binding at once, each on its own: a slow service or
// device holds up nothing but itself.
func (w *pushWaker) Wake(ctx context.Context, wk dialplan.Wake, woken func(store.Binding)) {
	n := push.Notification{ID: wk.CallID, From: wk.Caller.Number, FromName: wk.Caller.Name, TTL: w.ttl}
	var wg sync.WaitGroup
	for _, b := range wk.Bindings {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.wakeOne(ctx, b, n, woken)
		}()
	}
	wg.Wait()
}

func (w *pushWaker) wakeOne(ctx context.Context, b store.Binding, n push.Notification, woken func(store.Binding)) {
	// Expect before the push: the device may register before the
	// service has even answered.
	registered, stop := w.reg.Expect(b)
	defer stop()
	sent := make(chan error, 1)
	go func() {
		sent <- w.senders.Send(ctx, push.Device{Provider: b.Push.Provider, Token: b.Push.PRID, Param: b.Push.Param}, n)
	}()
	defer func() {
		if sent != nil {
			<-sent // the request ends with ctx
		}
	}()
	for {
		select {
		case nb := <-registered:
			w.woken.WithLabelValues(b.Push.Provider).Inc()
			woken(nb)
			return
		case err := <-sent:
			sent = nil
			if err == nil {
				w.pushes.WithLabelValues(b.Push.Provider, "sent").Inc()
				continue
			}
			w.failed(b, err)
			return
		case <-ctx.Done():
			return
		}
	}
}

// failed notes a push that failed; a token the service says is gone
// takes its binding with it (RFC 8599 leaves this to the proxy).
func (w *pushWaker) failed(b store.Binding, err error) {
	log := w.log.With("device_id", b.DeviceID, "provider", b.Push.Provider)
	if !push.Gone(err) {
		w.pushes.WithLabelValues(b.Push.Provider, "failed").Inc()
		log.Warn("push failed", "error", err)
		return
	}
	w.pushes.WithLabelValues(b.Push.Provider, "gone").Inc()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, derr := w.store.DeletePushBinding(ctx, b.DeviceID, b.Push.Provider, b.Push.PRID)
	if derr != nil {
		log.Error("push: remove the binding of a refused token", "error", derr)
		return
	}
	log.Info("push token refused by the service: binding removed", "error", err, "removed", n)
}

// setupPush gives the dialplan its waker when a push service is
// configured.
func (a *app) setupPush(c *calls) error {
	if len(a.push) == 0 {
		return nil
	}
	w := &pushWaker{senders: a.push, reg: a.regis, store: a.store, log: a.log, ttl: a.cfg.Push.Wait,
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pbx_push_notifications_total",
			Help: "Pushes sent to wake softphones for calls, by service and outcome (sent, gone: the token was refused for good, failed)."}, []string{"provider", "outcome"}),
		woken: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pbx_push_woken_total",
			Help: "Softphones woken by push that registered in time to be rung, by service."}, []string{"provider"})}
	for _, m := range []prometheus.Collector{w.pushes, w.woken} {
		if err := a.reg.Register(m); err != nil {
			return err
		}
	}
	c.plan.Waker = w
	c.plan.PushWait = a.cfg.Push.Wait
	return nil
}
