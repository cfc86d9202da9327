package provisioning

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options configure NewHandler.
type Options struct {
	// Directory supplies devices; required.
	Directory Directory
	// Server is what every generated file points at.
	Server Server
	// Logger receives one record per request; nil means slog.Default().
	Logger *slog.Logger
	// RateLimit is applied per source address before anything else.
	RateLimit RateLimit
	// NonceKey signs digest nonces (at least 16 bytes). Nodes behind one load
	// balancer must share it so that a nonce issued by one is accepted by
	// another; nil means a random key per handler.
	NonceKey []byte
	// NonceLifetime is how long a digest nonce is accepted (default 5 min).
	NonceLifetime time.Duration
	// ClientIP extracts the source address used for rate limiting and logs;
	// nil means the host part of r.RemoteAddr. Set it when behind a reverse
	// proxy you trust.
	ClientIP func(*http.Request) string
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
	// Phonebook supplies the company directories; nil: files carry no
	// directory and directory URLs are 404.
	Phonebook PhonebookSource
}

// NewHandler returns the handler that serves files under PathPrefix ("/prov/").
// It panics when opt.Directory is nil.
func NewHandler(opt Options) http.Handler {
	if opt.Directory == nil {
		panic("provisioning: NewHandler without a Directory")
	}
	h := &handler{
		srv:      opt.Server.withDefaults(),
		log:      opt.Logger,
		clientIP: opt.ClientIP,
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.clientIP == nil {
		h.clientIP = remoteHost
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	key := opt.NonceKey
	if len(key) < 16 {
		key = make([]byte, 32)
		rand.Read(key)
	}
	life := opt.NonceLifetime
	if life <= 0 {
		life = 5 * time.Minute
	}
	h.now = now
	h.phonebook = opt.Phonebook
	h.dir = opt.Directory
	h.auth = &authenticator{dir: opt.Directory, key: key, lifetime: life, now: now}
	h.limit = newLimiter(opt.RateLimit, now)
	return h
}

type handler struct {
	srv      Server
	log      *slog.Logger
	clientIP func(*http.Request) string
	now      func() time.Time
	auth     *authenticator
	limit    *limiter
	// phonebook and dir serve the directory files (phonebook_handler.go).
	phonebook PhonebookSource
	dir       Directory
}

// Outcomes as logged.
const (
	outcomeServed      = "served"
	outcomeChallenged  = "challenged"   // no credentials: the normal first request
	outcomeDenied      = "denied"       // credentials given but refused, or not this device's file
	outcomeNotFound    = "not_found"    // a name this server never serves, or not for this model
	outcomeRateLimited = "rate_limited" // 429
	outcomeBadMethod   = "bad_method"
	outcomeError       = "error"
)

// requestLog collects what one log record says about a request.
type requestLog struct {
	outcome  string
	status   int
	reason   string
	scheme   string
	mac      string
	device   *Device
	warnings []string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	ip := h.clientIP(r)
	rl := &requestLog{}
	defer func() { h.logRequest(r, ip, start, rl) }()

	if ok, wait := h.limit.allow(ip); !ok {
		secs := int(wait/time.Second) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		h.finish(w, rl, outcomeRateLimited, http.StatusTooManyRequests, "too many requests\n")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.finish(w, rl, outcomeBadMethod, http.StatusMethodNotAllowed, "method not allowed\n")
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, PathPrefix)
	if !ok {
		h.finish(w, rl, outcomeNotFound, http.StatusNotFound, "not found\n")
		return
	}
	req := classify(name)
	rl.mac = req.mac
	if req.kind == reqPhonebook {
		h.servePhonebook(w, r, req, rl)
		return
	}
	if req.kind == reqNone {
		// Boot files, master.bin chains, provisioning.xml, <mac>-local.cfg and
		// anything else: a fast 404, the same for every MAC, without asking for
		// credentials, so the device moves on to the next name it knows.
		rl.reason = "name not served"
		h.finish(w, rl, outcomeNotFound, http.StatusNotFound, "not found\n")
		return
	}

	res, err := h.auth.authenticate(r.Context(), r)
	rl.scheme = res.scheme
	if err != nil {
		rl.reason = err.Error()
		h.finish(w, rl, outcomeError, http.StatusServiceUnavailable, "temporarily unavailable\n")
		return
	}
	if res.dev == nil {
		rl.reason = res.reason
		rl.outcome = outcomeDenied
		if res.scheme == "" {
			rl.outcome = outcomeChallenged
		}
		rl.status = http.StatusUnauthorized
		h.auth.challenge(w, r, res.stale)
		return
	}
	dev := res.dev
	rl.device = dev
	deny := func(reason string) {
		rl.reason, rl.outcome, rl.status = reason, outcomeDenied, http.StatusUnauthorized
		h.auth.challenge(w, r, false)
	}
	devMAC, err := NormalizeMAC(dev.MAC)
	if err != nil {
		deny("directory returned an invalid MAC")
		return
	}
	// The MAC a device puts in its User-Agent must be its own.
	ua := parseUserAgent(r.UserAgent())
	if ua.mac != "" && ua.mac != devMAC {
		deny("user-agent MAC " + ua.mac + " is not the authenticated device's")
		return
	}
	model, ok := LookupModel(dev.Model)
	if !ok {
		rl.reason = "unknown model " + strconv.Quote(dev.Model)
		h.finish(w, rl, outcomeNotFound, http.StatusNotFound, "not found\n")
		return
	}
	// A model mismatch is only worth a warning: the file is generated for the
	// directory's model ("T46" in the directory matches a "SIP-T46S" agent).
	if ua.model != "" && !strings.HasPrefix(modelKey(ua.model), model.Name) {
		rl.warnings = append(rl.warnings, "user-agent model "+ua.model+" differs from directory model "+model.Name)
	}

	var f File
	switch req.kind {
	case reqDevice:
		if req.mac != devMAC {
			// Someone else's file (or a MAC that does not exist): the same
			// answer as a wrong password.
			deny("file of another MAC")
			return
		}
		if !req.fileFits(model, devMAC) {
			rl.reason = "file type not used by model " + model.Name
			h.finish(w, rl, outcomeNotFound, http.StatusNotFound, "not found\n")
			return
		}
		if h.phonebook != nil {
			dev.PhonebookToken = phonebookToken(h.auth.key, dev)
		}
		f, err = DeviceFile(dev, h.srv)
		if err != nil {
			rl.reason = err.Error()
			h.finish(w, rl, outcomeError, http.StatusInternalServerError, "internal error\n")
			return
		}
	case reqCommon:
		if !slices.Contains(model.CommonFiles, req.name) {
			rl.reason = "common file not used by model " + model.Name
			h.finish(w, rl, outcomeNotFound, http.StatusNotFound, "not found\n")
			return
		}
		f, _ = CommonFile(req.name, h.srv)
	}
	rl.warnings = append(rl.warnings, f.Warnings...)
	rl.outcome, rl.status = outcomeServed, http.StatusOK
	sum := sha256.Sum256(f.Body)
	hd := w.Header()
	hd.Set("Content-Type", f.ContentType)
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	// ServeContent answers HEAD, Range (FusionPBX answers 206 too) and
	// If-None-Match. No Last-Modified: the file is generated now.
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	http.ServeContent(sw, r, f.Name, time.Time{}, bytes.NewReader(f.Body))
	rl.status = sw.status
}

func (h *handler) finish(w http.ResponseWriter, rl *requestLog, outcome string, status int, body string) {
	rl.outcome, rl.status = outcome, status
	writePlain(w, status, body)
}

// logRequest writes the one record of a request. It never logs a credential:
// not the Authorization header, not a password, not a file body.
func (h *handler) logRequest(r *http.Request, ip string, start time.Time, rl *requestLog) {
	attrs := []slog.Attr{
		slog.String("outcome", rl.outcome),
		slog.Int("status", rl.status),
		slog.String("method", r.Method),
		slog.String("path", redactPath(r.URL.Path)),
		slog.String("remote", ip),
		slog.String("user_agent", r.UserAgent()),
	}
	if rl.mac != "" {
		attrs = append(attrs, slog.String("mac", rl.mac))
	}
	if rl.scheme != "" {
		attrs = append(attrs, slog.String("auth", rl.scheme))
	}
	if d := rl.device; d != nil {
		attrs = append(attrs, slog.String("device_id", d.ID), slog.String("tenant_id", d.TenantID),
			slog.String("device_mac", d.MAC), slog.String("model", d.Model))
	}
	if rl.reason != "" {
		attrs = append(attrs, slog.String("reason", rl.reason))
	}
	if len(rl.warnings) > 0 {
		attrs = append(attrs, slog.Any("warnings", rl.warnings))
	}
	attrs = append(attrs, slog.Duration("duration", h.now().Sub(start)))
	level := slog.LevelInfo
	switch rl.outcome {
	case outcomeDenied, outcomeRateLimited:
		level = slog.LevelWarn
	case outcomeError:
		level = slog.LevelError
	}
	if len(rl.warnings) > 0 && level < slog.LevelWarn {
		level = slog.LevelWarn
	}
	h.log.LogAttrs(context.WithoutCancel(r.Context()), level, "provisioning request", attrs...)
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
