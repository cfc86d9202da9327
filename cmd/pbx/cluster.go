package main

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
)

// What a node of a cluster (several `pbx serve` sharing one PostgreSQL
// database behind an edge proxy, see deploy/kamailio) needs beyond one
// node's configuration: the keys every node must share, and the proxies it
// trusts.

// nodeKey is a 32-byte key: from the environment variable env when it is
// set (hex or standard base64), so that every node of a cluster reads
// what another wrote (passwords encrypted at rest, nonces issued by
// another node); otherwise kept in the data directory under file, made on
// first use, which is right for a single node.
func nodeKey(getenv func(string) string, env, dataDir, file string) ([]byte, error) {
	v := strings.TrimSpace(getenv(env))
	if v == "" {
		return loadOrCreateKey(filepath.Join(dataDir, file))
	}
	if b, err := hex.DecodeString(v); err == nil && len(b) == 32 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(v); err == nil && len(b) == 32 {
		return b, nil
	}
	// The value itself is never repeated: it is a secret.
	return nil, fmt.Errorf("%s: want 32 bytes in hex (64 digits) or base64", env)
}

// parseTrustedProxies parses --trusted-proxy: comma-separated IP
// addresses of the edge proxies that relay devices' requests.
func parseTrustedProxies(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxy %q: want IP addresses separated by commas", s)
		}
		out = append(out, a.Unmap())
	}
	return out, nil
}
