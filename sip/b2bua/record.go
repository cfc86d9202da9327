package b2bua

import (
	"context"
	"errors"
	"io"

	"pbx/callctl"
)

// errNoRecorder: recording waits for the media recorder.
var errNoRecorder = errors.New("b2bua: recording not available")

// Record writes what the far end says to w.
func (l *Leg) Record(ctx context.Context, w io.WriteSeeker, spec callctl.RecordSpec) (callctl.RecordResult, error) {
	return callctl.RecordResult{Err: errNoRecorder}, errNoRecorder
}

// Record records both parties of the bridge.
func (br *Bridge) Record(ctx context.Context, w io.WriteSeeker, spec callctl.RecordSpec) (callctl.Recording, error) {
	return nil, errNoRecorder
}
