// Package registrar owns SIP registration: it authenticates REGISTER
// requests, enforces licences, negotiates expiry, records contact bindings
// (with the source address and transport they came from, for NAT) in the
// store, and answers which contacts reach a licence. Bindings live in the
// store, not in this process, so any node sharing the database can reach any
// device.
package registrar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"pbx/sip/sipauth"
	"pbx/sip/sipserver"
	"pbx/store"
)

// Store is what the registrar needs from persistence.
type Store interface {
	DeviceAuthByUsername(ctx context.Context, username string) (store.DeviceAuth, error)
	DeviceRegistration(ctx context.Context, username string, now time.Time) (store.DeviceAuth, []store.Binding, error)
	ApplyBindings(ctx context.Context, changes []store.BindingChange) error
	UserBindings(ctx context.Context, userID string, now time.Time) ([]store.Binding, error)
	ExpireBindings(ctx context.Context, now time.Time) ([]store.Binding, error)
}

// Metrics receives counts; every field may be nil.
type Metrics struct {
	Registered   func() // a successful REGISTER that adds or refreshes a binding
	Unregistered func() // a REGISTER that removed bindings
	AuthFailure  func(reason string)
}

// Config tunes the registrar.
type Config struct {
	MinExpires     int // shorter requests get 423 (default 60)
	MaxExpires     int // longer requests are shortened (default 3600)
	DefaultExpires int // when the request names none (default 3600)
	MaxContacts    int // per device (default 5)
	// PushProviders are the RFC 8599 push services (pn-provider values)
	// calls can wake devices with. A contact naming another is bound
	// without push; a query of another (no pn-prid) gets 555.
	PushProviders []string
	// TrustedProxies are the addresses of edge proxies that relay the
	// requests of devices (Kamailio in front of a cluster): failures of
	// requests they relay count against the device's address, not theirs.
	TrustedProxies []netip.Addr
}

// Registrar handles REGISTER requests.
type Registrar struct {
	store   Store
	auth    *sipauth.Authenticator
	guard   *sipauth.Guard
	cfg     Config
	log     *slog.Logger
	metrics Metrics
	writer  *batchWriter
	now     func() time.Time
	sources sources
	workers *workers
	expect  expectations
	cache   *regCache // nil when the store allows no keeping (PostgreSQL)
	date    atomic.Pointer[formattedDate]

	// NewBinding, when set before the server starts, is told of each
	// contact a device registers that it did not have (a phone that
	// started), after the 200 OK is sent: message waiting lamps are set
	// then. It must return quickly.
	NewBinding func(da store.DeviceAuth, b store.Binding)
	// Woken, when set before the server starts, is told of each binding
	// with push parameters that a REGISTER refreshed, after the 200 OK:
	// a device asleep behind a push service registers when it wakes,
	// often with the Contact it had. It must return quickly.
	Woken func(da store.DeviceAuth, b store.Binding)
}

// New returns a Registrar. Close it to flush pending writes.
func New(st Store, auth *sipauth.Authenticator, guard *sipauth.Guard, cfg Config, log *slog.Logger, m Metrics) *Registrar {
	if cfg.MinExpires <= 0 {
		cfg.MinExpires = 60
	}
	if cfg.MaxExpires <= 0 {
		cfg.MaxExpires = 3600
	}
	if cfg.DefaultExpires <= 0 {
		cfg.DefaultExpires = 3600
	}
	if cfg.DefaultExpires > cfg.MaxExpires {
		cfg.DefaultExpires = cfg.MaxExpires
	}
	if cfg.MaxContacts <= 0 {
		cfg.MaxContacts = 5
	}
	if log == nil {
		log = slog.Default()
	}
	return &Registrar{store: st, auth: auth, guard: guard, cfg: cfg, log: log, metrics: m,
		writer: newBatchWriter(st), now: time.Now, workers: newWorkers(), cache: newRegCache(st)}
}

// Close stops the workers, then flushes pending binding writes and stops
// the writer.
func (r *Registrar) Close() {
	r.workers.close()
	r.writer.close()
}

// Lookup returns the live bindings of every device of a licence.
func (r *Registrar) Lookup(ctx context.Context, userID string) ([]store.Binding, error) {
	return r.store.UserBindings(ctx, userID, r.now())
}

