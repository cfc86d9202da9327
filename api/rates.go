package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"pbx/rating"
	"pbx/store"
)

// Billing is what the rating routes use: the rate table, credit limits,
// fraud blocks, the monthly reports and the CDR export. *store.Store has
// it; Options.Billing defaults to Options.Store when it has it too.
type Billing interface {
	rating.ReportStore
	ReplaceRates(ctx context.Context, rates []store.Rate) error
	Rates(ctx context.Context) ([]store.Rate, error)
	Spent(ctx context.Context, tenantID, userID string, from, to time.Time) (int64, error)
	CreditLimits(ctx context.Context, tenantID string) ([]store.CreditLimit, error)
	SetCreditLimits(ctx context.Context, tenantID string, limits []store.CreditLimit) error
	FraudBlocks(ctx context.Context, tenantID string) ([]store.FraudBlock, error)
	LiftFraudBlock(ctx context.Context, tenantID, userID string, at time.Time) error
	ExportCDRs(ctx context.Context, tenantID string, from, to, afterStart time.Time, afterID string, limit int) ([]store.ExportedCDR, error)
	CDRStart(ctx context.Context, tenantID, id string) (time.Time, error)
}

func billingOf(opts Options) Billing {
	if opts.Billing != nil {
		return opts.Billing
	}
	b, _ := opts.Store.(Billing)
	return b
}

func (s *server) needBilling() error {
	if s.billing == nil {
		return httpProblem(http.StatusServiceUnavailable, "rating is not configured on this server")
	}
	return nil
}

type rateJSON struct {
	Prefix    string `json:"prefix" doc:"the start of the E.164 numbers this rate prices, such as +32 or +3247; the longest prefix of a number wins"`
	Name      string `json:"name"`
	PerMinute string `json:"per_minute" doc:"euro per minute excluding VAT as a decimal string, at most 6 decimals (0.0333); billed per second, each call rounded up to the cent"`
	Setup     string `json:"setup,omitempty" doc:"euro charged once per answered call; none when omitted"`
}

var ratePrefixRE = regexp.MustCompile(`^\+?[1-9][0-9]{0,14}$`)

func (s *server) putRates(c *call) error {
	if err := s.needBilling(); err != nil {
		return err
	}
	var in []rateJSON
	if err := c.decode(&in); err != nil {
		return err
	}
	var fe fieldErrors
	seen := map[string]int{}
	rates := make([]store.Rate, 0, len(in))
	for i, r := range in {
		f := func(name string) string { return fmt.Sprintf("[%d].%s", i, name) }
		p := strings.TrimSpace(r.Prefix)
		if !ratePrefixRE.MatchString(p) {
			fe.add(f("prefix"), "must be a country code and the digits after it, such as +32 or +3247")
		}
		p = strings.TrimPrefix(p, "+")
		if j, dup := seen[p]; dup && p != "" {
			fe.add(f("prefix"), "is also the prefix of [%d]", j)
		}
		seen[p] = i
		name := fe.text(f("name"), r.Name, true, 100)
		pm, err := rating.ParseEuro(r.PerMinute)
		if err != nil {
			fe.add(f("per_minute"), "must be an amount in euro with at most 6 decimals, such as 0.0333")
		}
		var setup rating.Micro
		if r.Setup != "" {
			if setup, err = rating.ParseEuro(r.Setup); err != nil {
				fe.add(f("setup"), "must be an amount in euro with at most 6 decimals, such as 0.15")
			}
		}
		rates = append(rates, store.Rate{Prefix: p, Name: name, PerMinute: int64(pm), Setup: int64(setup)})
	}
	if err := fe.err(); err != nil {
		return err
	}
	if err := s.billing.ReplaceRates(c.ctx(), rates); err != nil {
		return err
	}
	return s.getRates(c)
}

func (s *server) getRates(c *call) error {
	if err := s.needBilling(); err != nil {
		return err
	}
	rs, err := s.billing.Rates(c.ctx())
	if err != nil {
		return err
	}
	out := make([]rateJSON, 0, len(rs))
	for _, r := range rs {
		j := rateJSON{Prefix: "+" + r.Prefix, Name: r.Name, PerMinute: rating.Micro(r.PerMinute).String()}
		if r.Setup != 0 {
			j.Setup = rating.Micro(r.Setup).String()
		}
		out = append(out, j)
	}
	return c.reply(200, out)
}

type creditRequest struct {
	Limit        string              `json:"limit,omitempty" doc:"the tenant's monthly credit in euro excluding VAT; the service's default (100.00) when omitted"`
	AutoRestrict bool                `json:"auto_restrict,omitempty" doc:"reaching the limit moves the tenant to the restricted billing state"`
	Users        []userCreditRequest `json:"users,omitempty" doc:"monthly limits of single licences, within the tenant's"`
}

type userCreditRequest struct {
	UserID string `json:"user_id"`
	Limit  string `json:"limit" doc:"euro excluding VAT"`
}

