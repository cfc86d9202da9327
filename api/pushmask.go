package api

import (
	"strings"

	"pbx/store"
)

// pushJSON is what a registration shows of its RFC 8599 push parameters:
// the device's token is a bearer of its own (anyone holding it and the
// app's credentials can wake the phone), so only its ends are shown.
type pushJSON struct {
	Instance     string `json:"instance,omitempty" doc:"the device's +sip.instance (RFC 5626)"`
	PushProvider string `json:"push_provider,omitempty" doc:"pn-provider (RFC 8599) when the device is woken by push: apns, fcm"`
	PushToken    string `json:"push_token,omitempty" doc:"pn-prid, the device's push token, masked"`
	PushParam    string `json:"push_param,omitempty" doc:"pn-param: TeamID.BundleID.voip (APNs) or the project id (FCM)"`
}

func toPushJSON(b store.Binding) pushJSON {
	out := pushJSON{Instance: b.Instance, PushProvider: b.Push.Provider, PushParam: b.Push.Param}
	if b.Push.PRID != "" {
		out.PushToken = maskToken(b.Push.PRID)
	}
	return out
}

// maskToken keeps the first and last four characters of a long token,
// enough to tell two devices apart, and nothing of a short one.
func maskToken(s string) string {
	if len(s) < 16 {
		return "****"
	}
	return s[:4] + "****" + s[len(s)-4:]
}

// maskContact masks the pn-prid parameter inside a Contact URI.
func maskContact(contact string) string {
	i := strings.Index(strings.ToLower(contact), ";pn-prid=")
	if i < 0 {
		return contact
	}
	start := i + len(";pn-prid=")
	end := strings.IndexAny(contact[start:], ";?>")
	if end < 0 {
		end = len(contact) - start
	}
	return contact[:start] + maskToken(contact[start:start+end]) + contact[start+end:]
}
