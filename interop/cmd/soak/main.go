// Command soak runs the pbx for a long time (default 30 minutes) under a
// moderate, steady mix of everything it does, and fails if what it holds
// keeps growing.
//
// The mix, all through the real protocols: devices refreshing their
// registrations, calls with 20 ms PCMU both ways set up and hung up
// continuously (the Go load generator), busy-lamp (dialog) subscriptions
// refreshed and notified as those calls ring and end, and REST reads. Every
// interval (default a minute) it prints one line: the server's resident
// memory, goroutines, open file descriptors, and the failures of each kind
// so far.
//
// It fails (exit status 1) when a request fails, or when a resource grows
// without bound: the highest value of the last third of the samples is
// compared with the highest of the middle third (the first third is the
// warm-up), and more than 25% plus a floor (16 MiB, 100 goroutines, 50
// descriptors) is growth.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"pbx/interop"
	"pbx/interop/loadgen"
)

type options struct {
	pbx      string
	duration time.Duration
	every    time.Duration
	calls    int
	devices  int
	watchers int
	keep     bool
}

// failures counts what went wrong, by kind.
type failures struct {
	register, call, subscribe, notify, rest atomic.Int64
}

func (f *failures) total() int64 {
	return f.register.Load() + f.call.Load() + f.subscribe.Load() + f.notify.Load() + f.rest.Load()
}

func (f *failures) String() string {
	return fmt.Sprintf("register=%d call=%d subscribe=%d rest=%d", f.register.Load(), f.call.Load(), f.subscribe.Load(), f.rest.Load())
}

func main() {
	var o options
	flag.StringVar(&o.pbx, "pbx", "", "pbx binary (default: build cmd/pbx)")
	flag.DurationVar(&o.duration, "duration", 30*time.Minute, "how long to run")
	flag.DurationVar(&o.every, "every", time.Minute, "interval of the samples")
	flag.IntVar(&o.calls, "calls", 20, "calls up at once")
	flag.IntVar(&o.devices, "devices", 100, "devices refreshing their registrations")
	flag.IntVar(&o.watchers, "watchers", 10, "busy-lamp subscriptions")
	flag.BoolVar(&o.keep, "keep", false, "keep the working directory")
	flag.Parse()
	if o.duration < 3*o.every {
		fmt.Fprintln(os.Stderr, "soak: the duration must hold at least three samples")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, "soak: "+format+"\n", args...) }

