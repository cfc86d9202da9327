package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"pbx/interop"
)

// stage names what a concurrent-calls run measures and the figures it
// prints.
type stage struct {
	log      string // prefix of its progress lines
	calls    string // figure: the largest clean step
	cpu      string // figure: server CPU per packet sent by the generator
	recorded bool
}

var (
	relayedStage  = stage{calls: "concurrent_relayed_calls", cpu: "cpu_per_relayed_packet"}
	recordedStage = stage{log: "recorded ", calls: "concurrent_recorded_calls", cpu: "cpu_per_recorded_packet", recorded: true}
)

// recordedCalls runs the concurrent-calls steps on calls that are
// recorded: a tenant of their own whose callers' policy is "always", no
// announcement (the generator's audio starts at once). Its CPU per packet
// compares with the relayed stage's: the difference is what recording
// costs; the relayed calls, recorded by nobody, pay nothing for it.
func recordedCalls(ctx context.Context, o options, srv *interop.Server) error {
	n := o.recordedSteps[len(o.recordedSteps)-1]
	start := time.Now()
	ten, accs, err := srv.API().CreateCallAccounts(ctx, fmt.Sprintf("Recorded %d", time.Now().Unix()), 2*n, 16,
		interop.CallAccountNaming{FirstExtension: 500000, FirstName: "Rec", EmailPrefix: "r", EmailDomain: "bench.example"})
	if err != nil {
		return fmt.Errorf("provisioning: %w", err)
	}
	callers, callees := accs[:n], accs[n:]
	if err := setPolicies(ctx, srv, ten.ID, callers, "always"); err != nil {
		return err
	}
	logf("%d recorded callers and their callees provisioned in %s", n, time.Since(start).Round(time.Millisecond))
	return concurrentCalls(ctx, o.recordedSteps, o, srv, callers, callees, recordedStage)
}

// setPolicies sets the recording policy of the accounts' licences.
func setPolicies(ctx context.Context, srv *interop.Server, tenantID string, accs []interop.CallAccount, mode string) error {
	api := srv.API()
	var wg sync.WaitGroup
	errs := make(chan error, len(accs))
	sem := make(chan struct{}, 16)
	for _, a := range accs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs <- api.Do(ctx, "PATCH", "/api/v1/tenants/"+tenantID+"/users/"+a.UserID, map[string]string{"recording": mode}, http.StatusOK, nil)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return fmt.Errorf("recording policy: %w", err)
		}
	}
	return nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