// SweepExpired deletes expired bindings and logs each; cmd/pbx runs it
// periodically.
func (r *Registrar) SweepExpired(ctx context.Context) (int64, error) {
	r.sources.forgetExpired(r.now())
	if r.cache != nil {
		r.cache.sweep(r.now())
	}
	gone, err := r.store.ExpireBindings(ctx, r.now())
	for _, b := range gone {
		r.log.Info("registration expired", "device_id", b.DeviceID, "tenant_id", b.TenantID, "contact", sipserver.LogURI(b.Contact),
			"source", b.Source, "transport", b.Transport, "user_agent", b.UserAgent, "expires_at", b.ExpiresAt)
	}
	return int64(len(gone)), err
}

// respond is sipserver.Respond.
var respond = sipserver.Respond

// SourceIP returns the IP address a request came from.
func SourceIP(req *sip.Request) string {
	host, _, err := net.SplitHostPort(req.Source())
	if err != nil {
		return req.Source()
	}
	return host
}

// Authenticate checks the digest credentials of req (header "Authorization"
// or, for proxies, "Proxy-Authorization") and returns the device, licence
// and tenant. When it returns ok=false it has already answered the request
// (401/407 challenge, 403) or, for a banned source, dropped it. The same
// challenge is sent for unknown accounts and wrong passwords.
func (r *Registrar) Authenticate(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, proxy bool) (store.DeviceAuth, bool) {
	da, _, ok := r.authenticate(ctx, req, tx, proxy, func(ctx context.Context, user string) (store.DeviceAuth, []store.Binding, error) {
		da, err := r.store.DeviceAuthByUsername(ctx, user)
		return da, nil, err
	})
	return da, ok
}

// AccountLookup finds the account of a digest username challenged in
// realm, as a DeviceAuth whose Tenant.Domain is the realm it verifies in
// and whose Device holds its HA1 values.
type AccountLookup func(ctx context.Context, username, realm string) (store.DeviceAuth, error)

// AuthenticateWith is Authenticate with accounts found by lookup rather
// than in the device table: the same challenges, verification and bans
// for another kind of account (cmd/pbx uses it for carriers that
// authenticate as their trunk, falling back to devices).
func (r *Registrar) AuthenticateWith(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, proxy bool, lookup AccountLookup) (store.DeviceAuth, bool) {
	realm := challengeRealm(req, proxy)
	da, _, ok := r.authenticate(ctx, req, tx, proxy, func(ctx context.Context, user string) (store.DeviceAuth, []store.Binding, error) {
		da, err := lookup(ctx, user, realm)
		return da, nil, err
	})
	return da, ok
}

// challengeRealm is the realm a request is challenged in: the To host for
// a registrar (401), the From host for a proxy (407).
func challengeRealm(req *sip.Request, proxy bool) string {
	realm := ""
	if to := req.To(); to != nil {
		realm = to.Address.Host
	}
	if proxy {
		if from := req.From(); from != nil {
			realm = from.Address.Host
		}
	}
	return realm
}

// lookupFunc finds the account of a digest username; the registrar also
// fetches the device's bindings in the same query.
type lookupFunc func(ctx context.Context, username string) (store.DeviceAuth, []store.Binding, error)

func (r *Registrar) authenticate(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, proxy bool, lookup lookupFunc) (store.DeviceAuth, []store.Binding, bool) {
	code, reason, hdrName, credName := 401, "Unauthorized", "WWW-Authenticate", "Authorization"
	if proxy {
		code, reason, hdrName, credName = 407, "Proxy Authentication Required", "Proxy-Authenticate", "Proxy-Authorization"
	}
	ip := r.clientIP(req)
	if r.guard != nil && r.guard.SourceBanned(ip) {
		return store.DeviceAuth{}, nil, false // banned sources get no answer at all
	}
	realm := challengeRealm(req, proxy)
	challenge := func(stale bool) {
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		for _, c := range r.auth.Challenges(realm, stale) {
			res.AppendHeader(sip.NewHeader(hdrName, c))
		}
		// Challenges are stateless: a flood of requests without (or with
		// wrong) credentials must hold no transaction and no timers.
		_ = sipserver.RespondStateless(tx, res)
	}
	var credHdr string
	if h := req.GetHeader(credName); h != nil {
		credHdr = h.Value()
	}
	if credHdr == "" {
		challenge(false)
		return store.DeviceAuth{}, nil, false
	}
	cred, err := sipauth.Credentials(credHdr)
	if err != nil {
		r.fail(req, ip, "", "malformed")
		respond(tx, req, 400, "Bad Request - malformed "+credName)
		return store.DeviceAuth{}, nil, false
	}
	if r.guard != nil && r.guard.AccountBanned(cred.Username) {
		respond(tx, req, 403, "Forbidden")
		return store.DeviceAuth{}, nil, false
	}
	da, bindings, err := lookup(ctx, cred.Username)
	if errors.Is(err, store.ErrNotFound) {
		r.fail(req, ip, cred.Username, "unknown_account")
		challenge(false)
		return store.DeviceAuth{}, nil, false
	}
	if err != nil {
		r.log.Error("registrar: device lookup failed", "error", err)
		respond(tx, req, 500, "Server Internal Error")
		return store.DeviceAuth{}, nil, false
	}
	switch err := r.auth.Verify(cred, string(req.Method), da.Tenant.Domain, da.Device.HA1MD5, da.Device.HA1SHA256); {
	case err == nil:
	case errors.Is(err, sipauth.ErrStale):
		challenge(true)
		return store.DeviceAuth{}, nil, false
	default:
		r.fail(req, ip, cred.Username, reasonOf(err))
		challenge(false)
		return store.DeviceAuth{}, nil, false
	}
	if r.guard != nil {
		r.guard.Succeed(cred.Username)
	}
	return da, bindings, true
}

