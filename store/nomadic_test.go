package store

import (
	"context"
	"testing"
)

// A site keeps its emergency number and a trunk how it is told of the
// caller's site, through create, read, list and update.
func TestSiteEmergencyNumberAndTrunkSiteIdentity(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ten, _ := newTenantUser(t, s)
		site, err := s.CreateSite(ctx, Site{TenantID: ten.ID, Name: "Gent", Street: "Veldstraat", Number: "1", PostalCode: "9000", City: "Gent",
			EmergencyNumber: "+3292001122"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Site(ctx, ten.ID, site.ID)
		if err != nil || got.EmergencyNumber != "+3292001122" {
			t.Fatalf("site read back: %+v, %v", got, err)
		}
		got.EmergencyNumber = ""
		if err := s.UpdateSite(ctx, got); err != nil {
			t.Fatal(err)
		}
		if sites, err := s.Sites(ctx, ten.ID); err != nil || len(sites) != 1 || sites[0].EmergencyNumber != "" {
			t.Fatalf("site after clearing its number: %+v, %v", sites, err)
		}

		plain, err := s.CreateTrunk(ctx, Trunk{Name: NewID("plain"), Host: "sip.carrier.test", Port: 5060, Transport: "udp"})
		if err != nil {
			t.Fatal(err)
		}
		if plain.EmergencySiteIdentity != "" {
			t.Fatalf("default site identity: %q", plain.EmergencySiteIdentity)
		}
		tr, err := s.CreateTrunk(ctx, Trunk{Name: NewID("nomadic"), Host: "sip.carrier.test", Port: 5060, Transport: "udp",
			EmergencySiteIdentity: EmergencySitePAI})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.Trunk(ctx, tr.ID); err != nil || got.EmergencySiteIdentity != EmergencySitePAI {
			t.Fatalf("trunk read back: %+v, %v", got, err)
		}
		tr.EmergencySiteIdentity = EmergencySitePhoneContext
		if err := s.UpdateTrunk(ctx, tr); err != nil {
			t.Fatal(err)
		}
		all, err := s.Trunks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, x := range all {
			if x.ID == tr.ID {
				found = x.EmergencySiteIdentity == EmergencySitePhoneContext
			}
		}
		if !found {
			t.Fatalf("trunk after update: %+v", all)
		}
	})
}
