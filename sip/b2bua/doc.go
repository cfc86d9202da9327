// Package b2bua owns call control in the signalling layer: it turns every
// INVITE into a leg (one SIP dialog plus one media session), hands inbound
// legs to a Router, and gives routers the primitives calls are made of:
// answer, early media, play, prompt and collect digits, music, send DTMF,
// record, dial (one or many targets, in parallel or one after the other,
// with a timeout), bridge, transfer and hang up. Its Leg and Bridge are
// callctl's; each leg has an ordered event stream (answer, hold, DTMF from
// RFC 4733 or SIP INFO, transfer request, hang-up) and a type-ahead of
// digits that prompts read.
//
// An Admitter (wired by cmd/pbx) says who places each new call: a device
// of a tenant or a carrier trunk, as a callctl.Origin. Whether the caller
// may place the call is the router's policy, not this package's. Drain
// refuses new calls while the current ones finish, for rolling restarts.
//
// It is a true back-to-back user agent: each leg is an independent dialog
// with its own Call-ID, tags, CSeq, Via and Contact, and its own SDP from the
// media engine, which anchors all audio. Nothing of one leg's headers reaches
// the other except what the b2bua builds on purpose (the caller's identity
// from its licence). SDP is read and written by media/sdp; this package only
// applies the policy (SRTP only over TLS, and a plain RTP retry for a TLS
// device that refuses it) and turns the outcome into media.Session settings.
//
// In-dialog requests (ACK, BYE, CANCEL, re-INVITE and UPDATE for hold,
// REFER for blind and attended transfer, INFO, NOTIFY) are answered here,
// and so is an INVITE with Replaces (RFC 3891), which takes a bridged leg's
// place.
// Every call ends in a CDR handed to a CDRSink. The package never imports the
// dialplan or the features: cmd/pbx wires a Router to it.
package b2bua
