package api

import (
	"context"
	"net/http"

	"pbx/features/callflow"
	"pbx/store"
)

// access says who may call a route.
type access int

const (
	public      access = iota // no token
	adminOnly                 // a token of scope admin
	tenantScope               // admin, or the tenant token of the path's {tenant}
	tenantAdmin               // path has {tenant}; admin only, and a tenant token of another tenant sees 404
)

// route is one operation: the mux and the OpenAPI document are built from
// the same table, so a handler cannot exist without its documentation.
type route struct {
	method  string
	path    string // ServeMux pattern path, which is also the OpenAPI path template
	op      string // OpenAPI operationId
	summary string
	access  access
	in      any      // request body type (a zero value), nil when the operation takes none
	rawIn   []string // media types of a body that is not JSON (an upload)
	rawOut  string   // media type of a success body that is not JSON (a download)
	out     any      // success response body type, nil for 204
	status  int      // success status
	errs    []int
	query   []queryParam
	h       func(*call) error
}

// queryParam documents a query parameter of a route.
type queryParam struct {
	name, typ, doc string
}

const v1 = "/api/v1"

func (s *server) routes() []route {
	const (
		tenant   = v1 + "/tenants/{tenant}"
		user     = tenant + "/users/{user}"
		device   = user + "/devices/{device}"
		site     = tenant + "/sites/{site}"
		conflict = http.StatusConflict
		forbid   = http.StatusForbidden
		trunk    = v1 + "/trunks/{trunk}"
		outRoute = v1 + "/routes/{route}"
		number   = tenant + "/numbers/{number}"
		group    = tenant + "/hunt_groups/{hunt_group}"
		flow     = tenant + "/call_flows/{call_flow}"
		audio    = tenant + "/audio/{audio}"
		vm       = user + "/voicemail"
		vmMsg    = vm + "/{message}"
		vmBox    = user + "/voicemail_box"
		greeting = vmBox + "/greetings/{kind}"
		unavail  = http.StatusServiceUnavailable
		contact  = tenant + "/contacts/{contact}"
		rec      = tenant + "/recordings/{recording}"
	)
	return append([]route{
		{method: "GET", path: v1 + "/openapi.json", op: "getOpenAPI", summary: "This OpenAPI 3.1 document", access: public, out: map[string]any{}, status: 200, h: s.getOpenAPI},

		{method: "POST", path: v1 + "/tenants", op: "createTenant", summary: "Create a tenant; its SIP domain is derived from its name (or slug) and the base domain", access: adminOnly, in: createTenantRequest{}, out: tenantJSON{}, status: 201, errs: []int{conflict, forbid}, h: s.createTenant},
		{method: "GET", path: v1 + "/tenants", op: "listTenants", summary: "List every tenant", access: adminOnly, out: []tenantJSON{}, status: 200, errs: []int{forbid}, h: s.listTenants},
		{method: "GET", path: tenant, op: "getTenant", summary: "Get a tenant, with its SIP domain and billing state", access: tenantScope, out: tenantJSON{}, status: 200, h: s.getTenant},
		{method: "PATCH", path: tenant, op: "updateTenant", summary: "Change a tenant's name, the SIP digest algorithms its devices are challenged with, or (admin token only) its billing state", access: tenantScope, in: updateTenantRequest{}, out: tenantJSON{}, status: 200, errs: []int{forbid}, h: s.updateTenant},
		{method: "PUT", path: tenant + "/webhook", op: "setWebhook", summary: "Set the URL and secret of the tenant's webhook, which is told of every emergency call (signed, retried)", access: tenantScope, in: webhookRequest{}, out: webhookJSON{}, status: 200, h: s.setWebhook},
		{method: "GET", path: tenant + "/webhook", op: "getWebhook", summary: "Get the tenant's webhook URL and whether its secret is set", access: tenantScope, out: webhookJSON{}, status: 200, h: s.getWebhook},
		{method: "GET", path: tenant + "/emergency_calls", op: "listEmergencyCalls", summary: "List the tenant's last 200 emergency calls, newest first, with the location sent", access: tenantScope, out: []emergencyCallJSON{}, status: 200, h: s.listEmergencyCalls},
		{method: "DELETE", path: tenant, op: "deleteTenant", summary: "Delete a tenant and everything it owns", access: tenantAdmin, status: 204, errs: []int{forbid}, h: s.deleteTenant},
		{method: "POST", path: tenant + "/tokens", op: "createTenantToken", summary: "Issue a tenant administrator token; the secret is returned once", access: tenantAdmin, in: createTokenRequest{}, out: tokenJSON{}, status: 201, errs: []int{forbid}, h: s.createTenantToken},

		{method: "POST", path: tenant + "/sites", op: "createSite", summary: "Create a site (civic address for emergency calls)", access: tenantScope, in: siteRequest{}, out: siteJSON{}, status: 201, h: s.createSite},
		{method: "GET", path: tenant + "/sites", op: "listSites", summary: "List the tenant's sites", access: tenantScope, out: []siteJSON{}, status: 200, h: s.listSites},
		{method: "GET", path: site, op: "getSite", summary: "Get a site", access: tenantScope, out: siteJSON{}, status: 200, h: s.getSite},
		{method: "PATCH", path: site, op: "updateSite", summary: "Change some fields of a site", access: tenantScope, in: updateSiteRequest{}, out: siteJSON{}, status: 200, h: s.updateSite},
		{method: "DELETE", path: site, op: "deleteSite", summary: "Delete a site; its users lose their site", access: tenantScope, status: 204, h: s.deleteSite},

		{method: "POST", path: tenant + "/users", op: "createUser", summary: "Create a licence (full: extension, up to 5 devices; light: one device, no extension)", access: tenantScope, in: createUserRequest{}, out: userJSON{}, status: 201, errs: []int{conflict}, h: s.createUser},
		{method: "GET", path: tenant + "/users", op: "listUsers", summary: "List the tenant's licences", access: tenantScope, out: []userJSON{}, status: 200, h: s.listUsers},
		{method: "GET", path: user, op: "getUser", summary: "Get a licence", access: tenantScope, out: userJSON{}, status: 200, h: s.getUser},
		{method: "PATCH", path: user, op: "updateUser", summary: "Change names, e-mail, language, extension, site, do-not-disturb, forwarding or call recording", access: tenantScope, in: updateUserRequest{}, out: userJSON{}, status: 200, errs: []int{conflict}, h: s.updateUser},
		{method: "DELETE", path: user, op: "terminateUser", summary: "Terminate a licence with its devices, bindings and keys", access: tenantScope, status: 204, errs: []int{conflict}, h: s.terminateUser},
		{method: "POST", path: user + "/suspend", op: "suspendUser", summary: "Suspend a licence until a date (at most 3 months ahead) and drop its bindings", access: tenantScope, in: suspendRequest{}, out: userJSON{}, status: 200, errs: []int{conflict}, h: s.suspendUser},
		{method: "POST", path: user + "/reactivate", op: "reactivateUser", summary: "Lift a suspension", access: tenantScope, out: userJSON{}, status: 200, h: s.reactivateUser},
		{method: "GET", path: user + "/blf", op: "getBLFKeys", summary: "List the busy-lamp keys of a user", access: tenantScope, out: []blfKeyJSON{}, status: 200, h: s.getBLF},
		{method: "PUT", path: user + "/blf", op: "putBLFKeys", summary: "Replace the busy-lamp keys of a user", access: tenantScope, in: []blfKeyRequest{}, out: []blfKeyJSON{}, status: 200, h: s.putBLF},
		{method: "GET", path: user + "/registrations", op: "listUserRegistrations", summary: "List the current registrations of a user's devices", access: tenantScope, out: []registrationJSON{}, status: 200, h: s.listUserRegistrations},

		{method: "POST", path: user + "/devices", op: "createDevice", summary: "Add a device; the SIP password (and provisioning password) is returned once", access: tenantScope, in: createDeviceRequest{}, out: deviceCredentialsJSON{}, status: 201, errs: []int{conflict}, h: s.createDevice},
		{method: "GET", path: user + "/devices", op: "listUserDevices", summary: "List a user's devices (never their secrets)", access: tenantScope, out: []deviceJSON{}, status: 200, h: s.listUserDevices},
		{method: "GET", path: device, op: "getDevice", summary: "Get a device (never its secrets)", access: tenantScope, out: deviceJSON{}, status: 200, h: s.getDevice},
		{method: "DELETE", path: device, op: "deleteDevice", summary: "Delete a device and its bindings", access: tenantScope, status: 204, h: s.deleteDevice},
		{method: "POST", path: device + "/rotate", op: "rotateDevice", summary: "Give a device a new SIP password (returned once) and drop its bindings", access: tenantScope, out: deviceCredentialsJSON{}, status: 200, h: s.rotateDevice},
		{method: "POST", path: tenant + "/contacts", op: "createContact", summary: "Add a shared contact (the company directory on every phone; its name shows on incoming calls from its numbers)", access: tenantScope, in: contactRequest{}, out: contactJSON{}, status: 201, h: s.createContact},
		{method: "GET", path: tenant + "/contacts", op: "listContacts", summary: "List the tenant's shared contacts by name", access: tenantScope, out: []contactJSON{}, status: 200, h: s.listContacts},
		{method: "POST", path: tenant + "/contact_imports", op: "importContacts", summary: "Import shared contacts from CSV (name,number[,number...]; optional header line); all lines or none, with a per-line report", access: tenantScope, rawIn: []string{"text/csv"}, out: importJSON{}, status: 201, h: s.importContacts},
		{method: "GET", path: contact, op: "getContact", summary: "Get a shared contact", access: tenantScope, out: contactJSON{}, status: 200, h: s.getContact},
		{method: "PUT", path: contact, op: "updateContact", summary: "Replace a shared contact's name and numbers", access: tenantScope, in: contactRequest{}, out: contactJSON{}, status: 200, h: s.updateContact},
		{method: "DELETE", path: contact, op: "deleteContact", summary: "Delete a shared contact", access: tenantScope, status: 204, h: s.deleteContact},
		{method: "GET", path: tenant + "/devices", op: "listDevices", summary: "List every device of the tenant (never their secrets)", access: tenantScope, out: []deviceJSON{}, status: 200, h: s.listDevices},

		{method: "POST", path: tenant + "/sms", op: "sendSMS", summary: "Send an SMS from one of the tenant's numbers through the carrier trunk (rate-limited per tenant)", access: tenantScope, in: smsRequest{}, out: smsJSON{}, status: 202,
			errs: []int{http.StatusTooManyRequests, http.StatusBadGateway, unavail}, h: s.sendSMS},
		{method: "GET", path: tenant + "/registrations", op: "listRegistrations", summary: "List the tenant's current registrations (contact bindings)", access: tenantScope, out: []registrationJSON{}, status: 200, h: s.listRegistrations},
		{method: "GET", path: tenant + "/cdrs", op: "listCDRs", summary: "List the newest call detail records; with from/to/after, or Accept text/csv or application/x-ndjson, export a period oldest first with prices, streamed (CSV, JSON lines or a JSON array)", access: tenantScope, out: []cdrJSON{}, status: 200,
			query: cdrParams, h: s.cdrs},
		{method: "GET", path: tenant + "/usage", op: "getUsage", summary: "A month's bill: licences and numbers, minutes and cost of calls to the public network per licence and destination class", access: tenantScope, out: usageJSON{}, status: 200, errs: []int{unavail},
			query: []queryParam{{name: "month", typ: "string", doc: "YYYY-MM (default: the current month, Europe/Brussels)"}}, h: s.getUsage},
		{method: "GET", path: tenant + "/fair_use", op: "getFairUse", summary: "A month's fair-use report: call hours, distinct numbers, permanent external forwards, repeated long calls; rows over a threshold flagged", access: tenantScope, out: fairUseJSON{}, status: 200, errs: []int{unavail},
			query: fairUseParams, h: s.getFairUse},
		{method: "GET", path: tenant + "/credit", op: "getCredit", summary: "The tenant's and its licences' monthly credit limits and what the month's calls spent", access: tenantScope, out: creditJSON{}, status: 200, errs: []int{unavail}, h: s.getCredit},
		{method: "PUT", path: tenant + "/credit", op: "putCredit", summary: "Set the monthly credit limits (tenant and licences) and whether reaching it restricts the tenant", access: tenantAdmin, in: creditRequest{}, out: creditJSON{}, status: 200, errs: []int{forbid, unavail}, h: s.putCredit},
		{method: "GET", path: tenant + "/fraud_blocks", op: "listFraudBlocks", summary: "The toll-fraud guard's blocks of international and premium calls", access: tenantScope, out: []fraudBlockJSON{}, status: 200, errs: []int{unavail}, h: s.listFraudBlocks},
		{method: "DELETE", path: tenant + "/fraud_block", op: "liftTenantFraudBlock", summary: "Lift the toll-fraud block of the whole tenant", access: tenantScope, status: 204, errs: []int{unavail}, h: s.liftTenantFraudBlock},
		{method: "DELETE", path: user + "/fraud_block", op: "liftUserFraudBlock", summary: "Lift the toll-fraud block of a licence", access: tenantScope, status: 204, errs: []int{unavail}, h: s.liftUserFraudBlock},

		{method: "POST", path: tenant + "/numbers", op: "createNumber", summary: "Assign a public number to the tenant and say where its calls go", access: tenantScope, in: createNumberRequest{}, out: numberJSON{}, status: 201, errs: []int{conflict}, h: s.createNumber},
		{method: "GET", path: tenant + "/numbers", op: "listNumbers", summary: "List the tenant's numbers", access: tenantScope, out: []numberJSON{}, status: 200, h: s.listNumbers},
		{method: "GET", path: number, op: "getNumber", summary: "Get a number and its destination", access: tenantScope, out: numberJSON{}, status: 200, h: s.getNumber},
		{method: "PATCH", path: number, op: "updateNumber", summary: "Change where a number leads, or whether its calls are recorded", access: tenantScope, in: updateNumberRequest{}, out: numberJSON{}, status: 200, h: s.updateNumber},
		{method: "DELETE", path: number, op: "deleteNumber", summary: "Release a number; users showing it as caller id return to the default", access: tenantScope, status: 204, h: s.deleteNumber},

		{method: "POST", path: tenant + "/hunt_groups", op: "createHuntGroup", summary: "Create a hunt group: colleagues rung by a strategy, an optional queue, an overflow", access: tenantScope, in: huntGroupRequest{}, out: huntGroupJSON{}, status: 201, errs: []int{conflict}, h: s.createHuntGroup},
		{method: "GET", path: tenant + "/hunt_groups", op: "listHuntGroups", summary: "List the tenant's hunt groups", access: tenantScope, out: []huntGroupJSON{}, status: 200, h: s.listHuntGroups},
		{method: "GET", path: group, op: "getHuntGroup", summary: "Get a hunt group", access: tenantScope, out: huntGroupJSON{}, status: 200, h: s.getHuntGroup},
		{method: "PATCH", path: group, op: "updateHuntGroup", summary: "Change some settings or the members of a hunt group", access: tenantScope, in: updateHuntGroupRequest{}, out: huntGroupJSON{}, status: 200, errs: []int{conflict}, h: s.updateHuntGroup},
		{method: "DELETE", path: group, op: "deleteHuntGroup", summary: "Delete a hunt group no number, overflow or call flow leads to", access: tenantScope, status: 204, errs: []int{conflict}, h: s.deleteHuntGroup},

		{method: "POST", path: tenant + "/call_flows", op: "createCallFlow", summary: "Create a call flow from its graph (version 1); every problem of the graph is reported at once", access: tenantScope, in: callflow.Graph{}, out: callFlowJSON{}, status: 201, h: s.createCallFlow},
		{method: "GET", path: tenant + "/call_flows", op: "listCallFlows", summary: "List the tenant's call flows", access: tenantScope, out: []callFlowSummaryJSON{}, status: 200, h: s.listCallFlows},
		{method: "GET", path: flow, op: "getCallFlow", summary: "Get a call flow's current version and graph", access: tenantScope, out: callFlowJSON{}, status: 200, h: s.getCallFlow},
		{method: "PUT", path: flow, op: "putCallFlow", summary: "Publish a new version of a call flow; calls already in it finish on theirs", access: tenantScope, in: callflow.Graph{}, out: callFlowJSON{}, status: 200, h: s.putCallFlow},
		{method: "DELETE", path: flow, op: "deleteCallFlow", summary: "Delete a call flow no number or overflow leads to", access: tenantScope, status: 204, errs: []int{conflict}, h: s.deleteCallFlow},
		{method: "GET", path: flow + "/versions", op: "listCallFlowVersions", summary: "List the published versions of a call flow", access: tenantScope, out: []callFlowVersionJSON{}, status: 200, h: s.listCallFlowVersions},
		{method: "POST", path: flow + "/restore", op: "restoreCallFlow", summary: "Publish an earlier version's graph again, as a new version", access: tenantScope, in: restoreRequest{}, out: callFlowJSON{}, status: 200, h: s.restoreCallFlow},
		{method: "POST", path: flow + "/dry_run", op: "dryRunCallFlow", summary: "Say where a call at a given time pressing given keys would go, placing no call", access: tenantScope, in: dryRunRequest{}, out: dryRunJSON{}, status: 200, h: s.dryRunCallFlow},

		{method: "POST", path: tenant + "/audio", op: "uploadAudio", summary: "Upload an announcement or prompt (WAV of any rate and channel count, or MP3; at most 20 MB and 10 minutes), stored as 8 kHz mono WAV; the query parameter name names it", access: tenantScope, rawIn: audioUploadTypes, out: audioJSON{}, status: 201, errs: []int{http.StatusServiceUnavailable},
			query: []queryParam{{name: "name", typ: "string", doc: "a name for people; the uploaded file's name by default"}}, h: s.uploadAudio},
		{method: "GET", path: tenant + "/audio", op: "listAudio", summary: "List the tenant's audio", access: tenantScope, out: []audioJSON{}, status: 200, h: s.listAudio},
		{method: "GET", path: audio, op: "getAudio", summary: "Get an audio's description", access: tenantScope, out: audioJSON{}, status: 200, h: s.getAudio},
		{method: "GET", path: audio + "/file", op: "getAudioFile", summary: "Download the stored 8 kHz mono WAV", access: tenantScope, rawOut: "audio/wav", status: 200, h: s.getAudioFile},
		{method: "DELETE", path: audio, op: "deleteAudio", summary: "Delete an audio no call flow's current version plays", access: tenantScope, status: 204, errs: []int{conflict}, h: s.deleteAudio},

		{method: "GET", path: vm, op: "listVoicemail", summary: "List the messages in a user's voicemail box, oldest first", access: tenantScope, out: []voicemailMessageJSON{}, status: 200, errs: []int{unavail}, h: s.listVoicemail},
		{method: "GET", path: vmBox, op: "getVoicemailBox", summary: "Get a user's voicemail box settings (e-mail, whether a PIN is set)", access: tenantScope, out: voicemailBoxJSON{}, status: 200, errs: []int{unavail}, h: s.getVoicemailBox},
		{method: "PATCH", path: vmBox, op: "updateVoicemailBox", summary: "Change where and whether a box's messages are mailed", access: tenantScope, in: updateVoicemailBoxRequest{}, out: voicemailBoxJSON{}, status: 200, errs: []int{unavail}, h: s.updateVoicemailBox},
		{method: "PUT", path: vmBox + "/pin", op: "setVoicemailPIN", summary: "Set the PIN asked when the box is called from another phone (stored hashed)", access: tenantScope, in: voicemailPINRequest{}, status: 204, errs: []int{unavail}, h: s.setVoicemailPIN},
		{method: "DELETE", path: vmBox + "/pin", op: "resetVoicemailPIN", summary: "Remove the PIN: the box is then reached from the owner's own phones only", access: tenantScope, status: 204, errs: []int{unavail}, h: s.resetVoicemailPIN},
		{method: "PUT", path: greeting, op: "uploadVoicemailGreeting", summary: "Upload a greeting (unavailable, busy, temporary or name) as WAV of any rate or MP3, stored as 8 kHz mono WAV", access: tenantScope, rawIn: audioUploadTypes, status: 204, errs: []int{unavail}, h: s.uploadVoicemailGreeting},
		{method: "DELETE", path: greeting, op: "deleteVoicemailGreeting", summary: "Remove a greeting: callers hear the next one, or the default", access: tenantScope, status: 204, errs: []int{unavail}, h: s.deleteVoicemailGreeting},
		{method: "GET", path: vmMsg, op: "getVoicemailMessage", summary: "Get a voicemail message", access: tenantScope, out: voicemailMessageJSON{}, status: 200, errs: []int{unavail}, h: s.getVoicemailMessage},
		{method: "GET", path: vmMsg + "/audio", op: "getVoicemailAudio", summary: "Download a voicemail message (8 kHz mono WAV)", access: tenantScope, rawOut: "audio/wav", status: 200, errs: []int{unavail}, h: s.getVoicemailAudio},
		{method: "PATCH", path: vmMsg, op: "markVoicemailMessage", summary: "Mark a message read (heard) or new; the phones' message-waiting lamps follow", access: tenantScope, in: markVoicemailRequest{}, out: voicemailMessageJSON{}, status: 200, errs: []int{unavail}, h: s.markVoicemail},
		{method: "DELETE", path: vmMsg, op: "deleteVoicemailMessage", summary: "Delete a message and its audio", access: tenantScope, status: 204, errs: []int{unavail}, h: s.deleteVoicemail},

		{method: "POST", path: tenant + "/music", op: "uploadMusic", summary: "Upload hold music (WAV of any rate and channel count, or MP3), stored as 8 kHz mono WAV in the tenant's default class or the class the query names; classes hear new files at once", access: tenantScope, rawIn: audioUploadTypes, out: musicJSON{}, status: 201, errs: []int{unavail},
			query: []queryParam{{name: "class", typ: "string", doc: "the music class (as hunt group queues and call flows name it); empty: the tenant's default class"}}, h: s.uploadMusic},
		{method: "GET", path: tenant + "/music", op: "listMusic", summary: "List the tenant's hold music by class", access: tenantScope, out: []musicJSON{}, status: 200, errs: []int{unavail}, h: s.listMusic},
		{method: "DELETE", path: tenant + "/music/{music}", op: "deleteMusic", summary: "Remove a hold music file", access: tenantScope, status: 204, errs: []int{unavail}, h: s.deleteMusic},

		{method: "GET", path: tenant + "/recordings", op: "listRecordings", summary: "List call recordings, newest first", access: tenantScope, out: []recordingJSON{}, status: 200, errs: []int{unavail},
			query: []queryParam{{name: "from", typ: "string", doc: "started at or after this RFC 3339 time"}, {name: "to", typ: "string", doc: "started before this RFC 3339 time"},
				{name: "party", typ: "string", doc: "a party's number (extension or E.164)"}, {name: "user", typ: "string", doc: "a user (licence) id among the parties"},
				{name: "limit", typ: "integer", doc: "at most this many (1-1000, default 100)"}}, h: s.listRecordings},
		{method: "GET", path: rec, op: "getRecording", summary: "Get a call recording, with its export state", access: tenantScope, out: recordingJSON{}, status: 200, errs: []int{unavail}, h: s.getRecording},
		{method: "GET", path: rec + "/audio", op: "getRecordingAudio", summary: "Download a recording (8 kHz 16-bit stereo WAV, left the caller, right the callee); range requests are served; each download is audited", access: tenantScope, rawOut: "audio/wav", status: 200, errs: []int{unavail}, h: s.getRecordingAudio},
		{method: "DELETE", path: rec, op: "deleteRecording", summary: "Delete a recording and its file; the audit keeps a trace", access: tenantScope, status: 204, errs: []int{unavail}, h: s.deleteRecording},
		{method: "GET", path: tenant + "/recording_audit", op: "listRecordingAudit", summary: "What became of the tenant's recordings (purged, deleted, exported, downloaded), oldest first; entries outlive the recordings", access: tenantScope, out: []recordingAuditJSON{}, status: 200, errs: []int{unavail},
			query: []queryParam{{name: "recording", typ: "string", doc: "only this recording's entries"}}, h: s.listRecordingAudit},
		{method: "GET", path: tenant + "/recording_settings", op: "getRecordingSettings", summary: "Get the tenant's recording retention, announcement, toggle code and SFTP export (never its secrets)", access: tenantScope, out: recordingSettingsJSON{}, status: 200, errs: []int{unavail}, h: s.getRecordingSettings},
		{method: "PATCH", path: tenant + "/recording_settings", op: "updateRecordingSettings", summary: "Change the tenant's recording retention (at most 90 days), announcement, toggle code or SFTP export", access: tenantScope, in: recordingSettingsRequest{}, out: recordingSettingsJSON{}, status: 200, errs: []int{unavail}, h: s.updateRecordingSettings},

		{method: "POST", path: v1 + "/trunks", op: "createTrunk", summary: "Add a carrier trunk; calls from its inbound sources are routed by the called number", access: adminOnly, in: trunkRequest{}, out: trunkJSON{}, status: 201, errs: []int{conflict, forbid}, h: s.createTrunk},
		{method: "GET", path: v1 + "/trunks", op: "listTrunks", summary: "List the carrier trunks (never their passwords)", access: adminOnly, out: []trunkJSON{}, status: 200, errs: []int{forbid}, h: s.listTrunks},
		{method: "GET", path: trunk, op: "getTrunk", summary: "Get a carrier trunk (never its password)", access: adminOnly, out: trunkJSON{}, status: 200, errs: []int{forbid}, h: s.getTrunk},
		{method: "PATCH", path: trunk, op: "updateTrunk", summary: "Change some fields of a carrier trunk", access: adminOnly, in: updateTrunkRequest{}, out: trunkJSON{}, status: 200, errs: []int{conflict, forbid}, h: s.updateTrunk},
		{method: "PUT", path: v1 + "/rates", op: "putRates", summary: "Replace the rate table of calls to the public network (the longest prefix of a number wins; internal and emergency calls are free)", access: adminOnly, in: []rateJSON{}, out: []rateJSON{}, status: 200, errs: []int{forbid, unavail}, h: s.putRates},
		{method: "GET", path: v1 + "/rates", op: "getRates", summary: "The rate table", access: adminOnly, out: []rateJSON{}, status: 200, errs: []int{forbid, unavail}, h: s.getRates},
		{method: "DELETE", path: trunk, op: "deleteTrunk", summary: "Remove a carrier trunk", access: adminOnly, status: 204, errs: []int{forbid}, h: s.deleteTrunk},

		{method: "POST", path: v1 + "/routes", op: "createRoute", summary: "Add an outbound route: calls to numbers with its prefix leave through its trunks in order (the longest matching prefix wins; \"\" is the default route)", access: adminOnly, in: routeRequest{}, out: routeJSON{}, status: 201, errs: []int{forbid}, h: s.createRoute},
		{method: "GET", path: v1 + "/routes", op: "listRoutes", summary: "List the outbound routes, in the order they are matched", access: adminOnly, out: []routeJSON{}, status: 200, errs: []int{forbid}, h: s.listRoutes},
		{method: "GET", path: outRoute, op: "getRoute", summary: "Get an outbound route", access: adminOnly, out: routeJSON{}, status: 200, errs: []int{forbid}, h: s.getRoute},
		{method: "PATCH", path: outRoute, op: "updateRoute", summary: "Change an outbound route's prefix, trunks or priority", access: adminOnly, in: updateRouteRequest{}, out: routeJSON{}, status: 200, errs: []int{forbid}, h: s.updateRoute},
		{method: "DELETE", path: outRoute, op: "deleteRoute", summary: "Remove an outbound route", access: adminOnly, status: 204, errs: []int{forbid}, h: s.deleteRoute},
		{method: "GET", path: tenant + "/calling", op: "getTenantCalling", summary: "Get the tenant's main number and barring of calls to the public network", access: tenantScope, out: callingJSON{}, status: 200, h: s.getCalling},
		{method: "PATCH", path: tenant + "/calling", op: "updateTenantCalling", summary: "Change the tenant's main number or barring; lifting a barring needs an admin token and is logged", access: tenantScope, in: updateCallingRequest{}, out: callingJSON{}, status: 200, errs: []int{forbid}, h: s.updateCalling},
	}, s.campaignRoutes()...)
}

// call is one request being served by a route handler.
type call struct {
	s      *server
	w      http.ResponseWriter
	r      *http.Request
	token  store.APIToken
	tenant store.Tenant // set when the route has {tenant}
}

func (c *call) ctx() context.Context { return c.r.Context() }

func (c *call) path(name string) string { return c.r.PathValue(name) }

// wrap turns a route into a handler: authentication, the tenant check, then
// the route's own function; any error it returns becomes a problem document.
func (s *server) wrap(rt route) http.Handler {
	pattern := rt.method + " " + rt.path
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info := infoFrom(r.Context()); info != nil {
			info.route = pattern
		}
		c := &call{s: s, w: w, r: r}
		err := s.authorize(c, rt.access)
		if err == nil {
			err = rt.h(c)
		}
		if err != nil {
			s.fail(c, err)
		}
	})
}

func (s *server) getOpenAPI(c *call) error {
	c.w.Header().Set("Content-Type", "application/json")
	c.w.Header().Set("Cache-Control", "public, max-age=300")
	c.w.Write(s.openapi)
	return nil
}
