package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// Writes made at once share transactions, each caller returning once its
// own is committed; one that fails (a user that does not exist) fails
// alone and the others are kept.
func TestGroupCommitIsolatesFailures(t *testing.T) { forEachStore(t, testGroupCommitIsolatesFailures) }

func testGroupCommitIsolatesFailures(t *testing.T, s *Store) {
	ctx := context.Background()
	ten, err := s.CreateTenant(ctx, Tenant{Name: "Acme", Domain: "acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, User{TenantID: ten.ID, FirstName: "An", LastName: "P", Licence: LicenceFull, Extension: "201"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	now := time.Now().UTC().Truncate(time.Millisecond)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 10 {
			case 3:
				errs[i] = s.UserCallEnded(ctx, "usr_missing", now)
			case 5:
				errs[i] = s.UserCallEnded(ctx, u.ID, now.Add(time.Duration(i)*time.Millisecond))
			default:
				_, errs[i] = s.InsertCDR(ctx, CDR{TenantID: ten.ID, CallID: fmt.Sprint("c", i), Caller: "201", Callee: "202",
					Start: now, End: now.Add(time.Second), Disposition: "answered"})
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if i%10 == 3 {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("write %d for a missing user: %v, want ErrNotFound", i, err)
			}
		} else if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	cdrs, err := s.CDRs(ctx, ten.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if want := n * 8 / 10; len(cdrs) != want {
		t.Fatalf("%d call records kept, want %d", len(cdrs), want)
	}
	last, err := s.UsersLastCallEnded(ctx, []string{u.ID})
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(195 * time.Millisecond); !last[u.ID].Equal(want) {
		t.Fatalf("last call ended %v, want the latest written, %v", last[u.ID], want)
	}
}
