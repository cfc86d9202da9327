package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"pbx/sip/b2bua"
	"pbx/store"
)

// clusterLamps makes busy lamps follow calls served by other nodes of a
// cluster (--node set): each node writes the dialog state of its users'
// calls to the store (user_states, one row per user and node) and polls
// the rows the other nodes wrote. A lamp shows the busiest state of the
// user on any node. A single node does none of this.
//
// The subscriptions themselves stay on the node that accepted them (the
// SUBSCRIBE dialog ends there); only the state they report is shared.
type clusterLamps struct {
	st      *store.Store
	node    string
	log     *slog.Logger
	changed func(userID string) // a user's state changed on another node
	now     func() time.Time

	mu    sync.Mutex
	dirty map[string]string // user -> latest local state, not yet written
	// seen holds the other nodes' states read so far: user -> node ->
	// state; read by state, written by poll.
	seen  map[string]map[string]string
	since time.Time // poll from here (with an overlap for clock skew)
}

// lampOverlap is how far back each poll looks again: the nodes' clocks
// and commits are not ordered, so a row may appear with an older time
// than one already read.
const lampOverlap = 5 * time.Second

// nodeSilence is how long a node may go without a heartbeat (its call
// journal writes one every second) before the states it left are taken
// for idle: a node killed in a call must not leave its users busy.
const nodeSilence = 15 * time.Second

func newClusterLamps(ctx context.Context, st *store.Store, node string, log *slog.Logger, changed func(string)) (*clusterLamps, error) {
	l := &clusterLamps{st: st, node: node, log: log, changed: changed, now: time.Now,
		dirty: map[string]string{}, seen: map[string]map[string]string{}}
	l.since = l.now().Add(-time.Hour)
	if err := st.ResetUserStates(ctx, node, l.now()); err != nil {
		return nil, err
	}
	return l, nil
}

// publish notes a local change; flush writes it.
func (l *clusterLamps) publish(userID, state string) {
	l.mu.Lock()
	l.dirty[userID] = state
	l.mu.Unlock()
}

// flush writes the local changes noted since the last flush, the latest
// state of each user only.
func (l *clusterLamps) flush(ctx context.Context) error {
	l.mu.Lock()
	if len(l.dirty) == 0 {
		l.mu.Unlock()
		return nil
	}
	dirty := l.dirty
	l.dirty = map[string]string{}
	l.mu.Unlock()
	now := l.now()
	states := make([]store.UserState, 0, len(dirty))
	for uid, s := range dirty {
		states = append(states, store.UserState{UserID: uid, Node: l.node, State: s, UpdatedAt: now})
	}
	if err := l.st.SetUserStates(ctx, states); err != nil {
		// Put back what was not written, unless changed meanwhile.
		l.mu.Lock()
		for uid, s := range dirty {
			if _, newer := l.dirty[uid]; !newer {
				l.dirty[uid] = s
			}
		}
		l.mu.Unlock()
		return err
	}
	return nil
}

// poll reads the other nodes' recent changes and tells the subscriptions
// of the users whose state changed.
func (l *clusterLamps) poll(ctx context.Context) error {
	l.mu.Lock()
	since := l.since
	l.mu.Unlock()
	start := l.now()
	rows, err := l.st.UserStatesSince(ctx, since.Add(-lampOverlap))
	if err != nil {
		return err
	}
	heard, err := l.st.NodesSeen(ctx)
	if err != nil {
		return err
	}
	// A node with no heartbeat yet has just started: it counts as alive.
	gone := func(node string) bool {
		at, ok := heard[node]
		return ok && start.Sub(at) > nodeSilence
	}
	var changed []string
	l.mu.Lock()
	for uid, m := range l.seen {
		for node := range m {
			if gone(node) {
				delete(m, node)
				changed = append(changed, uid)
			}
		}
		if len(m) == 0 {
			delete(l.seen, uid)
		}
	}
	for _, r := range rows {
		if r.Node == l.node || gone(r.Node) {
			continue
		}
		m := l.seen[r.UserID]
		if m == nil {
			m = map[string]string{}
			l.seen[r.UserID] = m
		}
		if m[r.Node] != r.State {
			if r.State == b2bua.UserIdle {
				delete(m, r.Node)
			} else {
				m[r.Node] = r.State
			}
			changed = append(changed, r.UserID)
		}
		if len(m) == 0 {
			delete(l.seen, r.UserID)
		}
	}
	l.since = start
	l.mu.Unlock()
	for _, uid := range changed {
		l.changed(uid)
	}
	return nil
}

// userState is a user's dialog state for busy lamps and hunt groups: this
// node's calls, and in a cluster the busiest state on any node.
func (c *calls) userState(userID string) string {
	s := c.b2bua.UserState(userID)
	if c.lamps != nil {
		s = c.lamps.state(userID, s)
	}
	return s
}

// state is the busiest of local (this node's state of the user) and the
// other nodes' states.
func (l *clusterLamps) state(userID, local string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	best := local
	for _, s := range l.seen[userID] {
		if rank(s) > rank(best) {
			best = s
		}
	}
	return best
}

func rank(state string) int {
	switch state {
	case b2bua.UserConfirmed:
		return 2
	case b2bua.UserEarly:
		return 1
	}
	return 0
}

// sweep removes idle states older than a day.
func (l *clusterLamps) sweep(ctx context.Context) error {
	_, err := l.st.DeleteIdleUserStates(ctx, l.now().Add(-24*time.Hour))
	return err
}
