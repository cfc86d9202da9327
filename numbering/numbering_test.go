package numbering

import (
	"errors"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"+3221234567", "+3221234567"},
		{"003221234567", "+3221234567"},
		{"021234567", "+3221234567"},
		{"3221234567", "+3221234567"},
		{"02/123.45.67", "+3221234567"},
		{"+32 2 123 45 67", "+3221234567"},
		{"+32 (0)2 123 45 67", "+3221234567"},
		{"0032 (0)471 23 45 67", "+32471234567"},
		{"+3221234567;user=phone", "+3221234567"},
		{"tel:+3221234567", "+3221234567"},
		{"0471 23 45 67", "+32471234567"},
		{"0032471234567", "+32471234567"},
		{"080012345", "+3280012345"},
		{"078151515", "+3278151515"},
		{"070245245", "+3270245245"},
		{"050123456", "+3250123456"},
		{"041234567", "+3241234567"}, // Liège: 04 followed by 1
		{"+33123456789", "+33123456789"},
		{"0033123456789", "+33123456789"},
		{"+14155550100", "+14155550100"},
	} {
		got, err := Normalize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestNormalizeRefuses(t *testing.T) {
	for _, in := range []string{
		"", "abc", "1234", "112", "+32", "0", "02123456", // one digit short
		"0212345678",  // one digit long
		"04712345678", // mobile one digit long
		"047123456",   // mobile one digit short
		"+32 2 123 45 6x", "++3221234567", "+0123456789",
		"+1234567890123456", // 16 digits
		"0800123456",        // freephone one digit long
	} {
		if got, err := Normalize(in); err == nil || !errors.Is(err, ErrInvalid) {
			t.Errorf("Normalize(%q) = %q, %v; want ErrInvalid", in, got, err)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Class
	}{
		{"+3221234567", Geographic},
		{"+3250123456", Geographic},
		{"+3241234567", Geographic},
		{"+32471234567", Mobile},
		{"+32456123456", Mobile},
		{"+3280012345", Freephone},
		{"+3270245245", SharedCost},
		{"+3278151515", NonGeo},
		{"+3290012345", Premium},
		{"+33123456789", Foreign},
	} {
		got, err := Classify(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Classify(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := Classify("021234567"); err == nil {
		t.Error("Classify accepted a national number")
	}
}

func TestNational(t *testing.T) {
	if got := National("+3221234567"); got != "021234567" {
		t.Errorf("National = %q", got)
	}
	if got := National("+33123456789"); got != "0033123456789" {
		t.Errorf("National = %q", got)
	}
}

func TestEmergencyAndHelplines(t *testing.T) {
	for in, want := range map[string]Service{"112": SOS, "100": SOSFire, "101": SOSPolice} {
		if s, ok := Emergency(in); !ok || s != want {
			t.Errorf("Emergency(%q) = %q, %v", in, s, ok)
		}
		if !NeverBarred(in) {
			t.Errorf("NeverBarred(%q) = false", in)
		}
	}
	for _, in := range []string{"1722", "1733", "0900", "021234567", "113"} {
		if _, ok := Emergency(in); ok {
			t.Errorf("Emergency(%q) = true", in)
		}
	}
	for _, in := range []string{"070 245 245", "+3270245245", "0800 32 123", "1813", "116000", "110", "02 649 95 55"} {
		if !NeverBarred(in) {
			t.Errorf("NeverBarred(%q) = false", in)
		}
	}
	for _, in := range []string{"1722", "1733", "090012345", "+3221234567"} {
		if NeverBarred(in) {
			t.Errorf("NeverBarred(%q) = true", in)
		}
	}
}

func TestShort(t *testing.T) {
	for in, want := range map[string]bool{"112": true, "1207": true, "116000": true, "1813": true,
		"12": false, "11600": false, "212": false, "021234567": false, "1a2": false} {
		if got := Short(in); got != want {
			t.Errorf("Short(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseDialled(t *testing.T) {
	for in, want := range map[string]Dialled{
		"02 123 45 67":       {Number: "+3221234567", Key: "+3221234567", Class: Geographic},
		"0470 12 34 56":      {Number: "+32470123456", Key: "+32470123456", Class: Mobile},
		"+32 2 123 45 67":    {Number: "+3221234567", Key: "+3221234567", Class: Geographic},
		"0032 470 12 34 56":  {Number: "+32470123456", Key: "+32470123456", Class: Mobile},
		"0033 1 23 45 67 89": {Number: "+33123456789", Key: "+33123456789", Class: Foreign, International: true},
		"+33 1 23 45 67 89":  {Number: "+33123456789", Key: "+33123456789", Class: Foreign, International: true},
		"1207":               {Number: "1207", Key: "+321207", Class: ShortNumber},
		"0800 12 345":        {Number: "+3280012345", Key: "+3280012345", Class: Freephone},
		"070 12 34 56":       {Number: "+3270123456", Key: "+3270123456", Class: SharedCost},
		"0900 12 345":        {Number: "+3290012345", Key: "+3290012345", Class: Premium},
		"0906/12.345":        {Number: "+3290612345", Key: "+3290612345", Class: Premium},
		"00 31 900 1234567":  {Number: "+319001234567", Key: "+319001234567", Class: Premium, International: true},
		"+979 1234 5678":     {Number: "+97912345678", Key: "+97912345678", Class: Premium, International: true},
	} {
		got, err := ParseDialled(in)
		if err != nil || got != want {
			t.Errorf("ParseDialled(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "0212", "12", "*31*", "02 123 45 678", "0471 12 34"} {
		if got, err := ParseDialled(in); err == nil {
			t.Errorf("ParseDialled(%q) = %+v, want an error", in, got)
		}
	}
}