type creditJSON struct {
	Month        string           `json:"month" doc:"the current calendar month (Europe/Brussels)"`
	Limit        string           `json:"limit"`
	LimitCents   int64            `json:"limit_cents"`
	Default      bool             `json:"default" doc:"the limit is the service's default"`
	AutoRestrict bool             `json:"auto_restrict"`
	SpentCents   int64            `json:"spent_cents" doc:"price of the month's calls that have ended"`
	Users        []userCreditJSON `json:"users"`
}

type userCreditJSON struct {
	UserID     string `json:"user_id"`
	Limit      string `json:"limit"`
	LimitCents int64  `json:"limit_cents"`
	SpentCents int64  `json:"spent_cents"`
}

func (s *server) getCredit(c *call) error {
	if err := s.needBilling(); err != nil {
		return err
	}
	ls, err := s.billing.CreditLimits(c.ctx(), c.tenant.ID)
	if err != nil {
		return err
	}
	m := rating.MonthOf(s.now())
	out := creditJSON{Month: m.String(), LimitCents: int64(rating.DefaultTenantLimit), Default: true, Users: []userCreditJSON{}}
	spent := func(userID string) (int64, error) {
		return s.billing.Spent(c.ctx(), c.tenant.ID, userID, m.Start(), m.End())
	}
	for _, l := range ls {
		if l.UserID == "" {
			out.LimitCents, out.Default, out.AutoRestrict = l.Cents, false, l.AutoRestrict
			continue
		}
		sp, err := spent(l.UserID)
		if err != nil {
			return err
		}
		out.Users = append(out.Users, userCreditJSON{UserID: l.UserID, Limit: rating.Cents(l.Cents).String(), LimitCents: l.Cents, SpentCents: sp})
	}
	out.Limit = rating.Cents(out.LimitCents).String()
	if out.SpentCents, err = spent(""); err != nil {
		return err
	}
	return c.reply(200, out)
}

// cents reads a limit in euro, which must be whole cents.
func cents(fe *fieldErrors, field, v string) int64 {
	m, err := rating.ParseEuro(v)
	if err != nil || m%rating.MicroPerCent != 0 {
		fe.add(field, "must be an amount in euro with at most 2 decimals, such as 100.00")
	}
	return int64(m / rating.MicroPerCent)
}

func (s *server) putCredit(c *call) error {
	if err := s.needBilling(); err != nil {
		return err
	}
	var in creditRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	var fe fieldErrors
	var limits []store.CreditLimit
	if in.Limit != "" || in.AutoRestrict {
		l := store.CreditLimit{Cents: int64(rating.DefaultTenantLimit), AutoRestrict: in.AutoRestrict}
		if in.Limit != "" {
			l.Cents = cents(&fe, "limit", in.Limit)
		}
		limits = append(limits, l)
	}
	seen := map[string]bool{}
	for i, u := range in.Users {
		field := fmt.Sprintf("users[%d]", i)
		switch _, err := s.store.User(c.ctx(), c.tenant.ID, u.UserID); {
		case errors.Is(err, store.ErrNotFound):
			fe.add(field+".user_id", "is not a licence of this tenant")
		case err != nil:
			return err
		case seen[u.UserID]:
			fe.add(field+".user_id", "is listed twice")
		}
		seen[u.UserID] = true
		limits = append(limits, store.CreditLimit{UserID: u.UserID, Cents: cents(&fe, field+".limit", u.Limit)})
	}
	if err := fe.err(); err != nil {
		return err
	}
	if err := s.billing.SetCreditLimits(c.ctx(), c.tenant.ID, limits); err != nil {
		return err
	}
	return s.getCredit(c)
}

type fraudBlockJSON struct {
	UserID    string    `json:"user_id,omitempty" doc:"the blocked licence; absent: the whole tenant is blocked"`
	Reason    string    `json:"reason"`
	BlockedAt time.Time `json:"blocked_at"`
}

func (s *server) listFraudBlocks(c *call) error {
	if err := s.needBilling(); err != nil {
		return err
	}
	bs, err := s.billing.FraudBlocks(c.ctx(), c.tenant.ID)
	if err != nil {
		return err
	}
	out := make([]fraudBlockJSON, 0, len(bs))
	for _, b := range bs {
		out = append(out, fraudBlockJSON{UserID: b.UserID, Reason: b.Reason, BlockedAt: b.At})
	}
	return c.reply(200, out)
}

func (s *server) liftTenantFraudBlock(c *call) error { return s.liftFraudBlock(c, "") }

func (s *server) liftUserFraudBlock(c *call) error {
	if _, err := s.store.User(c.ctx(), c.tenant.ID, c.path("user")); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("user %q not found", c.path("user"))
		}
		return err
	}
	return s.liftFraudBlock(c, c.path("user"))
}

func (s *server) liftFraudBlock(c *call, userID string) error {
	if err := s.needBilling(); err != nil {
		return err
	}
	if err := s.billing.LiftFraudBlock(c.ctx(), c.tenant.ID, userID, s.now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("no toll-fraud block to lift")
		}
		return err
	}
	s.log.Warn("toll-fraud block lifted", "tenant_id", c.tenant.ID, "user_id", userID, "token_id", c.token.ID)
	return c.noContent()
}
