// Package fake holds fakes of the callctl interfaces for tests of the
// dialplan and of features: a Call, its Legs, Dialing, Bridge and Transfer
// that record what the program under test did (answered, dialled which
// specs, bridged, hung up with which cause, played and prompted what) and
// let the test script what the far ends do (a destination answers, is busy
// or does not answer; the caller types digits, holds, hangs up).
//
// Every fake is safe for concurrent use: a program runs on its own
// goroutine while the test scripts and inspects it.
package fake

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"pbx/callctl"
	"pbx/media"
)

var ids atomic.Uint64

func nextID(prefix string) string { return fmt.Sprintf("%s-%d", prefix, ids.Add(1)) }

// Leg is a fake callctl.Leg. The test scripts the far end with Type, Emit
// and RemoteHangup, and reads what the program did with the accessors.
type Leg struct {
	id      string
	inbound bool
	remote  callctl.Party
	secure  bool

	// AnswerErr, when set before the program answers, is what Answer
	// returns (and the leg stays unanswered).
	AnswerErr error
	// OnRecord, when set before the program records, is what Record does
	// (write the far end's speech to w, say how it ended).
	OnRecord func(w io.WriteSeeker, spec callctl.RecordSpec) (callctl.RecordResult, error)
	// Headers and Parts are the INVITE's, for an inbound leg
	// (callctl.Request); set them before the program runs.
	Headers []callctl.Header
	Parts   []callctl.BodyPart

	mu         sync.Mutex
	state      callctl.LegState
	answeredAt time.Time
	cause      callctl.Cause
	done       chan struct{}
	events     chan callctl.Event
	digits     []rune // typed, not yet collected
	rang       int
	progressed bool
	hangups    []callctl.Cause // asked by the program
	plays      [][]media.Source
	prompts    []callctl.PromptSpec
	music      []string // StartMusic classes; "-" for StopMusic
	sentDTMF   string
}

// NewLeg returns an unanswered leg whose far end is remote.
func NewLeg(inbound bool, remote callctl.Party) *Leg {
	return &Leg{id: nextID("leg"), inbound: inbound, remote: remote, done: make(chan struct{}), events: make(chan callctl.Event, 64)}
}

// newAnsweredLeg is a dialled leg that answered.
func newAnsweredLeg(remote callctl.Party) *Leg {
	l := NewLeg(false, remote)
	l.state = callctl.LegAnswered
	l.answeredAt = time.Now()
	l.emit(callctl.Event{Kind: callctl.EventAnswer})
	return l
}

var (
	_ callctl.Leg     = (*Leg)(nil)
	_ callctl.Request = (*Leg)(nil)
)

// RequestHeader returns the values of Headers called name.
func (l *Leg) RequestHeader(name string) []string {
	var out []string
	for _, h := range l.Headers {
		if strings.EqualFold(h.Name, name) {
			out = append(out, h.Value)
		}
	}
	return out
}

// RequestParts returns Parts.
func (l *Leg) RequestParts() []callctl.BodyPart { return l.Parts }

func (l *Leg) ID() string            { return l.id }
func (l *Leg) Inbound() bool         { return l.inbound }
func (l *Leg) Remote() callctl.Party { return l.remote }
func (l *Leg) Secure() bool          { return l.secure }
func (l *Leg) Done() <-chan struct{} { return l.done }
func (l *Leg) Events() <-chan callctl.Event {
	return l.events
}

func (l *Leg) State() callctl.LegState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

func (l *Leg) AnsweredAt() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.answeredAt
}

func (l *Leg) Cause() callctl.Cause {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cause
}

// emit queues an event, dropping it when 64 are unread (as the real stream
// does). The caller holds l.mu, or owns a leg no one else has seen yet.
func (l *Leg) emit(ev callctl.Event) {
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	if l.state == callctl.LegEnded && ev.Kind != callctl.EventHangup {
		return
	}
	select {
	case l.events <- ev:
	default:
	}
}

func (l *Leg) Ring() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rang++
	if l.state == callctl.LegNew {
		l.state = callctl.LegRinging
	}
}

func (l *Leg) Progress(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == callctl.LegEnded {
		return callctl.ErrLegEnded
	}
	l.progressed = true
	if l.state < callctl.LegEarly {
		l.state = callctl.LegEarly
	}
	return nil
}

