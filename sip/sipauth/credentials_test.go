package sipauth

import (
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/icholy/digest"
)

var credentialSamples = []string{
	`Digest username="alice", realm="acme.pbx.local", nonce="AAAA-bb_cc", uri="sip:127.0.0.1:5060", response="0123456789abcdef0123456789abcdef", algorithm=MD5, cnonce="6b8b4567", qop=auth, nc=00000001`,
	`digest username="bob",realm="x",nonce="n",uri="sip:x",response="r",algorithm=SHA-256,qop=auth,nc=0000000a,cnonce="c",opaque="o"`,
	`DIGEST   username = "es\"ca\\ped" ,  nonce="n", response="r", userhash=TRUE`,
	`Digest username="x"`,
	`Digest nonce="n", response="r"`,
	"Digest ,,,=\"",
	`Digest username="unterminated`,
	`Digest username=, nonce="n"`,
	`Digest uri=sip:x, username="u"`,
	`Digest nc=zz, username="u", nonce="n", response="r"`,
	`Digest username="u"  nonce="n"`,
	`Digest username="u", nonce="n", response="r", x-extension="a,b", Username="ignored"`,
	`Digest username="ü", nonce="n", response="r"`,
	"Digest username=\"u\",\tnonce=\"n\"",
	`Basic Zm9vOmJhcg==`,
	`Digest `,
	``,
}

// The in-place parser agrees with the digest package's on every sample.
func TestParseCredentialsMatchesDigestPackage(t *testing.T) {
	for _, s := range credentialSamples {
		checkSameParse(t, s)
	}
}

func checkSameParse(t *testing.T, s string) {
	t.Helper()
	want, wantErr := digest.ParseCredentials(s)
	got, gotErr := parseCredentials(s)
	if (wantErr != nil) != (gotErr != nil) {
		t.Fatalf("%q: error %v, digest package %v", s, gotErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: parsed %+v, digest package %+v", s, got, want)
	}
}

func FuzzParseCredentials(f *testing.F) {
	for _, s := range credentialSamples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // the digest package reads runes; we keep bytes
		}
		checkSameParse(t, s)
	})
}

func BenchmarkCredentials(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Credentials(credentialSamples[0]); err != nil {
			b.Fatal(err)
		}
	}
}