func reasonOf(err error) string {
	switch {
	case errors.Is(err, sipauth.ErrMismatch):
		return "wrong_password"
	case errors.Is(err, sipauth.ErrRealm):
		return "wrong_realm"
	case errors.Is(err, sipauth.ErrBadNonce):
		return "bad_nonce"
	case errors.Is(err, sipauth.ErrAlgorithm):
		return "algorithm_not_offered"
	default:
		return "malformed"
	}
}

// fail counts and logs a refused authentication: the request's method,
// the username it claimed, its source, Contact and User-Agent (never its
// credentials).
func (r *Registrar) fail(req *sip.Request, ip, user, reason string) {
	contact, ua := "", ""
	if h := req.Contact(); h != nil {
		contact = h.Address.String()
	}
	if h := req.GetHeader("User-Agent"); h != nil {
		ua = h.Value()
	}
	r.log.Warn("sip authentication failed", "method", string(req.Method), "username", user, "source", ip,
		"contact", sipserver.LogURI(contact), "user_agent", ua, "reason", reason)
	if r.metrics.AuthFailure != nil {
		r.metrics.AuthFailure(reason)
	}
	if r.guard != nil {
		r.guard.Fail(ip, user)
	}
}

// HandleRegister is the sipgo handler for REGISTER. On a goroutine of
// sipgo's own (TCP, TLS), its work up to the write of the bindings runs on
// one of the registrar's workers (see workers); the wait for the group
// commit and the answer run on the request's goroutine, so that a worker
// never waits for the database writer and the number of workers does not
// bound the size of a commit. A REGISTER over UDP, answered statelessly,
// is already on a long-lived goroutine of sipserver's (sipserver.Pooled)
// and runs there.
//
// No deadline is set on the request: its database read is local and the
// writer bounds each commit (maxWriteTime).
func (r *Registrar) HandleRegister(req *sip.Request, tx sip.ServerTransaction) {
	if sipserver.Pooled(tx) {
		// Already on a long-lived goroutine (a REGISTER over UDP): no hop.
		if finish := r.handleRegister(context.Background(), req, tx); finish != nil {
			finish()
		}
		return
	}
	var finish func()
	r.workers.do(func() { finish = r.handleRegister(context.Background(), req, tx) })
	if finish != nil {
		finish()
	}
}

