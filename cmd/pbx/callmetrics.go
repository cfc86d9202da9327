package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"pbx/media"
	"pbx/store"
)

// registerCallMetrics exposes the state of the b2bua and the media engine as
// gauges and counters read when /metrics is scraped: nothing is counted on
// the packet path (each media session keeps its own counters, summed here).
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
	counters := []struct {
		name, help, dir string
		value           func(media.Traffic) uint64
	}{
		{"pbx_rtp_packets_total", "RTP packets received from phones and carriers (in) and sent to them (out).", "in", func(t media.Traffic) uint64 { return t.PacketsIn }},
		{"pbx_rtp_packets_total", "RTP packets received from phones and carriers (in) and sent to them (out).", "out", func(t media.Traffic) uint64 { return t.PacketsOut }},
		{"pbx_rtp_bytes_total", "Bytes of the RTP datagrams received (in) and sent (out).", "in", func(t media.Traffic) uint64 { return t.BytesIn }},
		{"pbx_rtp_bytes_total", "Bytes of the RTP datagrams received (in) and sent (out).", "out", func(t media.Traffic) uint64 { return t.BytesOut }},
	}
	for _, m := range counters {
		value := m.value
		f := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: m.name, Help: m.help, ConstLabels: prometheus.Labels{"direction": m.dir}},
			func() float64 { return float64(value(c.engine.Traffic())) })
		if err := a.reg.Register(f); err != nil {
			return err
		}
	}
	return nil
}

// countingCDRs writes call records, counts them by disposition and
// hang-up cause, observes the quality of their legs and logs each call.
type countingCDRs struct {
	st                *store.Store
	log               *slog.Logger
	calls             *prometheus.CounterVec
	loss, jitter, mos prometheus.Histogram
}

func newCountingCDRs(st *store.Store, reg prometheus.Registerer, log *slog.Logger) (*countingCDRs, error) {
	c := &countingCDRs{st: st, log: log,
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pbx_calls_total",
			Help: "Finished calls by disposition and hang-up cause (one per call detail record)."}, []string{"disposition", "cause"}),
		loss: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "pbx_call_leg_loss_percent",
			Help:    "RTP packet loss of each call leg with media, in percent of the packets its phone sent.",
			Buckets: []float64{0, 0.1, 0.5, 1, 2, 5, 10, 20, 50}}),
		jitter: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "pbx_call_leg_jitter_ms",
			Help:    "RTP interarrival jitter (RFC 3550) of each call leg with media, in milliseconds.",
			Buckets: []float64{1, 2, 5, 10, 20, 40, 80, 160}}),
		mos: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "pbx_call_leg_mos",
			Help:    "Estimated mean opinion score (E-model, 1-4.5) of each call leg with media.",
			Buckets: []float64{1.5, 2, 2.5, 3, 3.5, 3.8, 4, 4.2, 4.4}}),
	}
	for _, m := range []prometheus.Collector{c.calls, c.loss, c.jitter, c.mos} {
		if err := reg.Register(m); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// InsertCDR writes r. A carrier's call that no tenant took (a number
// nobody holds, refused 404) belongs to no tenant: it is counted, and the
// dialplan logged it, but no tenant's records list it.
func (c *countingCDRs) InsertCDR(ctx context.Context, r store.CDR) (store.CDR, error) {
	c.calls.WithLabelValues(r.Disposition, r.HangupCause).Inc()
	for _, q := range []store.LegQuality{r.CallerQuality, r.CalleeQuality} {
		if q.MOS > 0 {
			c.loss.Observe(q.LossPercent)
			c.jitter.Observe(q.JitterMS)
			c.mos.Observe(q.MOS)
		}
	}
	c.logCall(r)
	if r.TenantID == "" {
		return r, nil
	}
	return c.st.InsertCDR(ctx, r)
}

// logCall is the one line an operator reads per finished call.
func (c *countingCDRs) logCall(r store.CDR) {
	attrs := []any{"call_id", r.CallID, "tenant", r.TenantID, "from", r.Caller, "to", r.Callee,
		"duration_s", int(r.End.Sub(r.Start).Seconds() + 0.5), "billable_s", r.BillableSeconds,
		"disposition", r.Disposition, "cause", r.HangupCause}
	for _, leg := range []struct {
		name string
		q    store.LegQuality
	}{{"caller", r.CallerQuality}, {"callee", r.CalleeQuality}} {
		if leg.q.MOS > 0 {
			attrs = append(attrs, slog.Group(leg.name+"_quality", "loss_percent", round2(leg.q.LossPercent),
				"jitter_ms", round2(leg.q.JitterMS), "mos", round2(leg.q.MOS)))
		}
	}
	c.log.Info("call ended", attrs...)
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }
