package voicemail

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"pbx/store"
)

// PINs are stored as the project stores other secrets people choose:
// PBKDF2-SHA256 with a random salt, "pbkdf2-sha256$<iterations>$<salt>$<key>".
const (
	pinIterations = 20000
	pinPrefix     = "pbkdf2-sha256"
)

// HashPIN hashes a PIN of 4 to 10 digits.
func HashPIN(pin string) (string, error) {
	if !validPIN(pin) {
		return "", ErrBadPIN
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("voicemail: salt: %w", err)
	}
	key, err := pbkdf2.Key(sha256.New, pin, salt, pinIterations, 32)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("%s$%d$%s$%s", pinPrefix, pinIterations, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// CheckPIN reports whether pin matches a hash made by HashPIN; an empty
// hash (no PIN set) matches nothing.
func CheckPIN(hash, pin string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 4 || parts[0] != pinPrefix {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 || iter > 10_000_000 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	want, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, pin, salt, iter, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}

func validPIN(pin string) bool {
	if len(pin) < 4 || len(pin) > 10 {
		return false
	}
	for _, c := range pin {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// SetPIN sets a box's PIN; "" removes it.
func (s *Service) SetPIN(ctx context.Context, b store.VoicemailBox, pin string) error {
	if pin == "" {
		return s.Store.SetVoicemailPIN(ctx, b.TenantID, b.ID, "")
	}
	h, err := HashPIN(pin)
	if err != nil {
		return err
	}
	return s.Store.SetVoicemailPIN(ctx, b.TenantID, b.ID, h)
}