func (r *Registrar) handleRegister(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) (finish func()) {
	seq := r.expect.arrived()
	to, from, callID, cseq := req.To(), req.From(), req.CallID(), req.CSeq()
	if to == nil || from == nil || callID == nil || cseq == nil {
		respond(tx, req, 400, "Bad Request - missing mandatory header")
		return nil
	}
	now := r.now()
	var h held // the username stays locked until the changes are queued
	defer h.unlock()
	da, current, ok := r.authenticate(ctx, req, tx, false, func(ctx context.Context, user string) (store.DeviceAuth, []store.Binding, error) {
		if r.cache == nil {
			return r.store.DeviceRegistration(ctx, user, now)
		}
		return r.cache.load(ctx, r.store, user, now, r.writer.barrier, &h)
	})
	if !ok {
		return nil
	}
	// The address of record must be the authenticated device's own.
	if to.Address.User != da.Device.SIPUsername {
		r.reqLog(&da, callID).Info("register: AOR does not match the authenticated device", "to_user", to.Address.User)
		respond(tx, req, 403, "Forbidden - address of record does not match credentials")
		return nil
	}
	if !da.User.Active(now) {
		respond(tx, req, 403, "Forbidden - licence suspended")
		return nil
	}
	// A suspended tenant's devices may not register; their INVITEs to
	// emergency numbers are still placed (the dialplan's business).
	if da.Tenant.BillingState == "suspended" {
		respond(tx, req, 403, "Forbidden - account suspended")
		return nil
	}
	loc, err := conveyedLocation(req)
	if err != nil {
		r.reqLog(&da, callID).Info("register: the location conveyed is not usable, ignored", "error", err)
	}
	defaultExpires := r.cfg.DefaultExpires
	if v, ok, err := sipserver.Expires(req); err != nil {
		respond(tx, req, 400, "Bad Request - invalid Expires")
		return nil
	} else if ok {
		defaultExpires = v
	}
	contacts := req.GetHeaders("Contact")
	source := req.Source()
	transport := strings.ToLower(req.Transport())
	ua := ""
	if h := req.GetHeader("User-Agent"); h != nil {
		ua = h.Value()
	}
	path := pathOf(req)
	if len(path) > 1024 {
		respond(tx, req, 400, "Bad Request - Path too long")
		return nil
	}
	var changes []store.BindingChange
	var fresh []store.Binding // contacts the device did not have
	var woken []store.Binding // bindings that push waits may be for
	pushProvider := ""        // the push service asked for, for Feature-Caps
	base := store.Binding{DeviceID: da.Device.ID, TenantID: da.Tenant.ID, Source: source, Transport: transport, UserAgent: ua,
		Path: path, CallID: callID.Value(), CSeq: cseq.SeqNo, UpdatedAt: now, Location: loc}
	for _, h := range contacts {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			respond(tx, req, 400, "Bad Request - invalid Contact")
			return nil
		}
		if c.Address.Wildcard {
			if len(contacts) != 1 || defaultExpires != 0 {
				respond(tx, req, 400, "Bad Request - wildcard Contact needs Expires: 0 and no other contact")
				return nil
			}
			for _, b := range current {
				if b.CallID == callID.Value() && cseq.SeqNo < b.CSeq {
					respond(tx, req, 500, "Server Internal Error - out of order CSeq")
					return nil
				}
			}
			b := base
			b.Contact = "*"
			changes = append(changes, store.BindingChange{Binding: b, Remove: true})
			current = nil
			continue
		}
		expires := defaultExpires
		if v, ok := c.Params.Get("expires"); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				respond(tx, req, 400, "Bad Request - invalid contact expires")
				return nil
			}
			expires = n
		}
		uri := c.Address.String()
		if len(uri) > 512 {
			respond(tx, req, 400, "Bad Request - Contact too long")
			return nil
		}
		idx := -1
		for i, b := range current {
			if b.Contact == uri {
				idx = i
			}
		}
		// An equal CSeq is the retransmission of a request answered
		// statelessly (below): applied again, to the same effect.
		if idx >= 0 && current[idx].CallID == callID.Value() && cseq.SeqNo < current[idx].CSeq {
			respond(tx, req, 500, "Server Internal Error - out of order CSeq")
			return nil
		}
		b := base
		b.Contact = uri
		b.Push, b.Instance = contactPush(c)
		if b.Push.Provider != "" {
			if !r.supportsPush(b.Push.Provider) {
				if b.Push.PRID == "" {
					// A query of our push support (RFC 8599 §4.1.1).
					respond(tx, req, StatusPushNotSupported, "Push Notification Service Not Supported")
					return nil
				}
				// Registered without push: no sip.pns in the 2xx tells
				// the device not to expect any, and its calls ring it
				// as any other contact.
				b.Push = store.PushParams{}
			} else {
				pushProvider = b.Push.Provider
			}
		}
		if expires == 0 {
			changes = append(changes, store.BindingChange{Binding: b, Remove: true})
			if idx >= 0 {
				current = append(current[:idx], current[idx+1:]...)
			}
			continue
		}
		if expires < r.cfg.MinExpires {
			res := sip.NewResponseFromRequest(req, 423, "Interval Too Brief", nil)
			res.AppendHeader(sip.NewHeader("Min-Expires", strconv.Itoa(r.cfg.MinExpires)))
			_ = tx.Respond(res)
			return nil
		}
		if expires > r.cfg.MaxExpires {
			expires = r.cfg.MaxExpires
		}
		b.ExpiresAt = now.Add(time.Duration(expires) * time.Second)
		if idx < 0 {
			// The same device instance under a new Contact (a new
			// connection, a new push token) replaces its old binding.
			for i := 0; i < len(current); i++ {
				old := current[i]
				sameRequest := old.CallID == b.CallID && old.CSeq == b.CSeq // RFC 5626 flows of one instance
				if old.Contact != uri && !sameRequest && (old.Instance != "" || old.Push.Wakeable()) && sameDevice(old, b) {
					changes = append(changes, store.BindingChange{Binding: old, Remove: true})
					current = append(current[:i], current[i+1:]...)
					i--
				}
			}
		}
		changes = append(changes, store.BindingChange{Binding: b, Refresh: idx >= 0 && isRefresh(current[idx], b, now)})
		if b.Instance != "" || b.Push.Wakeable() {
			woken = append(woken, b)
		}
		if idx >= 0 {
			current[idx] = b
		} else {
			current = append(current, b)
			fresh = append(fresh, b)
		}
	}
	if len(current) > r.cfg.MaxContacts {
		respond(tx, req, 403, fmt.Sprintf("Forbidden - at most %d contacts per device", r.cfg.MaxContacts))
		return nil
	}
	var wait <-chan error
	if len(changes) > 0 {
		var err error
		if wait, err = r.commit(&h, da, current, changes); err != nil {
			r.reqLog(&da, callID).Error("register: write bindings", "error", err)
			respond(tx, req, 500, "Server Internal Error")
			return nil
		}
	}
	h.unlock()
	// The closure below would move da to the heap: it uses the cached
	// device, shared, when there is one.
	dap := h.da
	if dap == nil {
		dap = new(store.DeviceAuth)
		*dap = da
	}
	// The rest waits for the commit of the changes, if it must: not on a
	// worker, which would sit idle meanwhile (see HandleRegister), nor on
	// one of sipserver's goroutines, whose number bounds the REGISTERs
	// being worked on, not those waiting for a commit.
	answer := func() {
		if wait != nil {
			if err := <-wait; err != nil {
				r.reqLog(dap, callID).Error("register: write bindings", "error", err)
				respond(tx, req, 500, "Server Internal Error")
				return
			}
		}
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		for _, b := range current {
			secs := int(b.ExpiresAt.Sub(now).Round(time.Second) / time.Second)
			res.AppendHeader(sip.NewHeader("Contact", "<"+b.Contact+">;expires="+strconv.Itoa(secs)))
		}
		res.AppendHeader(sip.NewHeader("Date", r.dateValue(now)))
		if pushProvider != "" {
			res.AppendHeader(featureCaps(pushProvider))
		}
		if path != "" && supportsPath(req) {
			// RFC 3327 section 5.3: the Path stored is echoed to a user
			// agent that said it supports it.
			res.AppendHeader(sip.NewHeader("Path", path))
		}
		// The 200 is stateless, as Kamailio's registrar's: a REGISTER's server
		// transaction would otherwise stay 32 s (Timer J) to absorb
		// retransmissions, and the transactions of a registration storm would
		// hold memory and timers that the garbage collector keeps scanning. A
		// retransmission is handled again (its CSeq equals the binding's).
		if err := sipserver.RespondStateless(tx, res); err != nil {
			r.reqLog(dap, callID).Debug("register: respond", "error", err)
		}
		added, removed := false, false
		for _, c := range changes {
			if c.Remove {
				removed = true
			} else {
				added = true
				r.sources.note(source, c.ExpiresAt)
			}
		}
		if added && r.metrics.Registered != nil {
			r.metrics.Registered()
		}
		if removed && r.metrics.Unregistered != nil {
			r.metrics.Unregistered()
		}
		for _, b := range woken {
			r.expect.registered(b, seq)
			if r.Woken != nil && b.Push.Wakeable() && !slices.ContainsFunc(fresh, func(f store.Binding) bool { return f.Contact == b.Contact }) {
				r.Woken(*dap, b)
			}
		}
		if r.NewBinding != nil {
			for _, b := range fresh {
				r.NewBinding(*dap, b)
			}
		}
		r.logChanges(ctx, dap, changes, fresh, ua)
	}
	if wait != nil && sipserver.Pooled(tx) {
		return func() { go answer() }
	}
	return answer
}

// reqLog is the logger of a REGISTER, built only when something is logged:
// With formats its attributes at once.
func (r *Registrar) reqLog(da *store.DeviceAuth, callID *sip.CallIDHeader) *slog.Logger {
	return r.log.With("device_id", da.Device.ID, "tenant_id", da.Tenant.ID, "call_id", callID.Value())
}
