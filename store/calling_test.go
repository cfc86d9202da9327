package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestTenantCallingAndUserSettings(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ten, err := s.CreateTenant(ctx, Tenant{Name: "Acme", Domain: NewID("d") + ".test"})
		if err != nil {
			t.Fatal(err)
		}
		other, err := s.CreateTenant(ctx, Tenant{Name: "Other", Domain: NewID("d") + ".test"})
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.TenantCalling(ctx, ten.ID)
		if err != nil || c != DefaultTenantCalling(ten.ID) || !c.BarPremium || c.BarInternational {
			t.Fatalf("defaults: %+v, %v", c, err)
		}
		main, err := s.CreateNumber(ctx, Number{TenantID: ten.ID, E164: "+3221234567", Destination: Destination{Type: DestVoicemail, ID: "x"}})
		if err != nil {
			t.Fatal(err)
		}
		foreign, err := s.CreateNumber(ctx, Number{TenantID: other.ID, E164: "+3221234568", Destination: Destination{Type: DestVoicemail, ID: "x"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetTenantCalling(ctx, TenantCalling{TenantID: ten.ID, MainNumberID: foreign.ID}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another tenant's number: %v, want ErrNotFound", err)
		}
		if err := s.SetTenantCalling(ctx, TenantCalling{TenantID: ten.ID, MainNumberID: main.ID, BarInternational: true}); err != nil {
			t.Fatal(err)
		}
		c, err = s.TenantCalling(ctx, ten.ID)
		if err != nil || c.MainNumberID != main.ID || c.MainNumber != "+3221234567" || c.BarPremium || !c.BarInternational {
			t.Fatalf("set: %+v, %v", c, err)
		}
		// A released number is no longer presented.
		if err := s.DeleteNumber(ctx, ten.ID, main.ID); err != nil {
			t.Fatal(err)
		}
		if c, err = s.TenantCalling(ctx, ten.ID); err != nil || c.MainNumberID != "" || c.MainNumber != "" || !c.BarInternational {
			t.Fatalf("after release: %+v, %v", c, err)
		}
		if err := s.SetTenantCalling(ctx, TenantCalling{TenantID: "ten_none"}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown tenant: %v", err)
		}

		u, err := s.CreateUser(ctx, User{TenantID: ten.ID, FirstName: "An", LastName: "P", Licence: LicenceFull, Extension: "201", CLIR: true})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := s.User(ctx, ten.ID, u.ID); !got.CLIR || got.RejectAnonymous || got.BarInternational {
			t.Fatalf("created: %+v", got)
		}
		u.CLIR, u.RejectAnonymous, u.BarInternational = false, true, true
		if err := s.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.UserByExtension(ctx, ten.ID, "201"); got.CLIR || !got.RejectAnonymous || !got.BarInternational {
			t.Fatalf("updated: %+v", got)
		}

		tr, err := s.CreateTrunk(ctx, Trunk{Name: "t", Host: "t.test", Port: 5060, Transport: "udp"})
		if err != nil || tr.ForwardIdentity != ForwardDiversion {
			t.Fatalf("trunk: %+v, %v", tr, err)
		}
		tr.ForwardIdentity, tr.ResponseTimeout = ForwardPAI, 1500*time.Millisecond
		if err := s.UpdateTrunk(ctx, tr); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Trunk(ctx, tr.ID); err != nil || got.ForwardIdentity != ForwardPAI || got.ResponseTimeout != 1500*time.Millisecond {
			t.Fatalf("trunk updated: %+v, %v", got, err)
		}
	})
}
