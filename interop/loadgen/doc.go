// Package loadgen is the call load generator of the interop tests and of
// the call benchmark (interop/cmd/callbench): SIP user agents built on sipgo
// that register, call each other through the pbx and send real G.711 audio
// with pion/rtp, and the receiving-end measurements SIPp does not give.
//
// A Generator owns two SIP endpoints on loopback UDP sockets, one for every
// caller and one for every callee account (the pbx reaches a callee at the
// address it registered from, and the callee endpoint routes the INVITE by
// its Request-URI user). Each established Call has two RTP ends, one per
// phone, each with its own socket used to send and to receive (symmetric
// RTP, which the pbx latches on).
//
// Audio is paced by a shared scheduler, not one goroutine per stream: every
// 20 ms frame period is cut into slots and each stream sends in its own
// slot, so a thousand calls make an even packet rate rather than bursts.
// The scheduler measures its own lateness (Lag): when it cannot keep pace,
// the figures measure the generator, not the server.
//
// At each receiving end a stream counts packets against the RTP sequence
// numbers (RFC 3550 A.1: expected, received, lost), computes the RFC 3550
// interarrival jitter and decodes RFC 4733 telephone events; MOS turns loss
// and jitter into an estimated mean opinion score with a simplified E-model
// (ITU-T G.107).
package loadgen
