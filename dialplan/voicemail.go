package dialplan

import (
	"context"
	"errors"
	"strings"

	"pbx/callctl"
	"pbx/store"
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

// VoicemailMenu lets a caller listen to a box by phone.
type VoicemailMenu interface {
	// Listen runs for the rest of the call: the box of owner (a licence
	// of the tenant; "" asks the caller for the extension), behind its PIN
	// when pinRequired.
	Listen(ctx context.Context, call callctl.Call, tenantID, owner string, pinRequired bool)
}

// DefaultVoicemailCode is what a user dials to listen to their box; the
// code followed by an extension reaches that extension's box, behind its
// PIN.
const DefaultVoicemailCode = "*98"

// listen sends a call to the voicemail code to the box it names, and
// reports whether it did. From one of the owner's own devices no PIN is
// asked: the device authenticated as the owner.
func (p *Plan) listen(ctx context.Context, call callctl.Call, number string) bool {
	code := p.VoicemailCode
	if code == "" {
		code = DefaultVoicemailCode
	}
	o := call.Origin()
	if p.VoicemailMenu == nil || o.Kind != callctl.OriginDevice || !strings.HasPrefix(number, code) {
		return false
	}
	owner, pin := o.UserID, false
	if ext := number[len(code):]; ext != "" {
		u, err := p.Store.UserByExtension(ctx, o.TenantID, ext)
		switch {
		case err == nil:
			owner, pin = u.ID, u.ID != o.UserID
		case errors.Is(err, store.ErrNotFound):
			// Ask for the box: an unknown extension is not revealed.
			owner, pin = "", true
		default:
			p.log().Error("dialplan: voicemail box lookup", "error", err)
			call.Inbound().Hangup(callctl.CauseFailure)
			return true
		}
	}
	p.VoicemailMenu.Listen(ctx, call, o.TenantID, owner, pin)
	return true
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
