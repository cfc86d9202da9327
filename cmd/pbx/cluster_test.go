package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The nodes of a cluster share their keys through the environment; one
// node without it keeps them in its data directory, the same on every start.
func TestNodeKeyFromEnvironment(t *testing.T) {
	key := bytes.Repeat([]byte{0xa5}, 32)
	for _, enc := range []string{hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key)} {
		dir := t.TempDir()
		got, err := nodeKey(func(string) string { return enc }, "PBX_SECRET_KEY", dir, "secret.key")
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("key from %q: %x, %v", enc, got, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "secret.key")); !os.IsNotExist(err) {
			t.Errorf("a key given by the environment was also written to the data directory (%v)", err)
		}
	}
	secret := strings.Repeat("ab", 31) // 31 bytes: too short
	_, err := nodeKey(func(string) string { return secret }, "PBX_NONCE_KEY", t.TempDir(), "nonce.key")
	if err == nil || !strings.Contains(err.Error(), "PBX_NONCE_KEY") || strings.Contains(err.Error(), secret) {
		t.Errorf("a short key: %v (must name the variable, never the value)", err)
	}
	dir := t.TempDir()
	none := func(string) string { return "" }
	k1, err1 := nodeKey(none, "PBX_SECRET_KEY", dir, "secret.key")
	k2, err2 := nodeKey(none, "PBX_SECRET_KEY", dir, "secret.key")
	if err1 != nil || err2 != nil || len(k1) != 32 || !bytes.Equal(k1, k2) {
		t.Errorf("data directory key: %x %v, then %x %v", k1, err1, k2, err2)
	}
}

func TestTrustedProxyFlag(t *testing.T) {
	cfg, err := parseConfig([]string{"--trusted-proxy", "192.0.2.1, ::ffff:198.51.100.2"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.2")}
	if !reflect.DeepEqual(cfg.TrustedProxies, want) {
		t.Errorf("trusted proxies %v, want %v", cfg.TrustedProxies, want)
	}
	if _, err := parseConfig([]string{"--trusted-proxy", "edge.example"}, func(string) string { return "" }); err == nil {
		t.Error("a host name was accepted as a trusted proxy address")
	}
	cfg, err = parseConfig(nil, func(k string) string {
		if k == "PBX_TRUSTED_PROXY" {
			return "192.0.2.7"
		}
		return ""
	})
	if err != nil || len(cfg.TrustedProxies) != 1 || cfg.TrustedProxies[0] != netip.MustParseAddr("192.0.2.7") {
		t.Errorf("PBX_TRUSTED_PROXY: %v, %v", cfg.TrustedProxies, err)
	}
}