func run(ctx context.Context, o options) error {
	work, pbx, cleanup, err := interop.BenchWorkDir(ctx, "soak", o.pbx, o.keep, logf)
	if err != nil {
		return err
	}
	defer cleanup()
	srv, err := interop.StartBenchServer(ctx, pbx, work, []string{"--rtp-ports", "20000-29999", "--log-level", "warn"}, "", logf)
	if err != nil {
		return err
	}
	defer srv.Stop()
	// Callers, callees (registered, called) and the devices that only
	// refresh their registrations.
	tenant, accs, err := srv.API().CreateCallAccounts(ctx, fmt.Sprintf("Soak %d", time.Now().Unix()), 2*o.calls+o.devices, 8,
		interop.CallAccountNaming{FirstExtension: 500000, FirstName: "Soak", EmailPrefix: "s", EmailDomain: "soak.example"})
	if err != nil {
		return err
	}
	g, err := loadgen.New(loadgen.Config{Server: srv.SIPAddr, RegisterExpires: 120})
	if err != nil {
		return err
	}
	defer g.Close()
	var fail failures
	pairs := make([][2]loadgen.Account, o.calls)
	var registered []loadgen.Account
	for i := range o.calls {
		pairs[i] = [2]loadgen.Account{accs[i].Loadgen(), accs[o.calls+i].Loadgen()}
		registered = append(registered, pairs[i][1])
	}
	for _, a := range accs[2*o.calls:] {
		registered = append(registered, a.Loadgen())
	}
	if err := g.RegisterAll(ctx, registered, 8); err != nil {
		return fmt.Errorf("first registrations: %w", err)
	}
	runCtx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	done := make(chan struct{})
	var workers int
	start := func(fn func(context.Context)) {
		workers++
		go func() { defer func() { done <- struct{}{} }(); fn(runCtx) }()
	}
	// Registrations: every device refreshes once a minute, spread out.
	start(func(ctx context.Context) {
		tick := time.NewTicker(time.Minute / time.Duration(len(registered)))
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			rctx, c := context.WithTimeout(ctx, 10*time.Second)
			if err := g.Register(rctx, registered[i%len(registered)]); err != nil && ctx.Err() == nil {
				fail.register.Add(1)
				logf("register: %v", err)
			}
			c()
		}
	})
	// Calls: each pair calls, talks 5 to 15 s, hangs up, waits a second.
	for i := range pairs {
		start(func(ctx context.Context) { callLoop(ctx, g, pairs[i], i, &fail) })
	}
	// Busy lamps on the callees, refreshed every 60 s.
	w, err := newWatchers(srv.SIPAddr, accs[2*o.calls:], pairs, o.watchers)
	if err != nil {
		return err
	}
	defer w.close()
	start(func(ctx context.Context) { w.run(ctx, &fail) })
	// REST reads, five a second.
	start(func(ctx context.Context) { restLoop(ctx, srv, tenant.ID, &fail) })

	var samples []sample
	tick := time.NewTicker(o.every)
	defer tick.Stop()
	began := time.Now()
	for runCtx.Err() == nil {
		select {
		case <-runCtx.Done():
		case <-tick.C:
			s, err := measure(srv)
			if err != nil {
				return err
			}
			samples = append(samples, s)
			fmt.Printf("soak t=%s rss_mib=%.1f goroutines=%d fds=%d calls=%d notifies=%d failures: %s\n",
				time.Since(began).Round(time.Second), float64(s.rss)/(1<<20), s.goroutines, s.fds, callsDone.Load(), w.notifies.Load(), &fail)
		}
	}
	for range workers {
		<-done
	}
	hctx, hc := context.WithTimeout(context.Background(), 30*time.Second)
	defer hc()
	loadgen.HangupAll(hctx, g.Calls(), 10)
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	var errs []error
	if n := fail.total(); n > 0 {
		errs = append(errs, fmt.Errorf("%d failures: %s", n, &fail))
	}
	if callsDone.Load() == 0 || w.notifies.Load() == 0 {
		errs = append(errs, fmt.Errorf("no traffic: %d calls, %d busy-lamp notifications", callsDone.Load(), w.notifies.Load()))
	}
	errs = append(errs, growth(samples)...)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Println("soak passed")
	return nil
}

// callsDone counts the calls that went through a whole cycle.
var callsDone atomic.Int64

func callLoop(ctx context.Context, g *loadgen.Generator, pair [2]loadgen.Account, i int, fail *failures) {
	talk := 5*time.Second + time.Duration(i%11)*time.Second
	for ctx.Err() == nil {
		dctx, c := context.WithTimeout(ctx, 20*time.Second)
		call, err := g.Dial(dctx, pair[0], pair[1])
		c()
		if err != nil {
			if ctx.Err() == nil {
				fail.call.Add(1)
				logf("call %d: %v", i, err)
			}
			sleep(ctx, 5*time.Second)
			continue
		}
		sleep(ctx, talk)
		hctx, hc := context.WithTimeout(context.Background(), 20*time.Second)
		if err := call.Hangup(hctx); err != nil {
			fail.call.Add(1)
			logf("hang up %d: %v", i, err)
		} else {
			callsDone.Add(1)
		}
		hc()
		sleep(ctx, time.Second)
	}
}

func restLoop(ctx context.Context, srv *interop.Server, tenantID string, fail *failures) {
	api := srv.API()
	paths := []string{"/api/v1/tenants/" + tenantID + "/registrations", "/api/v1/tenants/" + tenantID + "/cdrs?limit=50",
		"/api/v1/tenants/" + tenantID + "/users", "/api/v1/tenants/" + tenantID}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		rctx, c := context.WithTimeout(ctx, 10*time.Second)
		var out any
		if err := api.Do(rctx, "GET", paths[i%len(paths)], nil, 200, &out); err != nil && ctx.Err() == nil {
			fail.rest.Add(1)
			logf("rest: %v", err)
		}
		c()
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
