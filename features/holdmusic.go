// Package features owns the PBX features built on the call-control
// primitives. For now: the choice of hold music for a tenant.
package features

import (
	"os"
	"path/filepath"

	"pbx/media"
)

// HoldMusic picks the music class a tenant's held callers hear: the files
// in Dir/<tenant id>/ when the tenant has its own, else the default class
// from Dir (Debian's asterisk-moh-opsound-wav, 8 kHz mono WAV), else the
// engine's generated melody. Classes are shared streams of the engine.
type HoldMusic struct {
	Engine *media.Engine
	// Dir holds the default music files; default media.DefaultMusicDir.
	Dir string
}

// Class returns the tenant's music class.
func (h *HoldMusic) Class(tenantID string) *media.MusicClass {
	dir := h.Dir
	if dir == "" {
		dir = media.DefaultMusicDir
	}
	if tenantID != "" && filepath.Base(tenantID) == tenantID {
		td := filepath.Join(dir, tenantID)
		if st, err := os.Stat(td); err == nil && st.IsDir() {
			if files := media.MusicFiles(td); len(files) > 0 {
				return h.Engine.Music("tenant:"+tenantID, files)
			}
		}
	}
	return h.Engine.Music("default", media.MusicFiles(dir))
}
