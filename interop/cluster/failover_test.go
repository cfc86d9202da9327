//go:build linux

package cluster_test

import (
	"context"
	"database/sql"
	"net/http"
	"testing"
	"time"

	"pbx/interop"
	"pbx/interop/cluster"
	"pbx/interop/loadgen"
)

// startCluster starts a cluster for the test: nodes a and b behind the
// edge, a first by priority (dispatcher algorithm 8), the deferred ones
// left stopped. Logs are shown when the test fails.
func startCluster(t *testing.T, ctx context.Context, deferred ...string) *cluster.Cluster {
	t.Helper()
	c, err := cluster.Start(ctx, cluster.Config{Binary: pbxBinary, Dir: t.TempDir(), Deferred: deferred,
		NodeArgs: []string{"--ban-source-failures", "0"}, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("edge log (tail):\n%s", tailLines(c.Edge.Log(), 40))
			for _, n := range c.Nodes {
				if n.Server != nil {
					t.Logf("node %s log (tail):\n%s", n.Name, n.Server.LogTail(40))
				}
			}
		}
		c.Stop()
	})
	return c
}

// counter reads a node's counter, failing the test on error.
func counter(t *testing.T, ctx context.Context, n *cluster.Node, series string) float64 {
	t.Helper()
	v, err := n.Counter(ctx, series)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const (
	registrations = "pbx_sip_registrations_total"
	invites       = `pbx_sip_requests_total{method="INVITE"}`
	probes        = `pbx_sip_requests_total{method="OPTIONS"}`
	subscribes    = `pbx_sip_requests_total{method="SUBSCRIBE"}`
)

// waitProbes waits until the edge has probed node n at least k times
// since it started: k >= 2 means the edge has had an answer to a probe a
// whole interval ago, and counts the node in.
func waitProbes(t *testing.T, ctx context.Context, n *cluster.Node, k float64) {
	t.Helper()
	for counter(t, ctx, n, probes) < k {
		select {
		case <-ctx.Done():
			t.Fatalf("node %s: the edge never probed it %v times", n.Name, k)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// call places a call through the edge from caller to callee with audio
// both ways for a second, then hangs up; nothing may be lost.
func call(t *testing.T, ctx context.Context, g *loadgen.Generator, caller, callee loadgen.Account) {
	t.Helper()
	c, err := g.Dial(ctx, caller, callee)
	if err != nil {
		t.Fatalf("call %s -> %s: %v", caller.Extension, callee.Extension, err)
	}
	time.Sleep(time.Second)
	st := c.Stats()
	if err := c.Hangup(ctx); err != nil {
		t.Errorf("hang up %s -> %s: %v", caller.Extension, callee.Extension, err)
	}
	for dir, s := range map[string]loadgen.StreamStats{"caller->callee": st.Up, "callee->caller": st.Down} {
		// A second of 20 ms frames: at least 25 arrived, none lost.
		if s.Received < 25 || s.Lost() != 0 || s.Other != 0 {
			t.Errorf("call %s -> %s, %s: %+v: want a steady stream with nothing lost", caller.Extension, callee.Extension, dir, s)
		}
	}
}

// Two devices register through the edge, one while node a is down (it
// lands on node b), the other once a is back (it lands on a); calls both
// ways carry audio, node a reaching the device b registered through the
// Path it stored. Then node a is killed while idle: new calls from and to
// its device are served by node b, and no device registers again.
func TestClusterFailover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := startCluster(t, ctx, "a")
	a, b := c.Node("a"), c.Node("b")
	api := b.Server.API()
	tenant, accs, err := api.CreateCallAccounts(ctx, "Cluster", 3, 2,
		interop.CallAccountNaming{FirstExtension: 201, FirstName: "Node", EmailPrefix: "n", EmailDomain: "example.com"})
	if err != nil {
		t.Fatal(err)
	}
	dev1, dev2, dev3 := accs[0].Loadgen(), accs[1].Loadgen(), accs[2].Loadgen()
	// A round-robin hunt group of the two registered devices' licences,
	// on extension 300: its position (the member who last answered) is
	// in the store, so it stays right when consecutive calls are served
	// by different nodes.
	var group struct{ ID string }
	if err := api.Do(ctx, "POST", "/api/v1/tenants/"+tenant.ID+"/hunt_groups", map[string]any{"name": "Sales", "extension": "300",
		"strategy": "round_robin", "members": []string{accs[0].UserID, accs[1].UserID}, "member_timeout": 10, "timeout": 30,
		"overflow": map[string]any{"type": "voicemail", "id": accs[0].UserID}}, http.StatusCreated, &group); err != nil {
		t.Fatal(err)
	}
	// viaGroup is member reached by dialling the group.
	viaGroup := func(member loadgen.Account) loadgen.Account {
		member.Extension = "300"
		return member
	}
	g, err := loadgen.New(loadgen.Config{Server: c.Edge.SIPAddr})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()

	// Node a is down: the edge tries it first, has no answer and takes
	// the REGISTER to b.
	if err := g.Register(ctx, dev2); err != nil {
		t.Fatal(err)
	}
	if n := counter(t, ctx, b, registrations); n != 1 {
		t.Fatalf("node b counted %v registrations, want 1 (device 2 through the edge)", n)
	}
	// A colleague's busy-lamp key watches device 1's extension; its
	// subscription lands on node b too.
	w := newWatcher(t)
	if err := w.subscribe(ctx, c.Edge.SIPAddr, dev3, dev1.Extension); err != nil {
		t.Fatal(err)
	}
	w.await(t, ctx, "terminated", 20*time.Second)
	if n := counter(t, ctx, b, subscribes); n < 1 {
		t.Fatalf("node b received %v SUBSCRIBEs, want the lamp's (challenged, then authorized)", n)
	}
	if err := c.StartNode(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	waitProbes(t, ctx, a, 2)
	if err := g.Register(ctx, dev1); err != nil {
		t.Fatal(err)
	}
	if na, nb := counter(t, ctx, a, registrations), counter(t, ctx, b, registrations); na != 1 || nb != 1 {
		t.Fatalf("registrations: node a %v, node b %v; want 1 each", na, nb)
	}

	// Both bindings were made through the edge: the nodes reach the
	// devices there (the Path is their Route set, see dialplan.Targets).
	regs, err := b.Server.API().Registrations(ctx, tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range regs {
		if r.Source != c.Edge.SIPAddr {
			t.Errorf("binding of %s from %s, want from the edge %s", r.DeviceID, r.Source, c.Edge.SIPAddr)
		}
	}
	if len(regs) != 2 {
		t.Errorf("%d bindings, want 2", len(regs))
	}

	// A call of device 1 served by node a lights the lamp served by node
	// b (through the user states in the store), and puts it out.
	lit, err := g.Dial(ctx, dev2, dev1)
	if err != nil {
		t.Fatal(err)
	}
	w.await(t, ctx, "confirmed", 20*time.Second)
	if err := lit.Hangup(ctx); err != nil {
		t.Error(err)
	}
	w.await(t, ctx, "terminated", 20*time.Second)
	if n := counter(t, ctx, a, subscribes); n != 0 {
		t.Errorf("node a received %v SUBSCRIBEs, want none: the lamp must be served by b", n)
	}

	// Both calls go to node a, first by priority; it reaches device 2
	// through the Path node b stored.
	call(t, ctx, g, dev1, dev2)
	call(t, ctx, g, dev2, dev1)
	// The group's first call rings its first member.
	call(t, ctx, g, dev3, viaGroup(dev1))
	if n := counter(t, ctx, a, invites); n < 4 {
		t.Errorf("node a received %v INVITEs, want the four calls'", n)
	}
	bInvites := counter(t, ctx, b, invites)
	if bInvites != 0 {
		t.Errorf("node b received %v INVITEs before the fail-over, want none", bInvites)
	}

	// Fail-over: node a dies while idle, once it has written that its
	// users' calls ended (a node killed in a call leaves its users busy
	// for the others until its heartbeat is 15 s old).
	waitIdle(t, ctx, c.DB, "a")
	a.Server.Kill()
	killed := time.Now()
	call(t, ctx, g, dev1, dev2)
	t.Logf("first call after the kill set up by node b %v after it", time.Since(killed).Round(time.Millisecond))
	call(t, ctx, g, dev2, dev1)
	// Node b goes on with the round robin where node a left it: the
	// second member, then the first again. A member rung out of turn
	// would be an INVITE nobody waited for (counted below).
	call(t, ctx, g, dev3, viaGroup(dev2))
	call(t, ctx, g, dev3, viaGroup(dev1))
	if n := counter(t, ctx, b, invites); n < bInvites+4 {
		t.Errorf("node b received %v INVITEs after the fail-over, want at least 4", n-bInvites)
	}
	// Nobody registered again: the bindings stored through a still reach
	// device 1 from b.
	if n := counter(t, ctx, b, registrations); n != 1 {
		t.Errorf("node b counted %v registrations, want still 1: no device registered again", n)
	}
	if n := g.Unexpected(); n != 0 {
		t.Errorf("%d INVITEs reached a device nobody dialled", n)
	}
}

// waitIdle waits until node has written no user state but idle.
func waitIdle(t *testing.T, ctx context.Context, dbURL, node string) {
	t.Helper()
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for {
		var busy int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM user_states WHERE node = $1 AND state <> 'terminated'`, node).Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if busy == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("node %s still has %d users in a call", node, busy)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func tailLines(s string, n int) string {
	lines := splitLines(s)
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := ""
	for _, l := range lines {
		out += l + "\n"
	}
	return out
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}
