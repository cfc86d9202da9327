package main

import (
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"pbx/push"
)

// pushConfig is where the push credentials come from. Keys and service
// accounts are read from files (never from the command line, where every
// user of the machine can see them) and are never logged.
type pushConfig struct {
	APNsKeyID, APNsTeamID, APNsBundle string
	// APNsKey is the .p8 file (default push/apns.p8 in the data
	// directory, when present).
	APNsKey string
	APNsURL string
	// FCMServiceAccount is the service account's JSON key file (default
	// push/fcm.json in the data directory, when present).
	FCMServiceAccount string
	FCMURL            string
	// CA is a PEM file of the authorities that sign the push services'
	// certificates (empty: the system's).
	CA string
	// Wait is how long a call waits for a woken device to register.
	Wait time.Duration
}

// addPushFlags declares the push flags on fs.
func addPushFlags(fs *flag.FlagSet, c *pushConfig, env func(name, def string) string, envDur func(name string, def time.Duration) time.Duration) {
	fs.StringVar(&c.APNsKeyID, "apns-key-id", env("PBX_APNS_KEY_ID", ""), "APNs signing key id (10 characters) [PBX_APNS_KEY_ID]")
	fs.StringVar(&c.APNsTeamID, "apns-team-id", env("PBX_APNS_TEAM_ID", ""), "Apple developer team id [PBX_APNS_TEAM_ID]")
	fs.StringVar(&c.APNsBundle, "apns-bundle-id", env("PBX_APNS_BUNDLE_ID", ""), "bundle id of the softphone app; VoIP pushes go to <bundle>.voip [PBX_APNS_BUNDLE_ID]")
	fs.StringVar(&c.APNsKey, "apns-key", env("PBX_APNS_KEY", ""), "APNs .p8 signing key file (default: push/apns.p8 in the data directory, if present) [PBX_APNS_KEY]")
	fs.StringVar(&c.APNsURL, "apns-url", env("PBX_APNS_URL", push.APNsProduction), "APNs service URL ("+push.APNsSandbox+" for development builds) [PBX_APNS_URL]")
	fs.StringVar(&c.FCMServiceAccount, "fcm-service-account", env("PBX_FCM_SERVICE_ACCOUNT", ""), "Firebase service account JSON key file (default: push/fcm.json in the data directory, if present) [PBX_FCM_SERVICE_ACCOUNT]")
	fs.StringVar(&c.FCMURL, "fcm-url", env("PBX_FCM_URL", push.FCMProduction), "FCM service URL [PBX_FCM_URL]")
	fs.StringVar(&c.CA, "push-ca", env("PBX_PUSH_CA", ""), "PEM file of the authorities that sign the push services' certificates; empty: the system's [PBX_PUSH_CA]")
	fs.DurationVar(&c.Wait, "push-wait", envDur("PBX_PUSH_WAIT", 10*time.Second), "how long a call waits for a softphone woken by push to register, while the user's other devices ring [PBX_PUSH_WAIT]")
}

// pushSenders builds a sender per configured service: APNs when a key id,
// team id, bundle id and key file are given, FCM when a service account
// file is. Errors name the file, never its content.
func pushSenders(c pushConfig, dataDir string) (push.Senders, error) {
	var roots *x509.CertPool
	if c.CA != "" {
		pem, err := os.ReadFile(c.CA)
		if err != nil {
			return nil, fmt.Errorf("--push-ca: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--push-ca %s: no certificate", c.CA)
		}
	}
	client := push.NewHTTP2Client(roots)
	s := push.Senders{}
	keyFile := defaultFile(c.APNsKey, dataDir, "apns.p8")
	if c.APNsKeyID != "" || c.APNsTeamID != "" || c.APNsBundle != "" {
		if keyFile == "" || c.APNsKeyID == "" || c.APNsTeamID == "" || c.APNsBundle == "" {
			return nil, errors.New("APNs needs --apns-key-id, --apns-team-id, --apns-bundle-id and a key (--apns-key or push/apns.p8 in the data directory)")
		}
		data, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, fmt.Errorf("APNs key: %w", err)
		}
		key, err := push.ParseP8(data)
		if err != nil {
			return nil, fmt.Errorf("APNs key %s: %w", keyFile, err)
		}
		a, err := push.NewAPNs(push.APNsConfig{KeyID: c.APNsKeyID, TeamID: c.APNsTeamID, Key: key, BundleID: c.APNsBundle, URL: c.APNsURL, Client: client})
		if err != nil {
			return nil, err
		}
		s["apns"] = a
	}
	if f := defaultFile(c.FCMServiceAccount, dataDir, "fcm.json"); f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("FCM service account: %w", err)
		}
		fc, err := push.NewFCM(push.FCMConfig{ServiceAccount: data, URL: c.FCMURL, Client: client})
		if err != nil {
			return nil, fmt.Errorf("FCM service account %s: %w", f, err)
		}
		s["fcm"] = fc
	}
	return s, nil
}

// defaultFile is path, or name under push/ in the data directory when that
// file exists.
func defaultFile(path, dataDir, name string) string {
	if path != "" {
		return path
	}
	p := filepath.Join(dataDir, "push", name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}
