// Package rating owns what calls to the public network cost: rate tables
// (the longest prefix of the called number wins), per-second prices
// rounded up to the cent per call, destination classes, calendar months
// in the billing time zone, credit limits (when a call must be refused or
// cut), the toll-fraud rule, and the monthly usage and fair-use reports.
// Money is integer everywhere: rates in micro-euros, prices in cents;
// nothing here uses floating point.
//
// The pure rules (Price, Classify, Month, CutAfter, Fraud) need nothing;
// Meter applies them to live calls through small interfaces that cmd/pbx
// wires to the store and the dialplan.
package rating

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Micro is an amount in micro-euros (1 euro = 1,000,000): rates are given
// to the tenth of a thousandth of a cent (0.0333 per minute) and computed
// exactly from there.
type Micro int64

// Cents is an amount in euro cents: what a call costs, once rounded up.
type Cents int64

// MicroPerCent is the number of micro-euros in a cent.
const MicroPerCent = 10_000

// ErrAmount is the error of ParseEuro.
var ErrAmount = errors.New("rating: not an amount in euro")

// ParseEuro reads a decimal euro amount ("0.0333", "12", "1.5") exactly,
// with at most 6 decimals; negative amounts are refused.
func ParseEuro(s string) (Micro, error) {
	s = strings.TrimSpace(s)
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(frac) > 6 || !digits(whole) || !digits(frac) || len(whole) > 9 {
		return 0, fmt.Errorf("%w: %q (want digits with at most 6 decimals, such as 0.0333)", ErrAmount, s)
	}
	var w, f int64
	if whole != "" {
		w, _ = strconv.ParseInt(whole, 10, 64)
	}
	if frac != "" {
		f, _ = strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
	}
	return Micro(w*1_000_000 + f), nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// String writes m in euro with its significant decimals ("0.0333").
func (m Micro) String() string {
	neg := ""
	if m < 0 {
		neg, m = "-", -m
	}
	s := fmt.Sprintf("%s%d.%06d", neg, m/1_000_000, m%1_000_000)
	s = strings.TrimRight(s, "0")
	if strings.HasSuffix(s, ".") {
		s += "00"
	} else if i := strings.IndexByte(s, '.'); len(s)-i == 2 {
		s += "0"
	}
	return s
}

// String writes c in euro with two decimals ("12.34").
func (c Cents) String() string {
	neg := ""
	if c < 0 {
		neg, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", neg, c/100, c%100)
}
