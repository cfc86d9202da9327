// Package trunkreg owns the pbx's registrations to its carriers: for every
// trunk that asks for it (register, a username and a password) it keeps a
// REGISTER binding of the pbx's Contact at the trunk's host alive,
// answering the carrier's digest challenge, refreshing it before it
// expires, retrying failures with a capped backoff and removing it on
// Close. It follows trunk changes by reloading them from the store
// periodically and whenever Notify is called, and reports each trunk's
// state for the API.
package trunkreg

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"pbx/store"
)

// Store is what trunkreg reads of the store.
type Store interface {
	Trunks(ctx context.Context) ([]store.Trunk, error)
	TrunkPassword(ctx context.Context, id string) (string, error)
}

// Config of a Registrations. Store, Client and Contact are required; zero
// durations take the defaults.
type Config struct {
	Store  Store
	Client *sipgo.Client
	// Contact is the pbx's Contact for a transport (sipserver's ContactURI).
	Contact func(transport string) sip.Uri
	// Expires is what the pbx asks the carrier for (default 1 hour).
	Expires time.Duration
	// MinRefresh bounds the refresh interval below, whatever the carrier
	// grants (default 30 s; tests lower it).
	MinRefresh time.Duration
	// RetryMin and RetryMax bound the backoff after a failure (defaults
	// 5 s and 5 min).
	RetryMin, RetryMax time.Duration
	// Reload is how often trunks are read again (default 10 s).
	Reload time.Duration
	// Timeout bounds one REGISTER transaction, challenge included
	// (default 32 s, 64×T1).
	Timeout time.Duration
	Log     *slog.Logger
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Expires, time.Hour)
	def(&c.MinRefresh, 30*time.Second)
	def(&c.RetryMin, 5*time.Second)
	def(&c.RetryMax, 5*time.Minute)
	def(&c.Reload, 10*time.Second)
	def(&c.Timeout, 64*sip.T1)
	if c.Log == nil {
		c.Log = slog.Default()
	}
}

// States of a trunk's registration.
const (
	StateRegistering = "registering" // the first attempt is under way
	StateRegistered  = "registered"
	StateFailed      = "failed" // the last attempt failed; it is retried
)

// State is a trunk's registration as last seen.
type State struct {
	State string
	// Status is the last final response's status code (0: none, say a
	// timeout), Error what went wrong when State is failed.
	Status    int
	Error     string
	ExpiresAt time.Time // when the binding ends unless refreshed
}

// Registrations keeps the registrations of every trunk.
type Registrations struct {
	cfg    Config
	notify chan struct{}
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once

	mu      sync.Mutex
	workers map[string]*worker // by trunk ID
	states  map[string]State   // by trunk ID
}

// New starts keeping the trunks' registrations; Close stops it.
func New(cfg Config) *Registrations {
	cfg.defaults()
	r := &Registrations{cfg: cfg, notify: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		workers: map[string]*worker{}, states: map[string]State{}}
	go r.run()
	return r
}

// Notify asks for the trunks to be read again now (after a change over
// the API); it never blocks.
func (r *Registrations) Notify() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// State returns a trunk's registration; ok is false when the trunk does
// not register.
func (r *Registrations) State(trunkID string) (State, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.states[trunkID]
	return s, ok
}

// Close removes every registration (Expires: 0) and stops every
// goroutine; it returns when they have stopped.
func (r *Registrations) Close() {
	r.once.Do(func() { close(r.stop) })
	<-r.done
}

func (r *Registrations) run() {
	defer close(r.done)
	tick := time.NewTicker(r.cfg.Reload)
	defer tick.Stop()
	for {
		r.reload()
		select {
		case <-r.stop:
			r.mu.Lock()
			ws := make([]*worker, 0, len(r.workers))
			for _, w := range r.workers {
				ws = append(ws, w)
			}
			r.mu.Unlock()
			for _, w := range ws {
				w.stop()
			}
			return
		case <-tick.C:
		case <-r.notify:
		}
	}
}

// reload starts a worker for each trunk that registers and has none for
// its current settings, and stops the workers of trunks gone or changed.
func (r *Registrations) reload() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ts, err := r.cfg.Store.Trunks(ctx)
	if err != nil {
		r.cfg.Log.Error("trunk registration: load trunks", "error", err)
		return // keep what runs
	}
	want := map[string]account{}
	for _, t := range ts {
		if !t.Register || t.Username == "" || !t.PasswordSet {
			continue
		}
		pw, err := r.cfg.Store.TrunkPassword(ctx, t.ID)
		if err != nil || pw == "" {
			if err != nil {
				r.cfg.Log.Error("trunk registration: password", "trunk", t.ID, "error", err)
			}
			continue
		}
		want[t.ID] = account{id: t.ID, host: t.Host, port: t.Port, transport: t.Transport, username: t.Username, password: pw}
	}
	var stale []*worker
	r.mu.Lock()
	for id, w := range r.workers {
		if acc, ok := want[id]; !ok || acc != w.acc {
			stale = append(stale, w)
			delete(r.workers, id)
		}
	}
	r.mu.Unlock()
	// Old bindings go before new ones are made, so that a carrier never
	// sees the pbx registered twice for one trunk.
	for _, w := range stale {
		w.stop()
		r.mu.Lock()
		if _, again := want[w.acc.id]; !again {
			delete(r.states, w.acc.id)
		}
		r.mu.Unlock()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, acc := range want {
		if _, ok := r.workers[id]; !ok {
			r.states[id] = State{State: StateRegistering}
			r.workers[id] = startWorker(r, acc)
		}
	}
}

// setState records a trunk's state while its worker is current.
func (r *Registrations) setState(w *worker, s State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.workers[w.acc.id] == w {
		r.states[w.acc.id] = s
	}
}
