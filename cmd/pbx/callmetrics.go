package main

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"pbx/store"
)

// registerCallMetrics exposes the state of the b2bua and the media engine as
// gauges read when /metrics is scraped: nothing is counted on the packet path.
func (a *app) registerCallMetrics(c *calls) error {
	gauges := []struct {
		name, help string
		value      func() float64
	}{
		{"pbx_calls_active", "Calls in progress (ringing or answered).", func() float64 { return float64(c.b2bua.Stats().Calls) }},
		{"pbx_call_legs_active", "SIP dialogs of calls in progress.", func() float64 { return float64(c.b2bua.Stats().Legs) }},
		{"pbx_media_sessions_active", "Media sessions (one per call leg) open in the engine.", func() float64 { return float64(c.engine.Stats().Sessions) }},
		{"pbx_rtp_ports_in_use", "RTP and RTCP ports held by media sessions.", func() float64 { return float64(c.engine.Stats().PortsInUse) }},
		{"pbx_rtp_ports_resting", "Released RTP and RTCP ports waiting before reuse.", func() float64 { return float64(c.engine.Stats().PortsResting) }},
		{"pbx_rtp_ports_free", "RTP and RTCP ports available to new calls.", func() float64 { return float64(c.engine.Stats().PortsFree) }},
		{"pbx_music_streams_active", "Hold-music classes currently streaming (one per class, whatever the number of listeners).", func() float64 { return float64(c.engine.Stats().MusicStreams) }},
	}
	for _, g := range gauges {
		if err := a.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: g.name, Help: g.help}, g.value)); err != nil {
			return err
		}
	}
	return nil
}

// countingCDRs writes call records and counts them by disposition and
// hang-up cause.
type countingCDRs struct {
	st    *store.Store
	calls *prometheus.CounterVec
}

func newCountingCDRs(st *store.Store, reg prometheus.Registerer) (*countingCDRs, error) {
	c := &countingCDRs{st: st, calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pbx_calls_total",
		Help: "Finished calls by disposition and hang-up cause (one per call detail record)."}, []string{"disposition", "cause"})}
	return c, reg.Register(c.calls)
}

// InsertCDR writes r. A carrier's call that no tenant took (a number
// nobody holds, refused 404) belongs to no tenant: it is counted, and the
// dialplan logged it, but no tenant's records list it.
func (c *countingCDRs) InsertCDR(ctx context.Context, r store.CDR) (store.CDR, error) {
	c.calls.WithLabelValues(r.Disposition, r.HangupCause).Inc()
	if r.TenantID == "" {
		return r, nil
	}
	return c.st.InsertCDR(ctx, r)
}
