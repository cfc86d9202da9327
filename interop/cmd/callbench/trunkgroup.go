package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"pbx/interop"
)

// The trunk-to-group stage: trunk_group_calls_per_second is the setup rate
// of carrier calls (SIPp from the trunk's address 127.0.0.2,
// trunk_call_nomedia.xml) to public numbers, each leading to a call flow
// without a menu (a schedule open all week) and on to a ring-all hunt group
// of three members: one answers at once (uas_call.xml), the other two ring
// until the pbx cancels them (uas_ring_cancel.xml). Each call is four legs
// on the pbx. The calls cycle through trunkGroups groups, so that a member
// who answered is free again (not skipped as busy) when its group's turn
// comes back. The figure is the successful calls per second of the fastest
// run without a single failure.

const trunkGroups = 200

// trunkLab is what the stage provisioned.
type trunkLab struct {
	numbers           []string // national form, one per group
	answerers, ringer []interop.CallAccount
}

func provisionTrunkGroups(ctx context.Context, srv *interop.Server) (*trunkLab, error) {
	api := srv.API()
	tenant, accs, err := api.CreateCallAccounts(ctx, fmt.Sprintf("Callbench trunk %d", time.Now().Unix()), 3*trunkGroups, 16,
		interop.CallAccountNaming{FirstExtension: 500000, FirstName: "Member", EmailPrefix: "m", EmailDomain: "bench.example"})
	if err != nil {
		return nil, err
	}
	var id struct {
		ID string `json:"id"`
	}
	post := func(path string, body any) (string, error) {
		err := api.Do(ctx, "POST", path, body, http.StatusCreated, &id)
		return id.ID, err
	}
	if _, err := post("/api/v1/trunks", map[string]any{"name": "Bench carrier", "host": "127.0.0.2", "port": 5060, "transport": "udp",
		"inbound_sources": []string{"127.0.0.2"}}); err != nil {
		return nil, err
	}
	lab := &trunkLab{}
	base := "/api/v1/tenants/" + tenant.ID
	allWeek := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	for i := range trunkGroups {
		m := accs[3*i : 3*i+3]
		lab.answerers = append(lab.answerers, m[0])
		lab.ringer = append(lab.ringer, m[1], m[2])
		group, err := post(base+"/hunt_groups", map[string]any{"name": fmt.Sprintf("Group %d", i), "strategy": "ring_all",
			"members": []string{m[0].UserID, m[1].UserID, m[2].UserID}, "member_timeout": 10, "timeout": 10,
			"overflow": map[string]any{"type": "voicemail", "id": m[0].UserID}})
		if err != nil {
			return nil, err
		}
		flow, err := post(base+"/call_flows", map[string]any{"name": fmt.Sprintf("Flow %d", i), "start": "hours", "nodes": map[string]any{
			"hours": map[string]any{"type": "schedule", "hours": []any{map[string]any{"days": allWeek, "from": "00:00", "to": "24:00"}},
				"open": "group", "closed": "group"},
			"group": map[string]any{"type": "hunt_group", "id": group},
		}})
		if err != nil {
			return nil, err
		}
		national := fmt.Sprintf("02%07d", 3000000+i)
		if _, err := post(base+"/numbers", map[string]any{"number": "+32" + national[1:],
			"destination": map[string]any{"type": "call_flow", "id": flow}}); err != nil {
			return nil, err
		}
		lab.numbers = append(lab.numbers, national)
	}
	return lab, nil
}

