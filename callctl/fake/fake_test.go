package fake

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"pbx/callctl"
)

const patience = 10 * time.Second

func dest(tag string) callctl.Destination {
	return callctl.Destination{Targets: []callctl.Target{{URI: "sip:" + tag + "@192.0.2.1"}}, Callee: callctl.Party{Number: tag}, Tag: tag}
}

func TestDialOutcomes(t *testing.T) {
	ctx := context.Background()
	trunk503 := Outcome{Cause: callctl.CauseFailure, Status: 503}
	for _, tc := range []struct {
		name     string
		script   map[string]Outcome
		strategy callctl.Strategy
		stopOn   func(int) bool
		dests    []string
		winner   string // "" : fails with cause
		cause    callctl.Cause
	}{
		{name: "default answers", dests: []string{"a", "b"}, winner: "a"},
		{name: "first answering wins", script: map[string]Outcome{"a": Busy}, dests: []string{"a", "b"}, winner: "b"},
		{name: "busy beats no answer", script: map[string]Outcome{"a": NoAnswer, "b": Busy}, dests: []string{"a", "b"}, cause: callctl.CauseBusy},
		{name: "sequential moves on after 503", script: map[string]Outcome{"a": trunk503}, strategy: callctl.Sequential,
			stopOn: callctl.TrunkFailover, dests: []string{"a", "b"}, winner: "b"},
		{name: "sequential stops on 486", script: map[string]Outcome{"a": Busy}, strategy: callctl.Sequential,
			stopOn: callctl.TrunkFailover, dests: []string{"a", "b"}, cause: callctl.CauseBusy},
		{name: "hunt moves on after 486", script: map[string]Outcome{"a": Busy}, strategy: callctl.Sequential, dests: []string{"a", "b"}, winner: "b"},
		{name: "nothing to ring", dests: nil, cause: callctl.CauseUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCall(callctl.Origin{Kind: callctl.OriginDevice}, "200")
			defer c.End()
			for tag, o := range tc.script {
				c.Script(tag, o)
			}
			spec := callctl.DialSpec{Strategy: tc.strategy, StopOn: tc.stopOn}
			for _, d := range tc.dests {
				spec.Destinations = append(spec.Destinations, dest(d))
			}
			res, err := c.Dial(ctx, spec).Wait(ctx)
			if tc.winner != "" {
				if err != nil || res.Tag != tc.winner || res.Leg.Remote().Number != tc.winner || res.Leg.State() != callctl.LegAnswered {
					t.Fatalf("result %+v, %v; want %s", res, err, tc.winner)
				}
				if ans := c.Answered(); len(ans) != 1 || callctl.Leg(ans[0]) != res.Leg {
					t.Fatalf("answered legs %v", ans)
				}
				return
			}
			if callctl.CauseOf(err) != tc.cause {
				t.Fatalf("result %+v, %v; want %s", res, err, tc.cause)
			}
		})
	}
}

func TestDialCancelAndCallerGone(t *testing.T) {
	ctx := context.Background()
	c := NewCall(callctl.Origin{}, "200")
	d := c.Dial(ctx, callctl.DialSpec{Destinations: []callctl.Destination{dest("a")}})
	d.Cancel(callctl.CauseAnsweredElsewhere)
	if _, err := d.Wait(ctx); callctl.CauseOf(err) != callctl.CauseAnsweredElsewhere {
		t.Fatalf("cancelled dial: %v", err)
	}
	picker := NewLeg(true, callctl.Party{Number: "203"})
	d = c.Dial(ctx, callctl.DialSpec{Destinations: []callctl.Destination{dest("a")}})
	if err := d.Add(dest("b")); err != nil {
		t.Fatal(err)
	}
	if err := d.PickUp(picker); err != nil {
		t.Fatal(err)
	}
	if res, err := d.Wait(ctx); err != nil || !res.PickedUp || res.Leg != picker {
		t.Fatalf("picked up: %+v %v", res, err)
	}
	if got := c.Dials()[1].Destinations; len(got) != 2 {
		t.Fatalf("added destination not recorded: %v", got)
	}
	c.InboundLeg().RemoteHangup(callctl.CauseCancelled)
	if _, err := c.Dial(ctx, callctl.DialSpec{Destinations: []callctl.Destination{dest("a")}}).Wait(ctx); callctl.CauseOf(err) != callctl.CauseCancelled {
		t.Fatalf("dial of a gone caller: %v", err)
	}
	c.End()
	if c.Context().Err() == nil {
		t.Fatal("context alive after End")
	}
}

func waitDone(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(patience):
		t.Fatalf("%s: not done", what)
	}
}

