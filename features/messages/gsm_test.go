package messages

import (
	"strings"
	"testing"
)

func TestSegments(t *testing.T) {
	for _, tc := range []struct {
		text     string
		encoding string
		segments int
	}{
		{"", GSM7, 0},
		{"Hallo, tot straks!", GSM7, 1},
		{strings.Repeat("a", 160), GSM7, 1},
		{strings.Repeat("a", 161), GSM7, 2},
		{strings.Repeat("a", 306), GSM7, 2},
		{strings.Repeat("a", 307), GSM7, 3},
		{strings.Repeat("€", 80), GSM7, 1},  // two septets each: 160
		{strings.Repeat("€", 81), GSM7, 2},  // 162 septets
		{"Ça coûte 5 €", UCS2, 1},           // û is not in the GSM alphabet
		{strings.Repeat("é", 160), GSM7, 1}, // é is
		{strings.Repeat("ł", 70), UCS2, 1},
		{strings.Repeat("ł", 71), UCS2, 2},
		{strings.Repeat("😀", 35), UCS2, 1}, // two UTF-16 units each
		{strings.Repeat("😀", 36), UCS2, 2},
	} {
		enc, n := Segments(tc.text)
		if enc != tc.encoding || n != tc.segments {
			t.Errorf("Segments(%.20q…) = %s %d, want %s %d", tc.text, enc, n, tc.encoding, tc.segments)
		}
	}
}
