package callflow

import (
	"context"
	"io"
	"testing"
	"time"

	"pbx/callctl"
	"pbx/callctl/fake"
	"pbx/media"
)

type audioStore map[string]bool

type silentClip struct{}

func (silentClip) ReadFrame([]int16) error { return io.EOF }

func (a audioStore) Open(_ context.Context, tenant, id string) (media.Source, error) {
	if !a[tenant+"/"+id] {
		return nil, ErrNotFound
	}
	return silentClip{}, nil
}

func TestRunOnACall(t *testing.T) {
	g := mustParse(t, office)
	at := brussels(t, "2026-12-02 09:00")
	call := fake.NewCall(callctl.Origin{Kind: callctl.OriginTrunk}, "+3221234567")
	leg := call.InboundLeg()
	leg.Type("2")
	path, dest, err := Run(context.Background(), leg, "t1", g, "", audioStore{"t1/a1": true, "t1/a2": true}, func() time.Time { return at })
	if err != nil || dest != (Destination{Type: TypeExternal, Number: "+3221234567"}) || len(path) != 4 {
		t.Fatalf("path %v dest %+v err %v", path, dest, err)
	}
	if !leg.Answered() || len(leg.Plays()) != 1 || len(leg.Prompts()) != 1 {
		t.Fatalf("answered %v plays %d prompts %d", leg.Answered(), len(leg.Plays()), len(leg.Prompts()))
	}
	if p := leg.Prompts()[0]; p.MaxDigits != 1 || p.FirstDigit != 4*time.Second || len(p.Audio) != 1 {
		t.Errorf("menu prompt %+v", p)
	}
	// Another tenant's audio is not found: the walk stops with the error.
	call = fake.NewCall(callctl.Origin{Kind: callctl.OriginTrunk}, "+3221234567")
	if _, _, err := Run(context.Background(), call.InboundLeg(), "t2", g, "", audioStore{"t1/a1": true}, func() time.Time { return at }); err == nil {
		t.Fatal("another tenant's audio played")
	}
}

func TestRunLeavesTheAnswerToTheDestination(t *testing.T) {
	g := mustParse(t, `{"name":"x","start":"s","nodes":{"s":{"type":"schedule","hours":[{"days":["mon","tue","wed","thu","fri","sat","sun"],"from":"00:00","to":"24:00"}],"open":"u","closed":"u"},"u":{"type":"user","id":"u1"}}}`)
	call := fake.NewCall(callctl.Origin{Kind: callctl.OriginTrunk}, "+3221234567")
	_, dest, err := Run(context.Background(), call.InboundLeg(), "t1", g, "", audioStore{}, nil)
	if err != nil || dest.Type != TypeUser || call.InboundLeg().Answered() {
		t.Fatalf("dest %+v err %v answered %v", dest, err, call.InboundLeg().Answered())
	}
}
