package fake

import (
	"errors"
	"sync"

	"pbx/callctl"
)

// Transfer is a fake callctl.Transfer: it records how the program ended it.
type Transfer struct {
	call       *Call
	transferor *Leg
	transferee callctl.Leg
	target     string

	// CompleteErr, when set, is what Complete returns (the transfer then
	// fails as the real one does when the bridge cannot take the leg).
	CompleteErr error

	mu        sync.Mutex
	over      bool
	completed callctl.Leg
	failed    callctl.Cause
}

var _ callctl.Transfer = (*Transfer)(nil)

// NewTransfer is a blind transfer of call's transferee to target, asked
// by the far end of transferor.
func NewTransfer(call *Call, transferor *Leg, transferee callctl.Leg, target string) *Transfer {
	return &Transfer{call: call, transferor: transferor, transferee: transferee, target: target}
}

func (t *Transfer) Call() callctl.Call      { return t.call }
func (t *Transfer) Transferor() callctl.Leg { return t.transferor }
func (t *Transfer) Transferee() callctl.Leg { return t.transferee }
func (t *Transfer) Target() string          { return t.target }

// Complete records leg and hangs the transferor up, as the real transfer
// does once the transferee is bridged with leg.
func (t *Transfer) Complete(leg callctl.Leg) error {
	t.mu.Lock()
	if t.over {
		t.mu.Unlock()
		return errors.New("fake: transfer already finished")
	}
	t.over = true
	err := t.CompleteErr
	if err == nil {
		t.completed = leg
	}
	t.mu.Unlock()
	if err != nil {
		leg.Hangup(callctl.CauseNormal)
		return err
	}
	t.transferor.Hangup(callctl.CauseTransferred)
	return nil
}

func (t *Transfer) Fail(cause callctl.Cause) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.over {
		t.over, t.failed = true, cause
	}
}

// Completed is the leg the transferee was connected to, nil if none.
func (t *Transfer) Completed() callctl.Leg {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.completed
}

// Failed is the cause Fail was given, "" if it was not called.
func (t *Transfer) Failed() callctl.Cause {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}
