package trunkreg

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func TestRefreshAfter(t *testing.T) {
	for _, c := range []struct{ granted, min, want time.Duration }{
		{3600 * time.Second, 30 * time.Second, 1800 * time.Second},
		{40 * time.Second, 30 * time.Second, 30 * time.Second}, // half is below the floor
		{10 * time.Second, 30 * time.Second, 10 * time.Second}, // never past the binding's end
		{4 * time.Second, 2 * time.Second, 2 * time.Second},    // short grants honoured
		{0, 30 * time.Second, 30 * time.Second},                // nothing granted: the floor
	} {
		if got := refreshAfter(c.granted, c.min); got != c.want {
			t.Errorf("refreshAfter(%v, %v) = %v, want %v", c.granted, c.min, got, c.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{5, 10, 20, 40, 60, 60}
	for i, w := range want {
		if got := backoff(i+1, 5*time.Second, time.Minute); got != w*time.Second {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w*time.Second)
		}
	}
}

func TestGrantedExpires(t *testing.T) {
	ours := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "pbx", Host: "192.0.2.1", Port: 5060}}
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "carrier.test"})
	mk := func(hs ...sip.Header) *sip.Response {
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		for _, h := range hs {
			res.AppendHeader(h)
		}
		return res
	}
	other := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: "198.51.100.7", Port: 5060}, Params: sip.NewParams()}
	other.Params.Add("expires", "900")
	mine := &sip.ContactHeader{Address: ours.Address, Params: sip.NewParams()}
	mine.Params.Add("expires", "120")
	for name, c := range map[string]struct {
		res  *sip.Response
		want time.Duration
	}{
		"our contact's parameter": {mk(other, mine, sip.NewHeader("Expires", "300")), 120 * time.Second},
		"the Expires header":      {mk(other, sip.NewHeader("Expires", "300")), 300 * time.Second},
		"what we asked":           {mk(), time.Hour},
	} {
		if got := grantedExpires(c.res, ours, time.Hour); got != c.want {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
}
