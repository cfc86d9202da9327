package callctl

import (
	"time"

	"pbx/media"
)

// PromptSpec is what Prompt plays and how it collects digits.
type PromptSpec struct {
	// Audio is played in order; none means collect only.
	Audio []media.Source
	// MaxDigits ends collection once that many digits came; 0 plays the
	// audio (with barge-in) and collects nothing.
	MaxDigits int
	// Terminators end collection (the terminator is not part of Digits).
	Terminators string
	// FirstDigit is how long to wait for the first digit once the audio
	// has ended (default 5 s); InterDigit, for each next one (default 3 s).
	// Timers start when the audio ends or a digit barges in, never while
	// a prompt still plays.
	FirstDigit, InterDigit time.Duration
	// NoBargeIn keeps the audio playing when a digit comes (the digit is
	// still collected).
	NoBargeIn bool
	// Flush discards digits typed before the prompt (type-ahead is kept by
	// default: a caller who knows the menu may dial through it).
	Flush bool
}

// PromptResult is what Prompt collected.
type PromptResult struct {
	Digits string
	// Terminator is the terminator that ended collection, 0 if none.
	Terminator rune
	// TimedOut: collection ended because a timer expired.
	TimedOut bool
}

// RecordSpec says when a recording stops, besides its context and the leg.
type RecordSpec struct {
	// Max bounds the recording's length (0: no bound).
	Max time.Duration
	// Silence stops the recording after that much silence from the far
	// end (0: never); the trailing silence is kept in the file.
	Silence time.Duration
	// StopDigits: one of these digits stops the recording.
	StopDigits string
	// Beep plays a beep to the far end before recording starts.
	Beep bool
}

// RecordStop says why a recording ended.
type RecordStop string

// Reasons a recording ended.
const (
	RecordMax       RecordStop = "max"
	RecordSilence   RecordStop = "silence"
	RecordDigit     RecordStop = "digit"
	RecordHangup    RecordStop = "hangup"
	RecordCancelled RecordStop = "cancelled" // ctx ended or Stop
)

// RecordResult is what a recording wrote.
type RecordResult struct {
	Duration time.Duration
	Stop     RecordStop
	Digit    rune // the stop digit, with RecordDigit
	Err      error
}
