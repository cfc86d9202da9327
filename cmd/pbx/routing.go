package main

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"pbx/api"
	"pbx/media"
	"pbx/sip/b2bua"
	"pbx/store"
)

// storeTrunks recognises carrier trunks by source address from the
// store's in-memory matcher.
type storeTrunks struct{ s *store.Store }

func (t storeTrunks) TrunkBySource(addr netip.AddrPort) (string, bool) {
	tr, err := t.s.TrunkBySource(context.Background(), addr)
	if err != nil {
		return "", false
	}
	return tr.ID, true
}

// fileAudio opens the audio the API stored under the data directory.
type fileAudio struct{ dataDir string }

func (f fileAudio) Open(_ context.Context, tenantID, id string) (media.Source, error) {
	path, err := api.AudioPath(f.dataDir, tenantID, id)
	if err != nil {
		return nil, err
	}
	clip, err := media.LoadClip(path)
	if err != nil {
		return nil, err
	}
	return clip.Source(), nil
}

// flowClock is the clock of the dialplan (schedules, suspensions): the
// real one, unless a test sets another.
type flowClock struct {
	fn atomic.Pointer[func() time.Time]
}

func (c *flowClock) Now() time.Time {
	if f := c.fn.Load(); f != nil {
		return (*f)()
	}
	return time.Now()
}

// set makes now the dialplan's clock (nil: the real clock again).
func (c *flowClock) set(now func() time.Time) {
	if now == nil {
		c.fn.Store(nil)
		return
	}
	c.fn.Store(&now)
}

// callEnds hears the users' dialog states from the b2bua and tells the
// dialplan when a user's call ended (longest-idle hunting, queues). The
// b2bua's listener must not block, so the news goes to a goroutine.
type callEnds struct {
	mu    sync.Mutex
	state map[string]string // users not idle
	ch    chan string
}

func newCallEnds() *callEnds {
	return &callEnds{state: map[string]string{}, ch: make(chan string, 256)}
}

// changed is the b2bua's UserState listener (called in order per user).
func (e *callEnds) changed(userID, state string) {
	e.mu.Lock()
	was := e.state[userID]
	if state == b2bua.UserIdle {
		delete(e.state, userID)
	} else {
		e.state[userID] = state
	}
	e.mu.Unlock()
	// Only the end of a call counts: a phone that rang and was not
	// answered has not been busy.
	if state == b2bua.UserIdle && was == b2bua.UserConfirmed {
		select {
		case e.ch <- userID:
		default: // a burst beyond the buffer: the queues' recheck covers it
		}
	}
}

// run records the ends until ctx ends.
func (e *callEnds) run(ctx context.Context, record func(ctx context.Context, userID string, at time.Time)) {
	for {
		select {
		case <-ctx.Done():
			return
		case uid := <-e.ch:
			record(ctx, uid, time.Now())
		}
	}
}

// setupRouting gives the dialplan what routing by public number needs and
// starts recording the ends of users' calls.
func (a *app) setupRouting(c *calls) {
	c.plan.Routes = a.store
	c.plan.Audio = fileAudio{dataDir: a.cfg.DataDir}
	c.plan.Now = c.clock.Now
	// A member is busy while one of its legs is answered, on this node or,
	// in a cluster, on another (the states the busy lamps share).
	c.plan.Busy = func(userID string) bool { return c.userState(userID) == b2bua.UserConfirmed }
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		c.ends.run(a.ctx, func(ctx context.Context, uid string, at time.Time) {
			c.plan.UserCallEnded(ctx, uid, at)
		})
	}()
}
