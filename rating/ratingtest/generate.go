// Package ratingtest generates a month of calls for the tests and the
// benchmark of the usage and fair-use reports.
package ratingtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"pbx/rating"
	"pbx/store"
)

// Rates is the rate table the generated calls are priced with.
var Rates = []rating.Rate{
	{Prefix: "32", Name: "Belgium fixed", PerMinute: 33_300},
	{Prefix: "3247", Name: "Belgium mobile 047", PerMinute: 120_000, Setup: 50_000},
	{Prefix: "3248", Name: "Belgium mobile 048", PerMinute: 120_000, Setup: 50_000},
	{Prefix: "3270", Name: "Belgium 070", PerMinute: 300_000},
	{Prefix: "44", Name: "United Kingdom", PerMinute: 200_000, Setup: 100_000},
}

// StoreRates is Rates as the store keeps them.
func StoreRates() []store.Rate {
	out := make([]store.Rate, len(Rates))
	for i, r := range Rates {
		out[i] = store.Rate{Prefix: r.Prefix, Name: r.Name, PerMinute: int64(r.PerMinute), Setup: int64(r.Setup)}
	}
	return out
}

// Month is what Generate made: the totals a report must find.
type Month struct {
	Total   rating.Amounts
	ByClass map[rating.Class]rating.Amounts
	ByUser  map[string]rating.Amounts
	// The licences made to stand out in the fair-use report: over the
	// hours, over the distinct numbers, with repeated hour-long calls.
	Talker, Caller, LongCaller string
}

// Generate writes n call records of tenantID's users spread over month m,
// in batches, with the price of each call to the public network (most
// of them; a tenth are internal and a twentieth unanswered), plus a few
// calls just outside the month. Talker (users[1]) talks long, Caller
// (users[2]) calls a new number each time, LongCaller (users[0]) makes
// three calls of over an hour to one number.
func Generate(ctx context.Context, st *store.Store, tenantID string, users []string, m rating.Month, n int) (Month, error) {
	out := Month{ByClass: map[rating.Class]rating.Amounts{}, ByUser: map[string]rating.Amounts{}, LongCaller: users[0], Talker: users[1], Caller: users[2]}
	rnd := rand.New(rand.NewPCG(uint64(n), 11))
	span := m.End().Sub(m.Start())
	const batch = 20_000
	var cdrs []store.CDR
	var prices []store.CDRPrice
	flush := func() error {
		err := st.ImportCDRs(ctx, cdrs, prices)
		cdrs, prices = cdrs[:0], prices[:0]
		return err
	}
	for i := range n {
		user := users[i%len(users)]
		start := m.Start().Add(time.Duration(int64(span) / int64(n) * int64(i)))
		seconds := 1 + rnd.IntN(300)
		var number string
		switch k := rnd.IntN(20); {
		case k < 8:
			number = fmt.Sprintf("+322%07d", rnd.IntN(20))
		case k < 14:
			number = fmt.Sprintf("+3247%07d", rnd.IntN(20))
		case k < 17:
			number = fmt.Sprintf("+4420%08d", rnd.IntN(10))
		default:
			number = fmt.Sprintf("+3270%06d", rnd.IntN(5))
		}
		switch user {
		case out.Talker:
			seconds += 400
		case out.Caller:
			number = fmt.Sprintf("+329%07d", i)
		case out.LongCaller:
			if i < 3*len(users) {
				number, seconds = "+3221112233", 3601+rnd.IntN(600)
			}
		}
		id := fmt.Sprintf("cdr_gen_%08d", i)
		c := store.CDR{ID: id, TenantID: tenantID, CallID: id, Caller: user, Callee: number, Start: start, Answer: start.Add(3 * time.Second),
			End: start.Add(time.Duration(3+seconds) * time.Second), BillableSeconds: seconds, Disposition: "answered", HangupCause: "normal_clearing", Origin: "device"}
		switch i % 20 {
		case 7, 13: // internal: not priced
			c.Callee = "201"
		case 17: // not answered: not priced
			c.Answer, c.BillableSeconds, c.Disposition, c.End = time.Time{}, 0, "no_answer", start.Add(20*time.Second)
		default:
			r, _ := rating.Longest(Rates, number)
			cents := r.Price(seconds)
			class := rating.Classify(number)
			prices = append(prices, store.CDRPrice{CDRID: id, TenantID: tenantID, UserID: user, Number: number, Class: string(class), RatePrefix: r.Prefix,
				Seconds: seconds, Cents: int64(cents), Start: start})
			a := rating.Amounts{Calls: 1, Seconds: int64(seconds), Cents: cents}
			out.Total = plus(out.Total, a)
			out.ByClass[class] = plus(out.ByClass[class], a)
			out.ByUser[user] = plus(out.ByUser[user], a)
		}
		cdrs = append(cdrs, c)
		if len(cdrs) == batch {
			if err := flush(); err != nil {
				return Month{}, err
			}
		}
	}
	// Calls a millisecond outside the month, in Brussels time.
	for i, at := range []time.Time{m.Start().Add(-time.Millisecond), m.End()} {
		id := fmt.Sprintf("cdr_gen_out_%d", i)
		cdrs = append(cdrs, store.CDR{ID: id, TenantID: tenantID, CallID: id, Caller: users[0], Callee: "+3221234567", Start: at, Answer: at, End: at.Add(time.Minute),
			BillableSeconds: 60, Disposition: "answered", Origin: "device"})
		prices = append(prices, store.CDRPrice{CDRID: id, TenantID: tenantID, UserID: users[0], Number: "+3221234567", Class: string(rating.NationalFixed), Seconds: 60, Cents: 4, Start: at})
	}
	return out, flush()
}

func plus(a, b rating.Amounts) rating.Amounts {
	return rating.Amounts{Calls: a.Calls + b.Calls, Seconds: a.Seconds + b.Seconds, Cents: a.Cents + b.Cents}
}
