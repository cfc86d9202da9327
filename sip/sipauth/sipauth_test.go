package sipauth

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"
)

func ha1(alg, user, realm, pw string) string {
	h := md5New()
	if alg == SHA256 {
		h = sha256New()
	}
	h.Write([]byte(user + ":" + realm + ":" + pw))
	return hex.EncodeToString(h.Sum(nil))
}

func TestVerify(t *testing.T) {
	a := NewAuthenticator([]byte("0123456789abcdef0123456789abcdef"))
	const realm, user, pw = "acme.test", "dev1", "s3cret"
	for _, alg := range []string{MD5, SHA256} {
		for _, tc := range []struct {
			name    string
			pw      string
			realm   string
			shift   time.Duration
			want    error
			foreign bool
		}{
			{name: "good", pw: pw, realm: realm},
			{name: "wrong password", pw: "guess", realm: realm, want: ErrMismatch},
			{name: "wrong realm", pw: pw, realm: "other.test", want: ErrRealm},
			{name: "expired nonce", pw: pw, realm: realm, shift: 10 * time.Minute, want: ErrStale},
			{name: "nonce of another key", pw: pw, realm: realm, want: ErrStale, foreign: true},
		} {
			t.Run(alg+"/"+tc.name, func(t *testing.T) {
				issuer := a
				if tc.foreign {
					issuer = NewAuthenticator(nil)
				}
				var chal *digest.Challenge
				for _, h := range issuer.Challenges(tc.realm, false) {
					c, err := digest.ParseChallenge(h)
					if err != nil {
						t.Fatal(err)
					}
					if c.Algorithm == alg {
						chal = c
					}
				}
				cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:acme.test", Username: user, Password: tc.pw})
				if err != nil {
					t.Fatal(err)
				}
				parsed, err := Credentials(cred.String())
				if err != nil {
					t.Fatal(err)
				}
				a.SetClock(func() time.Time { return time.Now().Add(tc.shift) })
				defer a.SetClock(time.Now)
				got := a.Verify(parsed, "REGISTER", realm, ha1(MD5, user, realm, pw), ha1(SHA256, user, realm, pw))
				if !errors.Is(got, tc.want) && !(got == nil && tc.want == nil) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			})
		}
	}
}

func TestChallengesAreAlike(t *testing.T) {
	a := NewAuthenticator(nil)
	c := a.Challenges("acme.test", false)
	if len(c) != 2 || !strings.Contains(c[0], "SHA-256") || !strings.Contains(c[1], "MD5") {
		t.Fatalf("challenges %v", c)
	}
	if s := a.Challenges("acme.test", true); !strings.Contains(s[0], "stale=true") {
		t.Fatalf("stale challenge %v", s)
	}
}

func TestMalformedCredentials(t *testing.T) {
	for _, h := range []string{"", "Basic Zm9vOmJhcg==", `Digest username="x"`, `Digest nonce="n", response="r"`, "Digest ,,,=\""} {
		if _, err := Credentials(h); err == nil {
			t.Errorf("%q accepted", h)
		}
	}
}

func TestGuard(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	g := NewGuard(GuardConfig{MaxFailuresPerSource: 5, MaxFailuresPerAccount: 3, Window: time.Minute, BanTime: 10 * time.Minute}, nil)
	g.SetClock(func() time.Time { return now })
	var bans []string
	g.OnBan = func(kind, key string) { bans = append(bans, kind+":"+key) }
	for i := 0; i < 3; i++ {
		g.Fail("10.0.0.1", "alice")
	}
	if !g.AccountBanned("alice") || g.SourceBanned("10.0.0.1") {
		t.Fatal("account should be banned, source not yet")
	}
	g.Fail("10.0.0.1", "bob")
	g.Fail("10.0.0.1", "carol")
	if !g.SourceBanned("10.0.0.1") || g.SourceBanned("10.0.0.2") {
		t.Fatal("source ban")
	}
	if len(bans) != 2 {
		t.Fatalf("bans %v", bans)
	}
	// Failures spread beyond the window do not add up.
	g.Fail("10.0.0.3", "dave")
	now = now.Add(2 * time.Minute)
	g.Fail("10.0.0.3", "dave")
	now = now.Add(2 * time.Minute)
	g.Fail("10.0.0.3", "dave")
	if g.AccountBanned("dave") {
		t.Fatal("failures outside the window banned")
	}
	now = now.Add(10 * time.Minute)
	if g.AccountBanned("alice") || g.SourceBanned("10.0.0.1") {
		t.Fatal("ban did not expire")
	}
}

func md5New() hash.Hash    { return md5.New() }
func sha256New() hash.Hash { return sha256.New() }

func TestRealmAlgorithms(t *testing.T) {
	a := NewAuthenticator(nil)
	a.SetRealmAlgorithms(map[string][]string{"legacy.test": {MD5}, "strict.test": {SHA256}})
	for realm, want := range map[string]string{"legacy.test": "MD5", "strict.test": "SHA-256", "other.test": "SHA-256,MD5"} {
		var got []string
		for _, h := range a.Challenges(realm, false) {
			c, err := digest.ParseChallenge(h)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, c.Algorithm)
		}
		if strings.Join(got, ",") != want {
			t.Errorf("%s challenged with %v, want %s", realm, got, want)
		}
	}
	// An answer with an algorithm the realm is not challenged with is
	// refused, even with the right password.
	const user, pw = "dev1", "s3cret"
	answer := func(realm, alg string) error {
		chal := &digest.Challenge{Realm: realm, Nonce: a.nonce(), Algorithm: alg, QOP: []string{"auth"}}
		cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:" + realm, Username: user, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := Credentials(cred.String())
		if err != nil {
			t.Fatal(err)
		}
		return a.Verify(parsed, "REGISTER", realm, ha1(MD5, user, realm, pw), ha1(SHA256, user, realm, pw))
	}
	for _, tc := range []struct {
		realm, alg string
		want       error
	}{
		{"strict.test", MD5, ErrAlgorithm},
		{"strict.test", SHA256, nil},
		{"legacy.test", SHA256, ErrAlgorithm},
		{"legacy.test", MD5, nil},
		{"other.test", MD5, nil},
	} {
		if got := answer(tc.realm, tc.alg); !errors.Is(got, tc.want) && !(got == nil && tc.want == nil) {
			t.Errorf("%s answered with %s: %v, want %v", tc.realm, tc.alg, got, tc.want)
		}
	}
}

func TestParseAlgorithms(t *testing.T) {
	if got, err := ParseAlgorithms(" md5 , SHA-256"); err != nil || strings.Join(got, ",") != "MD5,SHA-256" {
		t.Fatalf("got %v %v", got, err)
	}
	for _, bad := range []string{"", "MD5,", "SHA-1", "MD5,md5"} {
		if _, err := ParseAlgorithms(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The challenges are what the digest library formats, byte for byte,
// whatever the realm (it comes from the request) holds.
func TestChallengeFormat(t *testing.T) {
	for _, realm := range []string{"acme.test", `we"ird\realm`, "tab\there", "é.test", ""} {
		for _, alg := range []string{MD5, SHA256} {
			for _, stale := range []bool{false, true} {
				want := (&digest.Challenge{Realm: realm, Nonce: "n0nce-_", Algorithm: alg, QOP: []string{"auth"}, Stale: stale}).String()
				if got := challenge(realm, "n0nce-_", alg, stale); got != want {
					t.Errorf("challenge %q, want %q", got, want)
				}
			}
		}
	}
}
