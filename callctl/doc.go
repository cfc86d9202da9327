// Package callctl is the call-control interface that the dialplan and the
// features are written against: calls, legs, bridges, dialling, prompts,
// recording and events, as value types and interfaces. It holds no SIP and
// no database: sip/b2bua implements it, cmd/pbx wires the implementation to
// the dialplan, and tests of the dialplan and of the features run against
// fakes of it (package callctl/fake).
//
// A feature is a program that runs for the life of a call, single-threaded
// from its author's view: it answers, plays prompts and collects digits,
// records, dials destinations and bridges legs, and reads each leg's
// ordered event stream when it wants to react to hold, DTMF or transfer
// requests. Every blocking primitive takes a context and returns when the
// leg it works on ends, with ErrLegEnded.
//
// The model is the one of Asterisk's channels and bridges and of
// FreeSWITCH's sessions: a Leg is one party's dialog and media; a Call is
// what a program does with the legs it owns; a Bridge joins two legs' media.
package callctl
