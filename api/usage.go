package api

import (
	"fmt"
	"strconv"

	"pbx/rating"
	"pbx/store"
)

type amountsJSON struct {
	Calls     int64  `json:"calls"`
	Seconds   int64  `json:"seconds" doc:"billed seconds"`
	Minutes   int64  `json:"minutes" doc:"the seconds in whole minutes, a started minute counting"`
	CostCents int64  `json:"cost_cents" doc:"the sum of the calls' prices, each rounded up to the cent"`
	Cost      string `json:"cost" doc:"the same in euro excluding VAT"`
}

func toAmounts(a rating.Amounts) amountsJSON {
	return amountsJSON{Calls: a.Calls, Seconds: a.Seconds, Minutes: a.Minutes(), CostCents: int64(a.Cents), Cost: a.Cents.String()}
}

func byClass(m map[rating.Class]rating.Amounts) map[string]amountsJSON {
	out := make(map[string]amountsJSON, len(rating.Classes))
	for _, c := range rating.Classes {
		out[string(c)] = toAmounts(m[c])
	}
	return out
}

type licencesJSON struct {
	Full  int64 `json:"full"`
	Light int64 `json:"light"`
}

type userUsageJSON struct {
	UserID  string                 `json:"user_id" doc:"empty for the calls the tenant's numbers forwarded to the public network"`
	Total   amountsJSON            `json:"total"`
	ByClass map[string]amountsJSON `json:"by_class"`
}

type usageJSON struct {
	Month    string                 `json:"month"`
	Licences licencesJSON           `json:"licences" doc:"licences at the end of the month; one made during the month counts for all of it; a closed month's counts never change"`
	Numbers  int64                  `json:"numbers" doc:"public numbers at the end of the month, counted the same way"`
	Total    amountsJSON            `json:"total" doc:"calls to the public network (internal and emergency calls are free and not listed)"`
	ByClass  map[string]amountsJSON `json:"by_class" doc:"national_fixed, mobile, international, special"`
	ByUser   []userUsageJSON        `json:"by_user"`
}

// month reads the month query parameter (default: the current one).
func (s *server) month(c *call, fe *fieldErrors) rating.Month {
	v := c.r.URL.Query().Get("month")
	if v == "" {
		return rating.MonthOf(s.now())
	}
	m, err := rating.ParseMonth(v)
	if err != nil {
		fe.add("month", "must be a month as YYYY-MM, such as 2026-11")
	}
	return m
}

func (s *server) getUsage(c *call) error {
	if err := s.needBilling(); err != nil {
		return err
	}
	var fe fieldErrors
	m := s.month(c, &fe)
	if err := fe.err(); err != nil {
		return err
	}
	u, err := rating.Report(c.ctx(), s.billing, c.tenant.ID, m, s.now())
	if err != nil {
		return err
	}
	out := usageJSON{Month: m.String(), Licences: licencesJSON{u.FullLicences, u.LightLicences}, Numbers: u.Numbers,
		Total: toAmounts(u.Total), ByClass: byClass(u.ByClass), ByUser: make([]userUsageJSON, 0, len(u.ByUser))}
	for _, uu := range u.ByUser {
		out.ByUser = append(out.ByUser, userUsageJSON{UserID: uu.UserID, Total: toAmounts(uu.Total), ByClass: byClass(uu.ByClass)})
	}
	return c.reply(200, out)
}

type fairUseLimitsJSON struct {
	MaxHours        int64 `json:"max_hours"`
	MaxNumbers      int64 `json:"max_numbers"`
	LongCallMinutes int64 `json:"long_call_minutes"`
	LongCallRepeats int64 `json:"long_call_repeats"`
}

type longCallsJSON struct {
	Number string `json:"number"`
	Calls  int64  `json:"calls"`
}

type fairUseRowJSON struct {
	UserID           string          `json:"user_id,omitempty"`
	NumberID         string          `json:"number_id,omitempty" doc:"a public number whose calls all go to an external number"`
	CallSeconds      int64           `json:"call_seconds"`
	CallHours        string          `json:"call_hours" doc:"call_seconds in hours, two decimals, rounded down"`
	DistinctNumbers  int64           `json:"distinct_numbers"`
	PermanentForward string          `json:"permanent_forward,omitempty" doc:"the external number every call is forwarded to"`
	LongCalls        []longCallsJSON `json:"long_calls,omitempty"`
	Flags            []string        `json:"flags" enum:"hours,distinct_numbers,permanent_forward,long_calls"`
	Flagged          bool            `json:"flagged"`
}

type fairUseJSON struct {
	Month  string            `json:"month"`
	Limits fairUseLimitsJSON `json:"limits"`
	Rows   []fairUseRowJSON  `json:"rows"`
}

var fairUseParams = []queryParam{
	{name: "month", typ: "string", doc: "YYYY-MM (default: the current month, Europe/Brussels)"},
	{name: "max_hours", typ: "integer", doc: "call hours per licence above which it is flagged (default 15)"},
	{name: "max_numbers", typ: "integer", doc: "distinct numbers called per licence above which it is flagged (default 150)"},
	{name: "long_call_minutes", typ: "integer", doc: "a long call lasts more than this (default 60)"},
	{name: "long_call_repeats", typ: "integer", doc: "long calls to one number that flag a licence (default 2)"},
}

func (s *server) getFairUse(c *call) error {
	if err := s.needBilling(); err != nil {
		return err
	}
	var fe fieldErrors
	m := s.month(c, &fe)
	lim := rating.DefaultFairUse
	q := c.r.URL.Query()
	for _, p := range []struct {
		name string
		v    *int64
	}{{"max_hours", &lim.MaxHours}, {"max_numbers", &lim.MaxNumbers}, {"long_call_minutes", &lim.LongCallMinutes}, {"long_call_repeats", &lim.LongCallRepeats}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 || n > 100_000 {
				fe.add(p.name, "must be a whole number from 1 to 100000")
			}
			*p.v = n
		}
	}
	if err := fe.err(); err != nil {
		return err
	}
	rows, err := rating.FairUse(c.ctx(), s.billing, c.tenant.ID, m, lim)
	if err != nil {
		return err
	}
	out := fairUseJSON{Month: m.String(), Limits: fairUseLimitsJSON(lim), Rows: make([]fairUseRowJSON, 0, len(rows))}
	for _, r := range rows {
		j := fairUseRowJSON{UserID: r.UserID, NumberID: r.NumberID, CallSeconds: r.Seconds, CallHours: fmt.Sprintf("%d.%02d", r.Seconds/3600, r.Seconds%3600*100/3600),
			DistinctNumbers: r.DistinctNumbers, PermanentForward: r.PermanentForward, Flags: append([]string{}, r.Flags...), Flagged: len(r.Flags) > 0}
		for _, l := range r.LongCalls {
			j.LongCalls = append(j.LongCalls, longCallsJSON{Number: l.Number, Calls: l.Calls})
		}
		out.Rows = append(out.Rows, j)
	}
	return c.reply(200, out)
}

var _ Billing = (*store.Store)(nil)
