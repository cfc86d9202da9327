// Package features owns the PBX features built on the call-control
// primitives. For now: the choice of hold music for a tenant.
package features

import (
	"os"
	"path/filepath"

	"pbx/media"
)

// HoldMusic picks the music class a tenant's held callers hear: the files
// in TenantDir/<tenant id>/ when the tenant has its own, else the default
// class from DefaultDir (Debian's asterisk-moh-opsound-wav, 8 kHz mono WAV,
// CC-BY-SA), else the engine's generated melody. Classes are shared streams
// of the engine, so the cost does not grow with the number of held callers.
type HoldMusic struct {
	Engine *media.Engine
	// DefaultDir holds the default music files; default media.DefaultMusicDir.
	DefaultDir string
	// TenantDir holds one folder of music files per tenant that uploaded
	// its own (in the data directory); empty means none.
	TenantDir string
}

// Class returns the tenant's music class.
func (h *HoldMusic) Class(tenantID string) *media.MusicClass {
	if h.TenantDir != "" && tenantID != "" && filepath.Base(tenantID) == tenantID {
		td := filepath.Join(h.TenantDir, tenantID)
		if st, err := os.Stat(td); err == nil && st.IsDir() {
			if files := media.MusicFiles(td); len(files) > 0 {
				// A directory class: music uploaded later is heard
				// without a restart.
				return h.Engine.MusicDir("tenant:"+tenantID, td)
			}
		}
	}
	dir := h.DefaultDir
	if dir == "" {
		dir = media.DefaultMusicDir
	}
	return h.Engine.Music("default", media.MusicFiles(dir))
}

// Named returns the tenant's music class called class: the files in
// TenantDir/<tenant id>/<class>/, nil when the tenant has no such folder.
func (h *HoldMusic) Named(tenantID, class string) *media.MusicClass {
	if h.TenantDir == "" || !plainName(tenantID) || !plainName(class) {
		return nil
	}
	dir := filepath.Join(h.TenantDir, tenantID, class)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil
	}
	return h.Engine.MusicDir("tenant:"+tenantID+":"+class, dir)
}

// plainName: a name that is one path element, so that it cannot reach
// outside the tenant's folder.
func plainName(s string) bool {
	return s != "" && s != "." && s != ".." && filepath.Base(s) == s
}
