package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"pbx/sip/trunkreg"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"pbx/features/campaign"
	"pbx/features/messages"
	"pbx/push"
	"pbx/sip/registrar"
	"pbx/sip/sipauth"
	"pbx/sip/sipserver"
	"pbx/store"
	"pbx/webhook"
)

// app is one running softswitch.
type app struct {
	cfg   config
	log   *slog.Logger
	store *store.Store
	reg   *prometheus.Registry
	sip   *sipserver.Server
	regis *registrar.Registrar
	guard *sipauth.Guard
	auth  *sipauth.Authenticator
	tls   *tls.Config

	nonceKey  []byte
	calls     *calls
	trunkReg  *trunkreg.Registrations // nil until start
	push      push.Senders            // the push services configured
	sms       *messages.SMS           // the tenants' SMS
	webhooks  *webhook.Sender         // the tenants' webhooks (emergency calls)
	campaigns *campaign.Scheduler     // nil until start

	httpSrv  *http.Server
	httpLn   net.Listener
	httpsSrv *http.Server
	httpsLn  net.Listener

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closeMu sync.Once
	// goMu guards closing: goroutines started by handlers that may still
	// run while the app closes (goBackground) are not started once close
	// waits for the others.
	goMu     sync.Mutex
	closing  bool
	closeErr error
}

func newApp(ctx context.Context, cfg config, log *slog.Logger) (*app, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	if cfg.getenv == nil {
		cfg.getenv = func(string) string { return "" }
	}
	secretKey, err := nodeKey(cfg.getenv, "PBX_SECRET_KEY", cfg.DataDir, "secret.key")
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	nonceKey, err := nodeKey(cfg.getenv, "PBX_NONCE_KEY", cfg.DataDir, "nonce.key")
	if err != nil {
		return nil, fmt.Errorf("nonce key: %w", err)
	}
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(cfg.DataDir, "pbx.db"), URL: cfg.DB, SecretKey: secretKey})
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log, store: st, reg: prometheus.NewRegistry()}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	publicHost := cfg.PublicAddr
	if publicHost == "" {
		publicHost, _, _ = net.SplitHostPort(cfg.SIPAddr)
		if publicHost == "" || publicHost == "0.0.0.0" || publicHost == "::" {
			publicHost = "127.0.0.1"
		}
	}
	if cfg.SIPTLSAddr != "" || cfg.HTTPSAddr != "" {
		cert, err := loadOrCreateCert(cfg.TLSCert, cfg.TLSKey, cfg.DataDir, []string{publicHost})
		if err != nil {
			a.close()
			return nil, fmt.Errorf("tls certificate: %w", err)
		}
		a.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	a.guard = newGuard(cfg, log)
	a.sip, err = sipserver.New(sipserver.Config{Addr: cfg.SIPAddr, TLSAddr: cfg.SIPTLSAddr, TLSConfig: a.tls,
		PublicHost: publicHost, Logger: log, Registerer: a.reg, Blocked: a.guard.RateBanned, OutOfDialog: a.guard.Request})
	if err != nil {
		a.close()
		return nil, err
	}
	a.nonceKey = nonceKey
	a.auth = sipauth.NewAuthenticator(nonceKey)
	a.auth.Algorithms = cfg.Digest
	if err := a.loadDigestPolicies(ctx); err != nil {
		a.close()
		return nil, err
	}
	a.guard.OnBan = func(kind, _ string) { a.sip.Metrics.Bans.WithLabelValues(kind).Inc() }
	if a.push, err = pushSenders(cfg.Push, cfg.DataDir); err != nil {
		a.close()
		return nil, err
	}
	m := a.sip.Metrics
	a.regis = registrar.New(st, a.auth, a.guard, registrar.Config{MinExpires: cfg.MinExpires, MaxExpires: cfg.MaxExpires, PushProviders: a.push.Providers(),
		TrustedProxies: cfg.TrustedProxies}, log,
		registrar.Metrics{Registered: m.Registrations.Inc, Unregistered: m.Unregistrations.Inc,
			AuthFailure: func(r string) { m.AuthFailures.WithLabelValues(r).Inc() }})
	a.sip.Handle(sip.REGISTER, a.regis.HandleRegister)
	a.guard.Exempt = a.exemptSource
	if err := a.setupCalls(); err != nil {
		a.close()
		return nil, err
	}

	if cfg.Demo {
		if err := seedDemo(ctx, a, os.Stdout); err != nil {
			a.close()
			return nil, fmt.Errorf("demo tenant: %w", err)
		}
	}
	if err := a.bootstrapToken(ctx, os.Stdout); err != nil {
		a.close()
		return nil, err
	}
	a.httpSrv = &http.Server{ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	return a, nil
}

func (a *app) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.store.Ping(ctx); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}))
	if a.cfg.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	a.mountHTTP(mux)
	return mux
}

