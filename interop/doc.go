// Package interop owns the black-box tests of the softswitch: what a phone, a
// carrier or an attacker would do to the running `pbx` binary.
//
// The tests build cmd/pbx, start it as a subprocess on loopback with a fresh
// data directory and OS-chosen ports, provision tenants and devices through
// the REST API, and drive the SIP side with real user agents: SIPp scenarios
// (scenarios/*.xml, Debian package sip-tester) and baresip (baresip-core),
// plus garbage and malformed requests written byte by byte.
//
// The non-test code of the package is the kit those tests and the
// benchmarks (cmd/regbench, cmd/callbench) share: building and supervising
// the server process, a small REST client, account provisioning (devices
// for registrations, one-device licences for calls) with SIPp injection
// files, a SIPp runner that judges a run from its statistics file, never
// from SIPp's exit status (SIPp exits 0 as soon as one call succeeded),
// and CPU sampling of the server from /proc.
package interop
