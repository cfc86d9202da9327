package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"pbx/features/recording"
	"pbx/prompts"
	"pbx/recordings"
)

// How often recordings are purged and exported. Retention counts in days:
// a purge a few minutes late keeps nothing longer than promised by more
// than that; exports retry on their own back-off.
const (
	recordingPurgeEvery  = 5 * time.Minute
	recordingExportEvery = 30 * time.Second
)

// recordingParts are call recording's pieces: the capture the dialplan
// calls on bridges, and the files' library, exporter and REST side.
type recordingParts struct {
	capture  *recording.Service
	library  *recordings.Library
	exporter *recordings.Exporter
	admin    *recordings.Admin
}

// setupRecording repairs the recordings a crash left unfinished (before
// any call can start one) and gives the dialplan its recorder.
func (a *app) setupRecording(c *calls) error {
	lib := &recordings.Library{Store: a.store, Dir: filepath.Join(a.cfg.DataDir, "recordings"), Logger: a.log}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := lib.Repair(ctx)
	if n > 0 {
		a.log.Info("recordings: unfinished recordings repaired after a crash", "count", n)
	}
	if err != nil {
		// A file we cannot read must not keep the node down; its row
		// stays unfinished for someone to look at.
		a.log.Error("recordings: repair", "error", fmt.Sprint(err))
	}
	svc := &recording.Service{Store: a.store, Files: lib, Logger: a.log}
	if a.cfg.Prompts != "" {
		svc.Prompts = &prompts.Library{Dir: a.cfg.Prompts}
	}
	c.plan.Recorder = svc
	c.rec = &recordingParts{capture: svc, library: lib, exporter: &recordings.Exporter{Library: lib, Logger: a.log},
		admin: &recordings.Admin{Library: lib, Admin: a.store}}
	return nil
}

// startRecordingJobs purges expired recordings and exports the tenants'.
func (a *app) startRecordingJobs() {
	r := a.calls.rec
	a.every(recordingPurgeEvery, "purge recordings", func(ctx context.Context) error {
		_, err := r.library.Purge(ctx)
		return err
	})
	a.every(recordingExportEvery, "export recordings", func(ctx context.Context) error {
		_, err := r.exporter.RunOnce(ctx)
		return err
	})
}