// trunkGroupRate finds the highest carrier call rate to ring-all groups
// without failures.
func trunkGroupRate(ctx context.Context, o options, srv *interop.Server, work string) error {
	if err := interop.RequireSIPp(); err != nil {
		return err
	}
	start := time.Now()
	lab, err := provisionTrunkGroups(ctx, srv)
	if err != nil {
		return fmt.Errorf("provisioning: %w", err)
	}
	logf("%d numbers, flows and ring-all groups of 3 provisioned in %s", trunkGroups, time.Since(start).Round(time.Millisecond))
	dir := filepath.Join(work, "trunk-groups")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	answerPort, err := interop.FreeUDPPort()
	if err != nil {
		return err
	}
	ringPort, err := interop.FreeUDPPort()
	for err == nil && ringPort == answerPort {
		ringPort, err = interop.FreeUDPPort()
	}
	if err != nil {
		return err
	}
	for _, r := range []struct {
		accs []interop.CallAccount
		port int
		name string
	}{{lab.answerers, answerPort, "answer"}, {lab.ringer, ringPort, "ring"}} {
		rdir := filepath.Join(dir, "register-"+r.name)
		if err := os.MkdirAll(rdir, 0o755); err != nil {
			return err
		}
		reg, err := interop.RegisterFromPort(ctx, srv.SIPAddr, rdir, r.accs, r.port, 200)
		if err != nil {
			return err
		}
		if !reg.Clean(len(r.accs)) {
			return fmt.Errorf("registering the members: %s\n%s", reg.Summary(), reg.Diagnostics())
		}
	}
	inf := filepath.Join(dir, "numbers.csv")
	if err := writeNumbers(inf, lab.numbers); err != nil {
		return err
	}
	scen := map[string]string{}
	for _, name := range []string{"trunk_call_nomedia.xml", "uas_call.xml", "uas_ring_cancel.xml"} {
		if scen[name], err = interop.WriteScenario(dir, name); err != nil {
			return err
		}
	}
	best := 0.0
	ran := false
	for _, rate := range o.groupRates {
		if ctx.Err() != nil {
			break
		}
		calls := int(rate * o.rateRun.Seconds())
		stepDir := filepath.Join(dir, fmt.Sprintf("rate-%.0f", rate))
		cpu0, _ := interop.ProcessCPU(srv.Pid)
		uac, answer, ring, err := trunkGroupCalls(ctx, srv, stepDir, scen, inf, answerPort, ringPort, rate, calls)
		cpu1, _ := interop.ProcessCPU(srv.Pid)
		if err != nil {
			logf("trunk groups, rate %.0f/s: %v", rate, err)
			break
		}
		elapsed := uac.Stats.Elapsed.Seconds()
		achieved := float64(uac.Stats.Successful) / elapsed
		logf("trunk groups: offered %.0f calls/s, %d calls: carrier %s; answering members %s; ringing members %s -> %.0f successful calls/s; pbx CPU %.0f%%; mean setup %s",
			rate, calls, uac.Summary(), answer.Summary(), ring.Summary(), achieved, 100*(cpu1-cpu0).Seconds()/elapsed, rtdColumn(uac.Stats, "setup"))
		if !uac.Clean(calls) || !answer.Clean(calls) || !ring.Clean(2*calls) {
			logf("trunk groups, rate %.0f/s had failures: stopping here", rate)
			for _, r := range []*interop.SIPpResult{uac, answer, ring} {
				if d := r.Diagnostics(); d != "" {
					logf("%s", tail(d, 1500))
				}
			}
			break
		}
		ran = true
		best = max(best, achieved)
		if achieved < 0.9*rate {
			logf("trunk groups, rate %.0f/s: no longer keeping pace: stopping here", rate)
			break
		}
	}
	figure("trunk_group_calls_per_second", best, "calls/s")
	if !ran {
		return errors.New("no trunk-to-group call rate ran without failures")
	}
	return nil
}

// trunkGroupCalls runs the ringing members, the answering members and the
// carrier for calls calls.
func trunkGroupCalls(ctx context.Context, srv *interop.Server, dir string, scen map[string]string, inf string, answerPort, ringPort int,
	rate float64, calls int) (uac, answer, ring *interop.SIPpResult, err error) {
	timeout := interop.RunTime(rate, calls) + 30*time.Second
	var mps []int
	for len(mps) < 3 {
		p, err := interop.FreeUDPPort()
		if err != nil {
			return nil, nil, nil, err
		}
		p &^= 1
		if !contains(mps, p) {
			mps = append(mps, p)
		}
	}
	ringDir := filepath.Join(dir, "ring")
	if err := os.MkdirAll(ringDir, 0o755); err != nil {
		return nil, nil, nil, err
	}
	ringer := interop.SIPp{Scenario: scen["uas_ring_cancel.xml"], Target: srv.SIPAddr, Rate: 1, Calls: 2 * calls, Timeout: timeout + 15*time.Second,
		Dir: ringDir, Args: []string{"-p", strconv.Itoa(ringPort), "-mp", strconv.Itoa(mps[0]), "-buff_size", "8388608"}}
	ringCtx, cancelRing := context.WithCancel(ctx)
	defer cancelRing()
	ringDone := make(chan struct{})
	var ringErr error
	go func() {
		defer close(ringDone)
		ring, ringErr = ringer.Run(ringCtx)
	}()
	answerer := interop.SIPp{Scenario: scen["uas_call.xml"], Target: srv.SIPAddr, Rate: 1, Calls: calls, Timeout: timeout + 15*time.Second,
		Args: []string{"-p", strconv.Itoa(answerPort), "-mp", strconv.Itoa(mps[1]), "-buff_size", "8388608"}}
	carrier := interop.LoadRun(interop.SIPp{Scenario: scen["trunk_call_nomedia.xml"], Target: srv.SIPAddr, Injection: inf, LocalIP: "127.0.0.2"},
		rate, calls, 30*time.Second, "-mp", strconv.Itoa(mps[2]), "-d", "100")
	run, err := interop.RunSIPpCalls(ctx, dir, answerer, carrier, timeout+45*time.Second)
	select {
	case <-ringDone:
	case <-time.After(45 * time.Second):
		cancelRing()
		<-ringDone
	}
	if run == nil {
		return nil, nil, nil, err
	}
	if err == nil {
		err = run.UASErr
	}
	if err == nil {
		err = ringErr
	}
	if err == nil && (run.UAS == nil || ring == nil) {
		err = errors.New("a member SIPp left no result")
	}
	return run.UAC, run.UAS, ring, err
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// writeNumbers writes SIPp's injection file of numbers to call, in turn.
func writeNumbers(path string, numbers []string) error {
	b := []byte("SEQUENTIAL\n")
	for _, n := range numbers {
		b = append(b, n+";\n"...)
	}
	return os.WriteFile(path, b, 0o644)
}
