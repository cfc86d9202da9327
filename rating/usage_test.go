package rating_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"pbx/rating"
	"pbx/rating/ratingtest"
	"pbx/store"
)

// TestUsageAndFairUseOfAGeneratedMonth: 100,000 calls of 400 licences
// over this month: the report's totals (overall, per class, per licence)
// are the sums of the prices computed call by call, the calls a
// millisecond outside the month are not in it, and the fair-use report
// flags exactly the licences made to break the terms.
func TestUsageAndFairUseOfAGeneratedMonth(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "pbx.db"), SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ten, err := st.CreateTenant(ctx, store.Tenant{Name: "Acme", Domain: "acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for i := range 400 {
		u := store.User{TenantID: ten.ID, FirstName: "U", LastName: fmt.Sprint(i), Licence: store.LicenceFull, Extension: fmt.Sprint(1000 + i)}
		if i%10 == 9 {
			u.Licence, u.Extension = store.LicenceLight, ""
		}
		if u, err = st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		users = append(users, u.ID)
	}
	forwarder, err := st.User(ctx, ten.ID, users[3])
	if err != nil {
		t.Fatal(err)
	}
	forwarder.ForwardAlways = "0470123456"
	if err := st.UpdateUser(ctx, forwarder); err != nil {
		t.Fatal(err)
	}
	internal, _ := st.User(ctx, ten.ID, users[4])
	internal.ForwardAlways = "1005"
	if err := st.UpdateUser(ctx, internal); err != nil {
		t.Fatal(err)
	}
	num, err := st.CreateNumber(ctx, store.Number{TenantID: ten.ID, E164: "+3221230000", Destination: store.Destination{Type: "external", Number: "+3250999999"}})
	if err != nil {
		t.Fatal(err)
	}
	// The month the licences were made in: they count in it.
	m := rating.MonthOf(time.Now())
	start := time.Now()
	want, err := ratingtest.Generate(ctx, st, ten.ID, users, m, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("100,000 records written in %v", time.Since(start))

	u, err := rating.Report(ctx, st, ten.ID, m, m.End().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if u.Total != want.Total {
		t.Errorf("total %+v, want %+v", u.Total, want.Total)
	}
	for _, c := range rating.Classes {
		if u.ByClass[c] != want.ByClass[c] {
			t.Errorf("%s: %+v, want %+v", c, u.ByClass[c], want.ByClass[c])
		}
	}
	if len(u.ByUser) != len(want.ByUser) {
		t.Errorf("%d licences in the report, want %d", len(u.ByUser), len(want.ByUser))
	}
	var sum rating.Cents
	for _, uu := range u.ByUser {
		if uu.Total != want.ByUser[uu.UserID] {
			t.Errorf("licence %s: %+v, want %+v", uu.UserID, uu.Total, want.ByUser[uu.UserID])
		}
		sum += uu.Total.Cents
	}
	if sum != u.Total.Cents || u.Total.Calls != 85_000 {
		t.Errorf("licences sum to %d cents of %d; %d calls priced", sum, u.Total.Cents, u.Total.Calls)
	}
	if u.FullLicences != 360 || u.LightLicences != 40 || u.Numbers != 1 {
		t.Errorf("counts %d full, %d light, %d numbers", u.FullLicences, u.LightLicences, u.Numbers)
	}

	rows, err := rating.FairUse(ctx, st, ten.ID, m, rating.DefaultFairUse)
	if err != nil {
		t.Fatal(err)
	}
	flagged := map[string][]string{}
	for _, r := range rows {
		if len(r.Flags) > 0 {
			flagged[r.UserID+r.NumberID] = r.Flags
		}
	}
	wantFlags := map[string][]string{
		want.Talker:     {rating.FlagHours},
		want.Caller:     {rating.FlagDistinctNumbers},
		want.LongCaller: {rating.FlagLongCalls},
		forwarder.ID:    {rating.FlagPermanentForward},
		num.ID:          {rating.FlagPermanentForward},
	}
	if fmt.Sprint(flagged) != fmt.Sprint(wantFlags) {
		t.Errorf("flagged %v, want %v", flagged, wantFlags)
	}
	// Stricter terms flag more: 10 hours catches most licences.
	strict := rating.DefaultFairUse
	strict.MaxHours = 10
	rows, _ = rating.FairUse(ctx, st, ten.ID, m, strict)
	n := 0
	for _, r := range rows {
		if slices.Contains(r.Flags, rating.FlagHours) {
			n++
		}
	}
	if n < 100 {
		t.Errorf("10 hours flagged %d licences", n)
	}
}
