// Package api owns the REST administration interface of the softswitch under
// /api/v1: tenants, sites, licences (users), devices, BLF keys, registrations,
// call records, carrier trunks, public numbers, hunt groups, call flows and
// their audio, authenticated by bearer tokens.
//
// Every route is declared once, in the table of routes.go; the HTTP mux and the
// OpenAPI document served at /api/v1/openapi.json are both built from that
// table, so neither can drift from the other. Errors are RFC 9457
// problem+json documents that name the offending fields.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"pbx/store"
)

// TokenStore is what bearer-token issuance and authentication need.
type TokenStore interface {
	CreateToken(ctx context.Context, t store.APIToken) (store.APIToken, error)
	TokenByHash(ctx context.Context, hash string) (store.APIToken, error)
	DeleteToken(ctx context.Context, id string) error
}

// Store lists exactly the store methods the API uses; *store.Store satisfies it.
type Store interface {
	TokenStore
	EmergencyStore
	ContactStore
	CampaignStore

	CreateTenant(ctx context.Context, t store.Tenant) (store.Tenant, error)
	UpdateTenant(ctx context.Context, t store.Tenant) error
	Tenant(ctx context.Context, id string) (store.Tenant, error)
	Tenants(ctx context.Context) ([]store.Tenant, error)
	DeleteTenant(ctx context.Context, id string) error

	CreateSite(ctx context.Context, st store.Site) (store.Site, error)
	Site(ctx context.Context, tenantID, id string) (store.Site, error)
	Sites(ctx context.Context, tenantID string) ([]store.Site, error)
	UpdateSite(ctx context.Context, st store.Site) error
	DeleteSite(ctx context.Context, tenantID, id string) error

	CreateUser(ctx context.Context, u store.User) (store.User, error)
	User(ctx context.Context, tenantID, id string) (store.User, error)
	UserByExtension(ctx context.Context, tenantID, ext string) (store.User, error)
	Users(ctx context.Context, tenantID string) ([]store.User, error)
	UpdateUser(ctx context.Context, u store.User) error
	SuspendUser(ctx context.Context, tenantID, id string, until time.Time) error
	ReactivateUser(ctx context.Context, tenantID, id string) error
	TerminateUser(ctx context.Context, tenantID, id string) error
	SetBLFKeys(ctx context.Context, tenantID, userID string, keys []store.BLFKey) error
	BLFKeys(ctx context.Context, userID string) ([]store.BLFKey, error)

	CreateDevice(ctx context.Context, d store.Device, password string) (store.Device, error)
	Device(ctx context.Context, tenantID, id string) (store.Device, error)
	DeviceByMAC(ctx context.Context, mac string) (store.Device, error)
	Devices(ctx context.Context, tenantID, userID string) ([]store.Device, error)
	RotateDeviceCredentials(ctx context.Context, tenantID, id, password string) error
	DeleteDevice(ctx context.Context, tenantID, id string) error

	TenantBindings(ctx context.Context, tenantID string, now time.Time) ([]store.Binding, error)
	UserBindings(ctx context.Context, userID string, now time.Time) ([]store.Binding, error)

	CDRs(ctx context.Context, tenantID string, limit int) ([]store.CDR, error)

	CreateTrunk(ctx context.Context, t store.Trunk) (store.Trunk, error)
	UpdateTrunk(ctx context.Context, t store.Trunk) error
	Trunk(ctx context.Context, id string) (store.Trunk, error)
	Trunks(ctx context.Context) ([]store.Trunk, error)
	DeleteTrunk(ctx context.Context, id string) error

	CreateNumber(ctx context.Context, n store.Number) (store.Number, error)
	Number(ctx context.Context, tenantID, id string) (store.Number, error)
	Numbers(ctx context.Context, tenantID string) ([]store.Number, error)
	SetNumberDestination(ctx context.Context, tenantID, id string, d store.Destination) error
	DeleteNumber(ctx context.Context, tenantID, id string) error
	SetUserCallerID(ctx context.Context, tenantID, userID, numberID string) error
	UserCallerIDs(ctx context.Context, tenantID string) (map[string]string, error)

	CreateHuntGroup(ctx context.Context, g store.HuntGroup) (store.HuntGroup, error)
	UpdateHuntGroup(ctx context.Context, g store.HuntGroup) error
	HuntGroup(ctx context.Context, tenantID, id string) (store.HuntGroup, error)
	HuntGroupByExtension(ctx context.Context, tenantID, ext string) (store.HuntGroup, error)
	HuntGroups(ctx context.Context, tenantID string) ([]store.HuntGroup, error)
	DeleteHuntGroup(ctx context.Context, tenantID, id string) error

	CreateCallFlow(ctx context.Context, tenantID, name string, graph []byte, refs []store.FlowRef) (store.CallFlow, error)
	PublishCallFlow(ctx context.Context, tenantID, id, name string, graph []byte, refs []store.FlowRef) (store.CallFlow, error)
	CallFlow(ctx context.Context, tenantID, id string) (store.CallFlow, error)
	CallFlowVersion(ctx context.Context, tenantID, id string, version int) (store.CallFlow, error)
	CallFlows(ctx context.Context, tenantID string) ([]store.CallFlow, error)
	CallFlowVersions(ctx context.Context, tenantID, id string) ([]store.CallFlowVersionInfo, error)
	DeleteCallFlow(ctx context.Context, tenantID, id string) error

	CreateAudio(ctx context.Context, a store.Audio) (store.Audio, error)
	Audio(ctx context.Context, tenantID, id string) (store.Audio, error)
	Audios(ctx context.Context, tenantID string) ([]store.Audio, error)
	DeleteAudio(ctx context.Context, tenantID, id string) error

	CreateOutboundRoute(ctx context.Context, r store.OutboundRoute) (store.OutboundRoute, error)
	UpdateOutboundRoute(ctx context.Context, r store.OutboundRoute) error
	OutboundRoute(ctx context.Context, id string) (store.OutboundRoute, error)
	OutboundRoutes(ctx context.Context) ([]store.OutboundRoute, error)
	DeleteOutboundRoute(ctx context.Context, id string) error
	TenantCalling(ctx context.Context, tenantID string) (store.TenantCalling, error)
	SetTenantCalling(ctx context.Context, c store.TenantCalling) error
}