func TestBridge(t *testing.T) {
	c := NewCall(callctl.Origin{}, "200")
	defer c.End()
	t.Run("one leg ending hangs up the other", func(t *testing.T) {
		a, b := NewLeg(true, callctl.Party{}), NewLeg(false, callctl.Party{})
		br, err := c.Bridge(a, b, callctl.BridgeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b.RemoteHangup(callctl.CauseBusy)
		waitDone(t, br.Done(), "bridge")
		if rem, err := br.Wait(context.Background()); rem != nil || err != nil || !slices.Equal(a.Hangups(), []callctl.Cause{callctl.CauseBusy}) {
			t.Fatalf("remaining %v, %v; a hung up with %v", rem, err, a.Hangups())
		}
	})
	t.Run("keep remaining", func(t *testing.T) {
		a, b := NewLeg(true, callctl.Party{}), NewLeg(false, callctl.Party{})
		br, _ := c.Bridge(a, b, callctl.BridgeOptions{KeepRemaining: true})
		b.RemoteHangup(callctl.CauseNormal)
		if rem, err := br.Wait(context.Background()); rem != callctl.Leg(a) || err != nil || len(a.Hangups()) != 0 {
			t.Fatalf("remaining %v, %v; a hung up with %v", rem, err, a.Hangups())
		}
	})
	t.Run("replace", func(t *testing.T) {
		a, b, n := NewLeg(true, callctl.Party{}), NewLeg(false, callctl.Party{}), NewLeg(false, callctl.Party{})
		br, _ := c.Bridge(a, b, callctl.BridgeOptions{})
		if err := br.Replace(b, n); err != nil {
			t.Fatal(err)
		}
		b.RemoteHangup(callctl.CauseNormal) // gone from the bridge: no effect
		n.RemoteHangup(callctl.CauseNoAnswer)
		waitDone(t, br.Done(), "bridge")
		if !slices.Equal(a.Hangups(), []callctl.Cause{callctl.CauseNoAnswer}) || len(br.(*Bridge).Replaced()) != 1 {
			t.Fatalf("a hung up with %v", a.Hangups())
		}
	})
	t.Run("unbridge and record", func(t *testing.T) {
		a, b := NewLeg(true, callctl.Party{}), NewLeg(false, callctl.Party{})
		br, _ := c.Bridge(a, b, callctl.BridgeOptions{})
		rec, err := br.Record(context.Background(), nil, callctl.RecordSpec{Max: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		br.Unbridge()
		waitDone(t, rec.Done(), "recording")
		if rec.Result().Stop != callctl.RecordHangup || len(a.Hangups())+len(b.Hangups()) != 0 || !br.(*Bridge).Unbridged() {
			t.Fatalf("after Unbridge: %+v, hangups %v %v", rec.Result(), a.Hangups(), b.Hangups())
		}
	})
	if _, err := c.Bridge(c.Inbound(), c.Inbound(), callctl.BridgeOptions{}); err == nil {
		t.Fatal("a leg bridged with itself")
	}
}

// Digits typed are kept for the next Prompt and come out as events, in
// order; the hang-up event is the last and closes the stream.
func TestLegDigitsAndEvents(t *testing.T) {
	l := NewLeg(true, callctl.Party{})
	l.Type("12#3")
	ctx := context.Background()
	res, err := l.Prompt(ctx, callctl.PromptSpec{MaxDigits: 5, Terminators: "#"})
	if err != nil || res.Digits != "12" || res.Terminator != '#' || res.TimedOut {
		t.Fatalf("first prompt %+v %v", res, err)
	}
	if res, _ := l.Prompt(ctx, callctl.PromptSpec{MaxDigits: 2}); res.Digits != "3" || !res.TimedOut {
		t.Fatalf("second prompt %+v", res)
	}
	l.Type("9")
	if res, _ := l.Prompt(ctx, callctl.PromptSpec{MaxDigits: 1, Flush: true}); res.Digits != "" || !res.TimedOut {
		t.Fatalf("flushed prompt %+v", res)
	}
	if err := l.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	l.Emit(callctl.Event{Kind: callctl.EventHold})
	l.RemoteHangup(callctl.CauseNormal)
	var got string
	for ev := range l.Events() {
		if ev.Kind == callctl.EventDTMF {
			got += string(ev.Digit)
		} else {
			got += "<" + ev.Kind.String() + ">"
		}
	}
	if got != "12#39<answer><hold><hangup>" {
		t.Fatalf("events %s", got)
	}
	if _, err := l.Prompt(ctx, callctl.PromptSpec{}); !errors.Is(err, callctl.ErrLegEnded) || len(l.Prompts()) != 3 {
		t.Fatalf("prompt on an ended leg: %v", err)
	}
}

func TestTransfer(t *testing.T) {
	c := NewCall(callctl.Origin{}, "201")
	defer c.End()
	transferor := NewLeg(false, callctl.Party{Number: "201"})
	tr := NewTransfer(c, transferor, c.Inbound(), "202")
	target := NewLeg(false, callctl.Party{Number: "202"})
	if err := tr.Complete(target); err != nil || tr.Completed() != callctl.Leg(target) {
		t.Fatalf("complete: %v", err)
	}
	if !slices.Equal(transferor.Hangups(), []callctl.Cause{callctl.CauseTransferred}) {
		t.Fatalf("transferor hung up with %v", transferor.Hangups())
	}
	tr.Fail(callctl.CauseBusy) // too late: ignored
	if tr.Failed() != "" || tr.Complete(target) == nil {
		t.Fatal("a finished transfer changed")
	}
}