// loadDigestPolicies gives the authenticator every tenant's own digest
// algorithms (store.Tenant.SIPDigest).
func (a *app) loadDigestPolicies(ctx context.Context) error {
	m, err := a.store.DigestPolicies(ctx)
	if err != nil {
		return fmt.Errorf("digest policies: %w", err)
	}
	realms := make(map[string][]string, len(m))
	for domain, s := range m {
		algs, err := sipauth.ParseAlgorithms(s)
		if err != nil {
			a.log.Error("tenant digest algorithms ignored", "domain", domain, "error", err)
			continue
		}
		realms[domain] = algs
	}
	a.auth.SetRealmAlgorithms(realms)
	return nil
}

// start binds every listener and starts the background jobs.
func (a *app) start() error {
	if err := a.sip.Start(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("http listen %s: %w", a.cfg.HTTPAddr, err)
	}
	a.httpLn = ln
	a.startTrunkReg()
	a.startWebhooks()
	a.startCampaigns()
	a.startRecordingJobs()
	if a.cfg.HTTPSAddr != "" {
		ln, err := tls.Listen("tcp", a.cfg.HTTPSAddr, a.tls)
		if err != nil {
			return fmt.Errorf("https listen %s: %w", a.cfg.HTTPSAddr, err)
		}
		a.httpsLn = ln
		a.httpsSrv = &http.Server{ReadHeaderTimeout: 10 * time.Second}
	}
	// The handlers need the bound addresses (provisioning hands them out).
	a.httpSrv.Handler = a.httpHandler()
	a.goServe(a.httpSrv, a.httpLn)
	if a.httpsSrv != nil {
		a.httpsSrv.Handler = a.httpSrv.Handler
		a.goServe(a.httpsSrv, a.httpsLn)
	}
	a.every(30*time.Second, "expire bindings", func(ctx context.Context) error {
		_, err := a.regis.SweepExpired(ctx)
		return err
	})
	if a.cfg.NATPing > 0 {
		a.every(a.cfg.NATPing, "nat keepalive", func(ctx context.Context) error {
			targets, err := registrar.KeepaliveTargets(ctx, a.store, time.Now())
			if err == nil {
				a.sip.SendKeepalives(targets)
			}
			return err
		})
	}
	// Tenants' own digest algorithms: reloaded at once when the API changes
	// a tenant, and periodically for changes made by another node.
	a.every(10*time.Second, "digest policies", a.loadDigestPolicies)
	a.every(10*time.Second, "expire subscriptions", func(context.Context) error {
		a.calls.presence.Sweep(time.Now())
		return nil
	})
	if l := a.calls.lamps; l != nil {
		a.every(200*time.Millisecond, "publish busy lamp states", l.flush)
		a.every(500*time.Millisecond, "read busy lamp states", l.poll)
		a.every(time.Hour, "sweep busy lamp states", l.sweep)
	}
	a.every(time.Minute, "reactivate licences", func(ctx context.Context) error {
		n, err := a.store.ReactivateExpired(ctx, time.Now())
		if n > 0 {
			a.log.Info("suspended licences reactivated", "count", n)
		}
		return err
	})
	db := filepath.Join(a.cfg.DataDir, "pbx.db")
	if a.cfg.DB != "" {
		db = store.RedactURL(a.cfg.DB)
	}
	attrs := []any{"db", db, "http", a.httpLn.Addr().String()}
	for _, l := range []struct {
		name string
		addr net.Addr
	}{{"sip", a.sip.Addr("udp")}, {"sip_tls", a.sip.Addr("tls")}} {
		if l.addr != nil {
			attrs = append(attrs, l.name, l.addr.String())
		}
	}
	if a.httpsLn != nil {
		attrs = append(attrs, "https", a.httpsLn.Addr().String())
	}
	a.log.Info("pbx serving", attrs...)
	return nil
}

func (a *app) goServe(s *http.Server, ln net.Listener) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := s.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("http server", "error", err)
		}
	}()
}

func (a *app) every(d time.Duration, name string, fn func(context.Context) error) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-a.ctx.Done():
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(a.ctx, d)
				if err := fn(ctx); err != nil && a.ctx.Err() == nil {
					a.log.Error("background job failed", "job", name, "error", err)
				}
				cancel()
			}
		}
	}()
}

// goBackground runs fn on a goroutine close waits for, unless close has
// begun: then fn does not run. For work started by SIP handlers, which
// can outlive the listeners' close by a moment.
func (a *app) goBackground(fn func()) {
	a.goMu.Lock()
	defer a.goMu.Unlock()
	if a.closing {
		return
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		fn()
	}()
}

// close stops everything in dependency order: listeners first, then calls
// and pending writes, the database last.
func (a *app) close() error {
	a.closeMu.Do(func() {
		var errs []error
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if a.httpSrv != nil {
			errs = append(errs, a.httpSrv.Shutdown(ctx))
		}
		if a.httpsSrv != nil {
			errs = append(errs, a.httpsSrv.Shutdown(ctx))
		}
		a.closeComponents()
		if a.sip != nil {
			errs = append(errs, a.sip.Close())
		}
		if a.regis != nil {
			a.regis.Close()
		}
		if a.cancel != nil {
			a.cancel()
		}
		a.goMu.Lock()
		a.closing = true
		a.goMu.Unlock()
		a.wg.Wait()
		if a.store != nil {
			errs = append(errs, a.store.Close())
		}
		a.closeErr = errors.Join(errs...)
	})
	return a.closeErr
}
