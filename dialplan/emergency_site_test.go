package dialplan

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"pbx/callctl"
	"pbx/store"
)

// lockedBuffer is a log sink safe for the background report.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func headers(tg callctl.Target, name string) []string {
	var out []string
	for _, h := range tg.Headers {
		if strings.EqualFold(h.Name, name) {
			out = append(out, h.Value)
		}
	}
	return out
}

// A trunk that asks for the caller's site gets the site's emergency
// number in P-Asserted-Identity (and, with phone_context, in the
// Request-URI), beside the PIDF-LO; a trunk that does not ask gets the
// call as before; without a site number the call goes out as before and
// a warning is logged.
func TestEmergencySiteIdentity(t *testing.T) {
	const site = "+3221110000"
	for _, tc := range []struct {
		name, mode, dialled, siteNumber string
		softphone                       bool   // the device registered a location elsewhere
		wantURI, wantPAI                string // of trunk b; "" for none
		wantWarn                        bool
	}{
		{"default", "", "112", site, false, "sip:112@b.carrier.test:5060", "", false},
		{"pai", store.EmergencySitePAI, "112", site, false, "sip:112@b.carrier.test:5060", "<sip:" + site + "@acme.example;user=phone>", false},
		{"phone_context", store.EmergencySitePhoneContext, "101", site, false,
			"sip:101;phone-context=" + site + "@b.carrier.test:5060;user=phone", "<sip:" + site + "@acme.example;user=phone>", false},
		{"softphone elsewhere keeps its site", store.EmergencySitePhoneContext, "112", site, true,
			"sip:112;phone-context=" + site + "@b.carrier.test:5060;user=phone", "<sip:" + site + "@acme.example;user=phone>", false},
		{"no site number", store.EmergencySitePAI, "112", "", false, "sip:112@b.carrier.test:5060", "", true},
		{"remote help keeps the caller", store.EmergencySitePhoneContext, "1813", site, false, "sip:1813@b.carrier.test:5060", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, em, r := emergencySetup(BillingActive, nil)
			var logs lockedBuffer
			p.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			r.trunks[1].EmergencySiteIdentity = tc.mode
			s := em.sites["s1"]
			s.EmergencyNumber = tc.siteNumber
			em.sites["s1"] = s
			if tc.softphone {
				em.locations["d200"] = pidf("Leuven", "3000")
			}
			call := deviceCall(tc.dialled)
			if route(t, p, call) == nil {
				t.Fatalf("not bridged: %v", call.InboundLeg().Hangups())
			}
			p.Emergency.Wait()
			ds := call.Dials()[0].Destinations
			if len(ds) != 2 || ds[0].Tag != "b" || ds[1].Tag != "a" {
				t.Fatalf("destinations %+v", ds)
			}
			b, a := ds[0].Targets[0], ds[1].Targets[0]
			if b.URI != tc.wantURI {
				t.Errorf("Request-URI %q, want %q", b.URI, tc.wantURI)
			}
			pai := headers(b, "P-Asserted-Identity")
			if tc.wantPAI == "" && len(pai) != 0 || tc.wantPAI != "" && (len(pai) != 1 || pai[0] != tc.wantPAI) {
				t.Errorf("P-Asserted-Identity %q, want %q", pai, tc.wantPAI)
			}
			// The caller's own number still presents the call (From).
			if ds[0].CallerID == nil || ds[0].CallerID.Number != "+3221234567" {
				t.Errorf("caller id %+v", ds[0].CallerID)
			}
			// The trunk that does not ask is untouched.
			if !strings.HasPrefix(a.URI, "sip:"+tc.dialled+"@a.carrier.test") || len(headers(a, "P-Asserted-Identity")) != 0 {
				t.Errorf("trunk a: %s %v", a.URI, a.Headers)
			}
			// The PIDF-LO goes in every case: the softphone's own.
			city := "Brussel"
			if tc.softphone {
				city = "Leuven"
			}
			if loc := sentLocation(t, b); loc.Civic == nil || loc.Civic.A3 != city {
				t.Errorf("location %+v", loc.Civic)
			}
			warned := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "site number and there is none")
			if warned != tc.wantWarn {
				t.Errorf("warned %v, want %v: %s", warned, tc.wantWarn, logs.String())
			}
		})
	}
}
