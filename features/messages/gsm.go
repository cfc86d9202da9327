package messages

import "unicode/utf16"

// An SMS is written in the GSM 7-bit default alphabet (3GPP TS 23.038)
// when every character of its text is in it, else in UCS-2. A single
// message holds 160 septets or 70 UCS-2 units; a longer text is split into
// segments that each lose room to the concatenation header: 153 septets,
// 67 units.
const (
	GSM7 = "GSM-7"
	UCS2 = "UCS-2"
)

// gsmBasic is the default alphabet; gsmExtension the characters reached
// through its escape, which take two septets.
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtension = "\f^{}\\[~]|€"
)

var gsmSeptets = func() map[rune]int {
	m := map[rune]int{}
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
}()

// Segments returns the encoding an SMS of text is sent in and how many
// segments it takes.
func Segments(text string) (encoding string, segments int) {
	septets := 0
	for _, r := range text {
		n, ok := gsmSeptets[r]
		if !ok {
			units := len(utf16.Encode([]rune(text)))
			return UCS2, split(units, 70, 67)
		}
		septets += n
	}
	return GSM7, split(septets, 160, 153)
}

func split(n, single, part int) int {
	switch {
	case n == 0:
		return 0
	case n <= single:
		return 1
	}
	return (n + part - 1) / part
}
