package main

import (
	"context"
	"fmt"
	"time"

	"pbx/calljournal"
)

// startJournal records the calls this node had up when it last stopped
// without ending them, then keeps the journal of the calls it takes, until
// the app's context ends (after the b2bua has hung up its calls, so a clean
// stop leaves no journal row).
func (a *app) startJournal() (*calljournal.Journal, error) {
	j := calljournal.New(a.store, a.cfg.Node, nil, a.log)
	ctx, cancel := context.WithTimeout(a.ctx, 30*time.Second)
	defer cancel()
	cdrs, err := j.Recover(ctx)
	if err != nil {
		return nil, fmt.Errorf("call journal: %w", err)
	}
	if len(cdrs) > 0 {
		a.log.Warn("call records written for calls cut by the last stop", "calls", len(cdrs))
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		j.Run(a.ctx, a.cfg.JournalInterval)
	}()
	return j, nil
}
