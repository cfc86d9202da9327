package dialplan

import (
	"context"

	"pbx/callctl"
)

// Voicemail is where calls go that reach nobody: a user who does not
// answer, is busy or has no registered device, and forwards nowhere; a
// call flow's voicemail node; a number whose destination is a box.
type Voicemail interface {
	// Deposit runs for the rest of the call: it answers the inbound leg
	// and lets the caller leave a message in the box of owner (a full
	// licence or a hunt group of the tenant). reason is one of the
	// Voicemail* reasons; it chooses the greeting.
	Deposit(ctx context.Context, call callctl.Call, tenantID, owner, reason string)
}

// Why a call reaches a box.
const (
	VoicemailNoAnswer    = "no_answer"
	VoicemailBusy        = "busy"
	VoicemailUnavailable = "unavailable"
)

// unreached remembers the last user a reacher could not reach and who
// forwards nowhere: the box a call that reached nobody goes to.
type unreached struct {
	userID, reason string
}

// voicemailReason is the reason of a dial's failure cause.
func voicemailReason(c callctl.Cause) string {
	switch c {
	case callctl.CauseBusy:
		return VoicemailBusy
	case callctl.CauseNoAnswer:
		return VoicemailNoAnswer
	}
	return VoicemailUnavailable
}

// toVoicemail sends a call that reached nobody to the box r noted, and
// reports whether it did.
func (p *Plan) toVoicemail(ctx context.Context, call callctl.Call, tenantID string, r reacher) bool {
	if p.Voicemail == nil || r.unreached == nil || r.unreached.userID == "" {
		return false
	}
	p.Voicemail.Deposit(ctx, call, tenantID, r.unreached.userID, r.unreached.reason)
	return true
}
