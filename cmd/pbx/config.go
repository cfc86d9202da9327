package main

import (
	"flag"
	"fmt"
	"net/netip"
	"pbx/sip/trunkreg"
	"strconv"
	"strings"
	"time"

	"pbx/rating"
	"pbx/sip/sipauth"
	"pbx/store"
)

// config is the whole configuration of `pbx serve`.
type config struct {
	DataDir     string
	DB          string // a PostgreSQL URL; empty: SQLite in DataDir
	SIPAddr     string // UDP and TCP
	SIPTLSAddr  string
	TLSCert     string
	TLSKey      string
	HTTPAddr    string
	HTTPSAddr   string
	RTPMin      int
	RTPMax      int
	PublicAddr  string
	BaseDomain  string
	AdminToken  string
	Demo        bool
	LogLevel    string
	MinExpires  int
	MaxExpires  int
	BanSource   int
	BanAccount  int
	BanWindow   time.Duration
	BanTime     time.Duration
	RateLimit   int
	RateWindow  time.Duration
	RateBanTime time.Duration
	RTPTimeout  time.Duration
	DigestAlgos string
	Digest      []string // DigestAlgos parsed
	Pprof       bool
	Procs       int // GOMAXPROCS; 0: defaultProcs
	ProvURL     string
	NATPing     time.Duration
	// DrainTimeout: on SIGTERM, refuse new calls and wait up to this long
	// for the current ones to end before shutting down (0: shut down at once).
	DrainTimeout time.Duration
	// Voicemail: callers who reach nobody leave a message (false: they get
	// the failure's status, 480 or 486).
	Voicemail bool
	// SMTP is the host:port of the mail server voicemail notifications go
	// through (empty: no e-mail); SMTPFrom their sender.
	SMTP, SMTPFrom string
	// SMTPCA is a PEM file of the authorities that sign the mail server's
	// certificate (empty: the system's).
	SMTPCA string
	// Prompts is the directory of the system prompts (<lang>/<id>.wav).
	Prompts string
	// RTCPInterval is the mean interval of the RTCP reports of each call
	// leg (zero: the media engine's default); tests shorten it.
	RTCPInterval time.Duration
	// TrunkRegTiming overrides the timing of registrations to carriers
	// (zero fields: trunkreg's defaults); tests shorten it.
	TrunkRegTiming trunkreg.Config
	// FraudMultiple and FraudFloor (euro) are the toll-fraud guard's
	// rule: the last hour's spending above that multiple of the usual
	// hour and above the floor blocks international and premium calls.
	FraudMultiple int
	FraudFloor    string
	// RatingClock is the credit meter's clock (nil: the wall clock);
	// tests give a fake one.
	RatingClock rating.Clock
	// EmergencyNumbers are on-site emergency numbers beside 112, 100 and
	// 101 (and the remote-help numbers).
	EmergencyNumbers []string
	// WebhookBackoff overrides the waits between webhook attempts (nil:
	// webhook.DefaultBackoff); tests shorten it.
	WebhookBackoff func(attempt int) time.Duration
	// WebhookAllowPrivate lets tenants' webhooks reach loopback, private
	// and link-local addresses.
	WebhookAllowPrivate bool

	// Node names this server among others sharing one database (its
	// call journal is its own); empty for a single node.
	Node string
	// JournalInterval is how often the call journal is written (default
	// calljournal.DefaultInterval); tests shorten it.
	JournalInterval time.Duration
	// Push: the services that wake sleeping softphones (pushconfig.go).
	Push pushConfig

	// TrustedProxies are the edge proxies in front of the nodes of a
	// cluster (Kamailio): never rate-limited nor banned, the failures of
	// requests they relay counted against the device behind them.
	TrustedProxies []netip.Addr
	// getenv reads the node's secrets (PBX_SECRET_KEY, PBX_NONCE_KEY),
	// which are never flags: a command line is visible to every user.
	getenv func(string) string
	// CampaignPoll is how often running campaigns are looked at when
	// nothing else wakes the scheduler (default 5 s); tests shorten it.
	CampaignPoll time.Duration
}

