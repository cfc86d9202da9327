package provisioning

import (
	"slices"
	"strings"
)

// HandsetModel is a DECT handset the catalogue sells, with what a base's
// file may switch on for it.
type HandsetModel struct {
	Name   string   // canonical name, e.g. "R700H", "W73H"
	Vendor Vendor   // the bases it registers to
	Bases  []Family // base families that accept it
	// Rugged handsets (IP65 and the like) have no colour display; the file
	// says nothing different for them yet, but the API shows it.
	Rugged bool
	// Bluetooth handsets can pair a headset; the file leaves that to the user.
	Bluetooth bool
}

// handsetCatalogue lists the handsets of the service's catalogue. Gigaset
// PRO handsets register to every Gigaset base family (N510, N720, Nx70,
// N860) [U: the vendor's compatibility table lists R650H, R700H, SL750H and
// SL800H for the Nx70 and N720; the N510 is assumed the same]; the W73H
// registers to the W73P (W70B) base.
var handsetCatalogue = []HandsetModel{
	{Name: "R650H", Vendor: Gigaset, Bases: gigasetBases, Rugged: true},
	{Name: "R700H", Vendor: Gigaset, Bases: gigasetBases, Rugged: true, Bluetooth: true},
	{Name: "SL750H", Vendor: Gigaset, Bases: gigasetBases, Bluetooth: true},
	{Name: "SL800H", Vendor: Gigaset, Bases: gigasetBases, Bluetooth: true},
	{Name: "W73H", Vendor: Yealink, Bases: []Family{FamilyYealinkDECT}},
}

var gigasetBases = []Family{FamilyGigasetN510, FamilyGigasetN720, FamilyGigasetNx70, FamilyGigasetN860}

// LookupHandset finds a handset model by name, ignoring case, a vendor
// prefix and the " PRO" suffix: "R700H PRO", "gigaset sl800h" and "W73H"
// all match.
func LookupHandset(name string) (HandsetModel, bool) {
	k := strings.ToUpper(strings.TrimSpace(name))
	for _, p := range []string{"YEALINK ", "GIGASET "} {
		k = strings.TrimSpace(strings.TrimPrefix(k, p))
	}
	k = strings.TrimSpace(strings.TrimSuffix(k, " PRO"))
	for _, h := range handsetCatalogue {
		if h.Name == k {
			h.Bases = slices.Clone(h.Bases)
			return h, true
		}
	}
	return HandsetModel{}, false
}

// HandsetFits reports whether a handset model registers to a base model.
func HandsetFits(handset, base string) bool {
	h, ok := LookupHandset(handset)
	if !ok {
		return false
	}
	m, ok := LookupModel(base)
	return ok && slices.Contains(h.Bases, m.Family)
}
