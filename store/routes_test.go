package store

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestOutboundRoutes(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a, err := s.CreateTrunk(ctx, Trunk{Name: "a", Host: "a.test", Port: 5060, Transport: "udp"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.CreateTrunk(ctx, Trunk{Name: "b", Host: "b.test", Port: 5060, Transport: "udp"})
		if err != nil {
			t.Fatal(err)
		}
		def, err := s.CreateOutboundRoute(ctx, OutboundRoute{Prefix: "", Trunks: []string{a.ID}})
		if err != nil {
			t.Fatal(err)
		}
		be, err := s.CreateOutboundRoute(ctx, OutboundRoute{Prefix: "+32", Trunks: []string{b.ID, a.ID}, Priority: 5})
		if err != nil {
			t.Fatal(err)
		}
		be0, err := s.CreateOutboundRoute(ctx, OutboundRoute{Prefix: "+32", Trunks: []string{a.ID}})
		if err != nil {
			t.Fatal(err)
		}
		prem, err := s.CreateOutboundRoute(ctx, OutboundRoute{Prefix: "+3290", Trunks: []string{b.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateOutboundRoute(ctx, OutboundRoute{Prefix: "+1", Trunks: []string{"trk_none"}}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown trunk: %v, want ErrNotFound", err)
		}
		if _, err := s.CreateOutboundRoute(ctx, OutboundRoute{Prefix: "+1", Trunks: []string{a.ID, a.ID}}); !errors.Is(err, ErrConflict) {
			t.Fatalf("trunk twice: %v, want ErrConflict", err)
		}
		rs, err := s.OutboundRoutes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
		if want := []string{prem.ID, be0.ID, be.ID, def.ID}; !slices.Equal(ids, want) {
			t.Fatalf("order: %v, want %v", ids, want)
		}
		if !slices.Equal(rs[2].Trunks, []string{b.ID, a.ID}) || rs[2].Priority != 5 || rs[2].Prefix != "+32" {
			t.Fatalf("route: %+v", rs[2])
		}
		be.Trunks, be.Prefix, be.Priority = []string{a.ID, b.ID}, "+322", 1
		if err := s.UpdateOutboundRoute(ctx, be); err != nil {
			t.Fatal(err)
		}
		got, err := s.OutboundRoute(ctx, be.ID)
		if err != nil || got.Prefix != "+322" || got.Priority != 1 || !slices.Equal(got.Trunks, []string{a.ID, b.ID}) {
			t.Fatalf("updated: %+v, %v", got, err)
		}
		if err := s.UpdateOutboundRoute(ctx, OutboundRoute{ID: "rte_none"}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("update unknown: %v", err)
		}
		// A trunk removed leaves its routes with the others.
		if err := s.DeleteTrunk(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.OutboundRoute(ctx, be.ID); !slices.Equal(got.Trunks, []string{b.ID}) {
			t.Fatalf("after trunk removal: %+v", got)
		}
		if err := s.DeleteOutboundRoute(ctx, be.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.OutboundRoute(ctx, be.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted: %v", err)
		}
		if err := s.DeleteOutboundRoute(ctx, be.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted twice: %v", err)
		}
	})
}
