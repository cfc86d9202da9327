// Package sip is the signalling layer of the softswitch. Its sub-packages own
// one concern each: sipauth (digest authentication and the password-guessing
// guard), registrar (REGISTER and the location service), trunkreg (the
// pbx's own registrations to carriers), sipserver (the SIP
// user agent, its listeners and metrics) and b2bua (calls as legs and bridges).
//
// Signalling never imports the dialplan or the features: an incoming call
// becomes a leg handed to a routing interface that cmd/pbx wires.
package sip
