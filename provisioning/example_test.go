package provisioning_test

import (
	"context"
	"log/slog"
	"net/http"

	"pbx/provisioning"
)

// storeAdapter is what cmd/pbx writes: the store's device, licence, user and
// BLF tables seen through provisioning.Directory.
type storeAdapter struct{}

func (storeAdapter) DeviceByMAC(ctx context.Context, mac string) (*provisioning.Device, error) {
	// Look the device up by MAC; map "no row" to provisioning.ErrNotFound;
	// decrypt the SIP passwords of this device's accounts only.
	return nil, provisioning.ErrNotFound
}

func ExampleNewHandler() {
	mux := http.NewServeMux()
	mux.Handle(provisioning.PathPrefix, provisioning.NewHandler(provisioning.Options{
		Directory: storeAdapter{},
		Server: provisioning.Server{
			Host:            "sip.pbx.example.be",
			Transport:       "udp",
			ProvisioningURL: "https://prov.pbx.example.be/prov/",
		},
		Logger:    slog.Default(),
		RateLimit: provisioning.RateLimit{PerSecond: 5, Burst: 120},
	}))
	_ = mux // serve it over HTTP and HTTPS
}

func ExampleNewCredentials() {
	// At device creation (POST /devices with a mac): validate the model,
	// issue the credential, store the hashes, return the password once.
	model, ok := provisioning.LookupModel("T54W")
	if !ok {
		return // 422: unknown model
	}
	if err := model.Validate(2, "tls"); err != nil {
		return // 422
	}
	cred, err := provisioning.NewCredentials("80:5e:c0:a1:b2:c3")
	if err != nil {
		return
	}
	url, _ := provisioning.ProvisioningURL("https://prov.pbx.example.be/prov/", model, cred.Username)
	_ = url           // provisioning_url
	_ = cred.Username // provisioning_username
	_ = cred.Password // provisioning_password (shown once)
	// store cred.HA1MD5, cred.HA1SHA256, cred.PasswordHash with the device
}
