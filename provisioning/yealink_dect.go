package provisioning

import "fmt"

// yealinkHandsets binds each account of a Yealink DECT base to its handset:
// handset.<slot> rings for, and dials out on, its own account only
// (handset.N.incoming_lines / dial_out_lines / dial_out_default_line, as in
// the W52P/W60B templates of wazo, sipXecom and Yealink). Slots without an
// account are given no line, so a handset taken away over REST stops
// ringing. Account n is the n-th handset in slot order.
func (g *gen) yealinkHandsets(w *cfgWriter, hs []handsetAccount) {
	// The base sends the handset names it has: handsets registered by hand
	// keep working until the file names them (wazo sets this too).
	w.set("static.auto_provision.handset_configured.enable", 1)
	bySlot := map[int]int{}
	for i, h := range hs {
		bySlot[h.slot] = i + 1
	}
	for slot := 1; slot <= g.model.MaxHandsets; slot++ {
		p := fmt.Sprintf("handset.%d.", slot)
		n, ok := bySlot[slot]
		if !ok {
			w.comment("Handset %d: no account", slot)
			w.set(p+"name", null)
			w.set(p+"incoming_lines", null)
			w.set(p+"dial_out_lines", null)
			w.set(p+"dial_out_default_line", null)
			continue
		}
		h := hs[n-1]
		if h.HandsetModel != "" {
			w.comment("Handset %d: %s (%s)", slot, h.label(), h.HandsetModel)
		} else {
			w.comment("Handset %d: %s", slot, h.label())
		}
		w.set(p+"name", h.label())
		w.set(p+"incoming_lines", fmt.Sprint(n))
		w.set(p+"dial_out_lines", fmt.Sprint(n))
		w.set(p+"dial_out_default_line", n)
	}
}

// yealinkPhonebook points the phone at its company directory, reloaded
// every hour (features.remote_phonebook.flash_time, seconds), so that an
// edit reaches the phone at the next refresh at the latest.
func (g *gen) yealinkPhonebook(w *cfgWriter) {
	url := g.phonebookURL(PhonebookYealink)
	if url == "" {
		return
	}
	w.comment("Company directory")
	w.set("remote_phonebook.data.1.url", url)
	w.set("remote_phonebook.data.1.name", g.srv.ProviderName)
	w.set("features.remote_phonebook.enable", 1)
	w.set("features.remote_phonebook.flash_time", phonebookRefreshSeconds)
}