// Options configure New.
type Options struct {
	Store Store
	// BaseDomain is appended to a tenant's slug to form its SIP domain
	// ("acme" + "pbx.local" = "acme.pbx.local"). Empty means "pbx.local".
	BaseDomain string
	// Logger receives one record per request; nil means slog.Default().
	Logger *slog.Logger
	// IssueProvisioning creates the provisioning credential of a new desk
	// phone with this MAC. Nil: devices get no provisioning fields.
	IssueProvisioning func(ctx context.Context, mac, model string) (url, username, password, ha1md5, ha1sha256 string, hash []byte, err error)
	// ValidModel reports whether a device model is supported. Nil: any model.
	ValidModel func(model string) bool
	// Models tells DECT bases and adapters apart. Nil: only Gigaset bases
	// carry handsets, and no handset model or fax port can be recorded.
	Models DeviceModels
	// Now is the clock (suspension dates, registration expiry). Nil: time.Now.
	Now func() time.Time
	// TenantChanged is called after a tenant was created or changed, so that
	// what is derived from it (the digest algorithms of its realm) follows at
	// once. Nil: nothing to do.
	TenantChanged func(ctx context.Context)
	// DataDir is the server's data directory: uploaded audio is kept,
	// converted, under DataDir/audio/<tenant>/<id>.wav. Empty: audio
	// uploads answer 503.
	DataDir string
	// Voicemail serves the users' voicemail boxes. Nil: their routes
	// answer 503.
	Voicemail Voicemail
	// TrunkRegistration reports a trunk's registration to its carrier (ok
	// false: it does not register). Nil: trunks show none.
	TrunkRegistration func(trunkID string) (TrunkRegistration, bool)
	// TrunkChanged is called after a trunk was created, changed or
	// deleted, so that registrations follow at once. Nil: nothing to do.
	TrunkChanged func()
	// SMS sends the tenants' SMS. Nil: its route answers 503.
	SMS SMS
	// Campaigns moves campaigns between their states and dials them.
	// Nil: the campaign actions answer 503.
	Campaigns Campaigns
	// Recordings serves call recordings, their settings and the
	// recording policies of users, numbers and hunt groups. Nil: their
	// routes answer 503.
	Recordings Recordings
	// Billing serves rates, credit limits, usage and the CDR export. Nil:
	// the Store when it has these methods, else their routes answer 503.
	Billing Billing
}

// DefaultBaseDomain is the base of tenant SIP domains when Options.BaseDomain is empty.
const DefaultBaseDomain = "pbx.local"

// maxBodyBytes bounds every request body; larger ones answer 413.
const maxBodyBytes = 1 << 20

type server struct {
	store      Store
	baseDomain string
	log        *slog.Logger
	issueProv  func(ctx context.Context, mac, model string) (url, username, password, ha1md5, ha1sha256 string, hash []byte, err error)
	validModel func(string) bool
	models     DeviceModels
	changed    func(ctx context.Context)
	now        func() time.Time
	dataDir    string
	voicemail  Voicemail
	trunkReg   func(trunkID string) (TrunkRegistration, bool)
	trunkChg   func()
	sms        SMS
	campaigns  Campaigns
	recordings Recordings
	billing    Billing
	mux        *http.ServeMux
	patterns   []string
	openapi    []byte
}

// New returns the handler serving /api/v1. It panics if opts.Store is nil,
// as http.Handle panics on a nil handler: that is a wiring mistake.
func New(opts Options) http.Handler {
	s := newServer(opts)
	return s.middleware(s.mux)
}

func newServer(opts Options) *server {
	if opts.Store == nil {
		panic("api: Options.Store is nil")
	}
	s := &server{
		store:      opts.Store,
		baseDomain: opts.BaseDomain,
		log:        opts.Logger,
		issueProv:  opts.IssueProvisioning,
		validModel: opts.ValidModel,
		models:     opts.Models,
		changed:    opts.TenantChanged,
		now:        opts.Now,
		dataDir:    opts.DataDir,
		voicemail:  opts.Voicemail,
		trunkReg:   opts.TrunkRegistration,
		trunkChg:   opts.TrunkChanged,
		sms:        opts.SMS,
		campaigns:  opts.Campaigns,
		recordings: opts.Recordings,
		billing:    billingOf(opts),
	}
	if s.baseDomain == "" {
		s.baseDomain = DefaultBaseDomain
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	// The mux and the OpenAPI document come from the same table; patterns
	// records what was registered so a test can compare it with the document.
	rs := s.routes()
	s.mux = http.NewServeMux()
	for _, rt := range rs {
		pattern := rt.method + " " + rt.path
		s.mux.Handle(pattern, s.wrap(rt))
		s.patterns = append(s.patterns, pattern)
	}
	s.openapi = mustJSON(openAPIDocument(rs))
	return s
}