// parseConfig reads flags, each with a PBX_* environment fallback.
func parseConfig(args []string, getenv func(string) string) (config, error) {
	var c config
	fs := flag.NewFlagSet("pbx serve", flag.ContinueOnError)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	envInt := func(name string, def int) int {
		if v, err := strconv.Atoi(getenv(name)); err == nil {
			return v
		}
		return def
	}
	envDur := func(name string, def time.Duration) time.Duration {
		if v, err := time.ParseDuration(getenv(name)); err == nil {
			return v
		}
		return def
	}
	var rtp string
	fs.StringVar(&c.DataDir, "data", env("PBX_DATA", "data"), "data directory (database, keys, certificates) [PBX_DATA]")
	fs.StringVar(&c.Node, "node", env("PBX_NODE", ""), "name of this node among servers sharing one database (empty for a single server) [PBX_NODE]")
	fs.StringVar(&c.DB, "db", env("PBX_DB", ""), "database: a postgres:// URL, or empty for SQLite (pbx.db) in the data directory, which keeps the keys either way [PBX_DB]")
	fs.StringVar(&c.SIPAddr, "sip", env("PBX_SIP", "127.0.0.1:5060"), "SIP UDP and TCP listen host:port [PBX_SIP]")
	fs.StringVar(&c.SIPTLSAddr, "sip-tls", env("PBX_SIP_TLS", "127.0.0.1:5061"), "SIP TLS listen host:port, empty to disable [PBX_SIP_TLS]")
	fs.StringVar(&c.TLSCert, "tls-cert", env("PBX_TLS_CERT", ""), "TLS certificate (PEM); a self-signed one is generated in the data directory when empty [PBX_TLS_CERT]")
	fs.StringVar(&c.TLSKey, "tls-key", env("PBX_TLS_KEY", ""), "TLS private key (PEM) [PBX_TLS_KEY]")
	fs.StringVar(&c.HTTPAddr, "http", env("PBX_HTTP", "127.0.0.1:8080"), "HTTP listen host:port (REST API, provisioning, metrics) [PBX_HTTP]")
	fs.StringVar(&c.HTTPSAddr, "https", env("PBX_HTTPS", "127.0.0.1:8443"), "HTTPS listen host:port (same handlers: API, provisioning), empty to disable [PBX_HTTPS]")
	fs.StringVar(&rtp, "rtp-ports", env("PBX_RTP_PORTS", "20000-29999"), "RTP port range [PBX_RTP_PORTS]")
	fs.StringVar(&c.PublicAddr, "public-addr", env("PBX_PUBLIC_ADDR", ""), "address advertised in Contact and SDP, behind NAT [PBX_PUBLIC_ADDR]")
	fs.StringVar(&c.BaseDomain, "base-domain", env("PBX_BASE_DOMAIN", "pbx.local"), "parent of the tenants' SIP domains [PBX_BASE_DOMAIN]")
	fs.BoolVar(&c.Demo, "demo", env("PBX_DEMO", "") == "1", "seed a demo tenant on an empty database [PBX_DEMO=1]")
	fs.StringVar(&c.LogLevel, "log-level", env("PBX_LOG_LEVEL", "info"), "debug, info, warn or error [PBX_LOG_LEVEL]")
	fs.IntVar(&c.MinExpires, "min-expires", envInt("PBX_MIN_EXPIRES", 60), "shortest registration accepted, seconds [PBX_MIN_EXPIRES]")
	fs.IntVar(&c.MaxExpires, "max-expires", envInt("PBX_MAX_EXPIRES", 3600), "longest registration granted, seconds [PBX_MAX_EXPIRES]")
	fs.IntVar(&c.BanSource, "ban-source-failures", envInt("PBX_BAN_SOURCE_FAILURES", 20), "failed authentications from one address that ban it, 0 disables [PBX_BAN_SOURCE_FAILURES]")
	fs.IntVar(&c.BanAccount, "ban-account-failures", envInt("PBX_BAN_ACCOUNT_FAILURES", 10), "failed authentications against one account that ban it, 0 disables [PBX_BAN_ACCOUNT_FAILURES]")
	fs.DurationVar(&c.BanWindow, "ban-window", envDur("PBX_BAN_WINDOW", time.Minute), "window in which failures are counted [PBX_BAN_WINDOW]")
	fs.DurationVar(&c.BanTime, "ban-time", envDur("PBX_BAN_TIME", 15*time.Minute), "duration of a ban [PBX_BAN_TIME]")
	fs.IntVar(&c.RateLimit, "rate-limit", envInt("PBX_RATE_LIMIT", sipauth.DefaultGuardConfig.MaxRequestsPerSource), "out-of-dialog SIP requests from one address within the rate window that ban it; registered devices and trunks are exempt; 0 disables [PBX_RATE_LIMIT]")
	fs.DurationVar(&c.RateWindow, "rate-window", envDur("PBX_RATE_WINDOW", sipauth.DefaultGuardConfig.RequestWindow), "window in which the requests of the rate limit are counted [PBX_RATE_WINDOW]")
	fs.DurationVar(&c.RateBanTime, "rate-ban-time", envDur("PBX_RATE_BAN_TIME", 0), "duration of a ban for the request rate; 0 means the ban time [PBX_RATE_BAN_TIME]")
	fs.DurationVar(&c.RTPTimeout, "rtp-timeout", envDur("PBX_RTP_TIMEOUT", 60*time.Second), "hang up a call without RTP for this long [PBX_RTP_TIMEOUT]")
	fs.StringVar(&c.DigestAlgos, "digest", env("PBX_DIGEST", "MD5"), "digest algorithms offered, in order of preference; a tenant may choose its own (MD5 by default: SIPp, baresip and some phones fail on any SHA-256 challenge) [PBX_DIGEST]")
	fs.IntVar(&c.Procs, "procs", envInt("PBX_PROCS", 0), "processors the Go code runs on at once (GOMAXPROCS); 0: the GOMAXPROCS environment variable if set, else half the CPUs (at least one) [PBX_PROCS]")
	fs.BoolVar(&c.Pprof, "pprof", env("PBX_PPROF", "") == "1", "serve Go profiles under /debug/pprof/ on the HTTP listener (admin use) [PBX_PPROF=1]")
	fs.DurationVar(&c.NATPing, "nat-keepalive", envDur("PBX_NAT_KEEPALIVE", 20*time.Second), "interval of the keepalives sent to devices registered over UDP from behind a NAT, 0 disables [PBX_NAT_KEEPALIVE]")
	fs.StringVar(&c.ProvURL, "prov-url", env("PBX_PROV_URL", ""), "base URL handed to desk phones for provisioning, e.g. https://prov.example.be/prov/ (default: this server's HTTP(S) address) [PBX_PROV_URL]")
	fs.DurationVar(&c.DrainTimeout, "drain-timeout", envDur("PBX_DRAIN_TIMEOUT", 0), "on SIGTERM or SIGINT, refuse new calls (503) and let current ones end for up to this long before shutting down; 0 shuts down at once [PBX_DRAIN_TIMEOUT]")
	fs.BoolVar(&c.Voicemail, "voicemail", env("PBX_VOICEMAIL", "1") != "0", "callers who reach nobody (no answer, busy, nothing registered, no forwarding) leave a message; false gives them 480/486 [PBX_VOICEMAIL=0 disables]")
	fs.StringVar(&c.SMTP, "smtp", env("PBX_SMTP", ""), "host:port of the SMTP server that mails voicemail messages (STARTTLS when offered); empty: no e-mail [PBX_SMTP]")
	fs.StringVar(&c.SMTPFrom, "smtp-from", env("PBX_SMTP_FROM", "voicemail@pbx.local"), "sender of voicemail e-mails [PBX_SMTP_FROM]")
	fs.StringVar(&c.SMTPCA, "smtp-ca", env("PBX_SMTP_CA", ""), "PEM file of the certificate authorities that sign the SMTP server's certificate; empty: the system's [PBX_SMTP_CA]")
	fs.StringVar(&c.Prompts, "prompts", env("PBX_PROMPTS", "/usr/local/share/pbx/prompts"), "directory of the system prompts, <lang>/<id>.wav, as interop/install-tools.sh makes them [PBX_PROMPTS]")
	addPushFlags(fs, &c.Push, env, envDur)
	fs.IntVar(&c.FraudMultiple, "fraud-multiple", envInt("PBX_FRAUD_MULTIPLE", 10), "toll-fraud guard: the last hour's spending above this multiple of the usual hour (30-day average) blocks international and premium calls [PBX_FRAUD_MULTIPLE]")
	fs.StringVar(&c.FraudFloor, "fraud-floor", env("PBX_FRAUD_FLOOR", "20.00"), "toll-fraud guard: ... and above this many euro in the hour [PBX_FRAUD_FLOOR]")
	fs.BoolVar(&c.WebhookAllowPrivate, "webhook-allow-private", env("PBX_WEBHOOK_ALLOW_PRIVATE", "") == "1", "let tenants' webhooks reach loopback, private and link-local addresses (an installation whose tenants' endpoints are inside) [PBX_WEBHOOK_ALLOW_PRIVATE=1]")
	emergency := fs.String("emergency-numbers", env("PBX_EMERGENCY_NUMBERS", ""), "more emergency numbers, comma-separated, placed like 112 whatever the barring or billing state [PBX_EMERGENCY_NUMBERS]")
	var trusted string
	fs.StringVar(&trusted, "trusted-proxy", env("PBX_TRUSTED_PROXY", ""), "IP addresses (comma-separated) of the SIP edge proxies in front of this node (Kamailio, deploy/kamailio): exempt from the request rate and bans, failures they relay count against the device's address [PBX_TRUSTED_PROXY]")
	c.AdminToken = getenv("PBX_ADMIN_TOKEN")
	c.getenv = getenv
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	for _, n := range strings.Split(*emergency, ",") {
		if n = strings.TrimSpace(n); n != "" {
			c.EmergencyNumbers = append(c.EmergencyNumbers, n)
		}
	}
	lo, hi, ok := strings.Cut(rtp, "-")
	var err1, err2 error
	c.RTPMin, err1 = strconv.Atoi(strings.TrimSpace(lo))
	c.RTPMax, err2 = strconv.Atoi(strings.TrimSpace(hi))
	if !ok || err1 != nil || err2 != nil || c.RTPMin < 1024 || c.RTPMax > 65535 || c.RTPMax-c.RTPMin < 3 {
		return c, fmt.Errorf("--rtp-ports %q: want MIN-MAX within 1024-65535", rtp)
	}
	if c.DB != "" && !store.IsPostgresURL(c.DB) {
		return c, fmt.Errorf("--db %s: want a postgres:// URL, or nothing for SQLite in the data directory", store.RedactURL(c.DB))
	}
	var err error
	if c.TrustedProxies, err = parseTrustedProxies(trusted); err != nil {
		return c, err
	}
	if c.Digest, err = sipauth.ParseAlgorithms(c.DigestAlgos); err != nil {
		return c, fmt.Errorf("--digest %q: %w", c.DigestAlgos, err)
	}
	return c, nil
}
