package provisioning

// gigasetNetdir points an N510 or N720 at its company directory: the
// online directory server URL, to which the base appends its search
// ("?command=get_list&type=pb&ln=..."); the trailing "?" is how Gigaset's
// own example writes it. [U] The directory's display name and the other
// netdir items are left to the base's defaults: their names were not found.
func (g *gen) gigasetNetdir(w *pfWriter) {
	u := g.phonebookURL(PhonebookGigaset)
	if u == "" {
		return
	}
	w.comment("Company directory")
	w.str("BS_XML_Netdirs.astNetdirProvider[0].aucServerURL[0]", u+"?")
}
