package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"pbx/features/voicemail"
)

// setupVoicemail creates the voicemail service, makes messages of the
// recordings a crash cut short (before any call can start a new one), and
// gives the dialplan its voicemail.
func (a *app) setupVoicemail(c *calls) error {
	svc := &voicemail.Service{Store: a.store, Dir: filepath.Join(a.cfg.DataDir, "voicemail"), Logger: a.log}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := svc.Recover(ctx)
	if n > 0 {
		a.log.Info("voicemail: messages recovered after a crash", "count", n)
	}
	if err != nil {
		// A file we cannot read must not keep the node down; it stays
		// where it is for someone to look at.
		a.log.Error("voicemail: recovery", "error", fmt.Sprint(err))
	}
	c.voicemail = svc
	if a.cfg.Voicemail {
		c.plan.Voicemail = svc
	}
	return nil
}
