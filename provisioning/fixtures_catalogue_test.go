package provisioning

// catalogueFixtures covers the W73P, the N860, the Grandstream Wi-Fi
// phones and the HT80x adapters, each with the User-Agent it sends (the
// WP8xx form is assumed, see grandstreamUA).
func catalogueFixtures() []fixture {
	return []fixture{
		{
			name: "yealink-dect-w73p",
			ua:   "Yealink W73P 146.85.0.20 80:5e:c0:00:00:73",
			dev: Device{
				ID: "dev_w73p", TenantID: "ten_a", MAC: "805ec0000073", Model: "W73P", Language: "nl",
				PhonebookToken: "0123456789abcdef0123456789abcdef",
				Accounts: []Account{
					{Label: "220 Magazijn", DisplayName: "Magazijn", Extension: "220", SIPUsername: "220", SIPPassword: "pw-magazijn-W73P-01", Handset: 1, HandsetModel: "W73H"},
					{Label: "221 Kassa", DisplayName: "Kassa", Extension: "221", SIPUsername: "221", SIPPassword: "pw-kassa-W73P-02", Handset: 3, HandsetModel: "W73H"},
				},
			},
		},
		{
			name: "gigaset-n860",
			ua:   "Gigaset N860 IP PRO/83.V2.60.0+build.1234567;7C2F80086001",
			dev: Device{
				ID: "dev_n860", TenantID: "ten_b", MAC: "7c2f80086001", Model: "N860", Language: "fr", DECTPIN: "2580",
				PhonebookToken: "fedcba9876543210fedcba9876543210",
				Accounts: []Account{
					{Label: "330 Quai 1", DisplayName: "Quai 1", Extension: "330", SIPUsername: "330", SIPPassword: "pw-quai1-N860-01", SIPDomain: "acme.pbx.example.be", HandsetModel: "R700H"},
					{Label: "331 Quai 2", DisplayName: "Quai 2", Extension: "331", SIPUsername: "331", SIPPassword: "pw-quai2-N860-02", SIPDomain: "acme.pbx.example.be", HandsetModel: "SL800H"},
				},
			},
		},
		{
			name: "grandstream-wp8xx-wp820",
			ua:   "Grandstream Model HW WP820 V1.0A SW 1.0.7.81 DevId c074ad000820",
			dev: Device{
				ID: "dev_wp820", TenantID: "ten_a", MAC: "c074ad000820", Model: "WP820", Language: "en",
				PhonebookToken: "00112233445566778899aabbccddeeff",
				Accounts: []Account{
					{Label: "230 Nora", DisplayName: "Nora <Wouters> & co", Extension: "230", SIPUsername: "230", SIPPassword: "pw-nora-WP820-01"},
				},
				BLF: []BLFKey{{Target: "201", Label: "no keys on a WP820"}},
			},
		},
		{
			name: "grandstream-wp8xx-wp825-light",
			ua:   "Grandstream Model HW WP825 SW 1.0.1.16 DevId c074ad000825",
			dev: Device{
				ID: "dev_wp825", TenantID: "ten_b", MAC: "c074ad000825", Model: "WP825", Language: "de",
				Accounts: []Account{
					{DisplayName: "Tor", SIPUsername: "l-8812", SIPPassword: "pw-light-WP825-01", SIPDomain: "acme.pbx.example.be", Light: true},
					{DisplayName: "Not on a light licence", SIPUsername: "x", SIPPassword: "pw-never-WP825-02"},
				},
			},
		},
		{
			name: "grandstream-ht80x-ht802-fax",
			ua:   "Grandstream Model HW HT802V2 V1.0A SW 1.0.5.4 DevId c074ad000802",
			dev: Device{
				ID: "dev_ht802", TenantID: "ten_a", MAC: "c074ad000802", Model: "HT802", Language: "nl",
				Accounts: []Account{
					{Label: "240 Onthaal", DisplayName: "Onthaal", Extension: "240", SIPUsername: "240", SIPPassword: "pw-onthaal-HT802-01", Handset: 1},
					{DisplayName: "Fax", SIPUsername: "l-4402", SIPPassword: "pw-fax-HT802-02", Light: true, Fax: true, Handset: 2},
				},
			},
		},
		{
			name: "grandstream-ht80x-ht801-door",
			ua:   "Grandstream Model HW HT801 V1.1A SW 1.0.17.5 DevId c074ad000801",
			dev: Device{
				ID: "dev_ht801", TenantID: "ten_b", MAC: "c074ad000801", Model: "HT801", Language: "fr",
				Accounts: []Account{
					{DisplayName: "Porte", SIPUsername: "l-9901", SIPPassword: "pw-door-HT801-01", SIPDomain: "acme.pbx.example.be", Light: true},
				},
				BLF: []BLFKey{{Target: "301", Label: "Should not appear"}},
			},
		},
	}
}