func (l *Leg) Answer(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.state == callctl.LegEnded:
		return callctl.ErrLegEnded
	case l.AnswerErr != nil:
		return l.AnswerErr
	case l.state != callctl.LegAnswered:
		l.state = callctl.LegAnswered
		l.answeredAt = time.Now()
		l.emit(callctl.Event{Kind: callctl.EventAnswer})
	}
	return nil
}

// Hangup records the cause the program gave and ends the leg.
func (l *Leg) Hangup(cause callctl.Cause) {
	l.mu.Lock()
	l.hangups = append(l.hangups, cause)
	l.mu.Unlock()
	l.end(cause)
}

// RemoteHangup ends the leg as the far end hanging up would.
func (l *Leg) RemoteHangup(cause callctl.Cause) { l.end(cause) }

func (l *Leg) end(cause callctl.Cause) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == callctl.LegEnded {
		return
	}
	l.state, l.cause = callctl.LegEnded, cause
	l.emit(callctl.Event{Kind: callctl.EventHangup, Cause: cause})
	close(l.events)
	close(l.done)
}

// Type queues digits as if the far end typed them: each is an EventDTMF
// and is kept for the next Prompt.
func (l *Leg) Type(digits string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range digits {
		l.digits = append(l.digits, d)
		l.emit(callctl.Event{Kind: callctl.EventDTMF, Digit: d})
	}
}

// Emit puts ev on the leg's event stream (hold, unhold, a transfer
// request...).
func (l *Leg) Emit(ev callctl.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.emit(ev)
}

func (l *Leg) Play(ctx context.Context, srcs ...media.Source) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == callctl.LegEnded {
		return callctl.ErrLegEnded
	}
	l.plays = append(l.plays, srcs)
	return ctx.Err()
}

// Prompt records spec and collects the digits typed so far (Type): up to
// MaxDigits or a terminator; when they run out first, it times out.
func (l *Leg) Prompt(ctx context.Context, spec callctl.PromptSpec) (callctl.PromptResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == callctl.LegEnded {
		return callctl.PromptResult{}, callctl.ErrLegEnded
	}
	l.prompts = append(l.prompts, spec)
	if spec.Flush {
		l.digits = nil
	}
	var res callctl.PromptResult
	var got []rune
	for len(got) < spec.MaxDigits {
		if len(l.digits) == 0 {
			res.TimedOut = true
			break
		}
		d := l.digits[0]
		l.digits = l.digits[1:]
		if strings.ContainsRune(spec.Terminators, d) {
			res.Terminator = d
			break
		}
		got = append(got, d)
	}
	res.Digits = string(got)
	return res, ctx.Err()
}

func (l *Leg) StartMusic(class string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == callctl.LegEnded {
		return callctl.ErrLegEnded
	}
	l.music = append(l.music, class)
	return nil
}

func (l *Leg) StopMusic() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.music = append(l.music, "-")
}

func (l *Leg) SendDTMF(ctx context.Context, digits string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == callctl.LegEnded {
		return callctl.ErrLegEnded
	}
	l.sentDTMF += digits
	return nil
}

// Record runs OnRecord; without it, it writes nothing and returns when
// ctx ends or the leg ends.
func (l *Leg) Record(ctx context.Context, w io.WriteSeeker, spec callctl.RecordSpec) (callctl.RecordResult, error) {
	if l.OnRecord != nil {
		return l.OnRecord(w, spec)
	}
	select {
	case <-ctx.Done():
		return callctl.RecordResult{Stop: callctl.RecordCancelled}, nil
	case <-l.done:
		return callctl.RecordResult{Stop: callctl.RecordHangup}, nil
	}
}

// Rang is how many times the program sent ringing.
func (l *Leg) Rang() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rang
}

// Progressed reports whether the program sent early media.
func (l *Leg) Progressed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.progressed
}

// Answered reports whether the leg was answered.
func (l *Leg) Answered() bool { return !l.AnsweredAt().IsZero() }

// Hangups are the causes the program hung the leg up with, in order.
func (l *Leg) Hangups() []callctl.Cause {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]callctl.Cause(nil), l.hangups...)
}

// Plays are the sources of each Play, in order.
func (l *Leg) Plays() [][]media.Source {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([][]media.Source(nil), l.plays...)
}

// Prompts are the specs of each Prompt, in order.
func (l *Leg) Prompts() []callctl.PromptSpec {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]callctl.PromptSpec(nil), l.prompts...)
}

// Music lists the classes StartMusic was given, "-" for each StopMusic.
func (l *Leg) Music() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.music...)
}

// SentDTMF is every digit the program sent, in order.
func (l *Leg) SentDTMF() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sentDTMF
}
