// Package provisioning serves zero-touch configuration files to Yealink desk and
// conference phones and the W73P DECT base, to Gigaset DECT bases (N510 IP PRO,
// N720 DM PRO, N670 / N870 IP PRO, N860 IP PRO), to Grandstream WP820 / WP822 /
// WP825 Wi-Fi phones and HT801 / HT802 analogue adapters (one account per FXS
// port, fax ports set for G.711 pass-through), under /prov/ and by the file
// names the devices request; and each phone's company directory in its
// vendor's format.
//
// It owns four things:
//
//   - the model catalogue ([LookupModel], [Models]): which models exist, their
//     family, how many accounts, handsets and programmable keys they have, and
//     which Yealink common file each one asks for. The API validates a device's
//     model against it;
//   - the generators ([DeviceFile], [CommonFile]): one device's file is built from
//     the [Directory] on every request, so a change of user, BLF key or credential
//     is in the next file served (nothing is cached or written to disk);
//   - the HTTP handler ([NewHandler]): per-device HTTP digest authentication
//     (MD5 and SHA-256, qop=auth, expiring stateless nonces), basic authentication
//     only over TLS, a per-source-address token bucket, and one log record per
//     request;
//   - the company directory ([PhonebookSource], [YealinkDirectory],
//     [GrandstreamPhonebook], [GigasetDirectory]): a device's file points it at
//     pb/<mac>/<token>/<file>, where the token is derived from the handler's
//     key and the device's provisioning credential (nothing stored); the
//     directory is read afresh on every fetch.
//
// The DECT handset models a base accepts are in [LookupHandset].
//
// The package imports neither the store nor the SIP layer: cmd/pbx adapts the
// store to [Directory].
//
// # Identity and authorisation
//
// A device authenticates with the credentials issued when it was created
// ([NewCredentials]): the username is the device's MAC (12 lower-case hex
// digits) and the password a random secret. The username names the device that
// authenticates; a per-device file is served only when that device's MAC equals
// the MAC of the file and, when the User-Agent carries a MAC, that one too. An
// unknown MAC, a wrong credential and someone else's file all get the same 401
// response (same headers, same body), so the answer says nothing about what
// exists. Boot files, the Gigaset binary redirect chain, provisioning.xml and
// other unknown names get a fast 404 without authentication, identical for every
// MAC: the devices then fall back to the next name they know.
//
// # Choices on uncertain points
//
// The vendor documentation leaves several points unverified on hardware
// ([U]). Where this package had to choose, the choice and
// the reason are in a comment next to the code, tagged "[U]". In short: never
// enable a codec our media engine does not offer, never write a value whose
// meaning is only guessed when leaving the factory value is harmless, and when a
// value is needed prefer the one two sources agree on.
package provisioning
