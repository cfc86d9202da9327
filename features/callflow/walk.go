package callflow

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Env is what walking a flow needs from the call it routes: the time, and
// the caller's ears and keypad. A real call plays through call control; a
// dry run plays nothing and reads scripted digits.
type Env interface {
	Now() time.Time
	// Play plays an audio to the caller.
	Play(ctx context.Context, audio string) error
	// Menu plays prompt ("" for none) and waits up to timeout, after the
	// prompt, for one key; it returns "" when none came.
	Menu(ctx context.Context, prompt string, timeout time.Duration) (string, error)
}

// MaxSteps bounds a walk (a valid flow has no silent loop, but a walk must
// end whatever it is given).
const MaxSteps = 500

// DefaultMenuTimeout is a menu's wait for a key when it sets none.
const DefaultMenuTimeout = 5 * time.Second

// Walk follows g from its start and returns the names of the nodes it went
// through, in order, and the destination the call is handed to (a hang-up
// when a menu gets no valid key and has no invalid branch). tz is the
// tenant's time zone, used by schedules that name none.
func Walk(ctx context.Context, g Graph, tz string, env Env) ([]string, Destination, error) {
	var path []string
	name := g.Start
	for steps := 0; ; steps++ {
		if steps >= MaxSteps {
			return path, Destination{}, fmt.Errorf("callflow: %d steps without reaching a destination", MaxSteps)
		}
		n, ok := g.Nodes[name]
		if !ok {
			return path, Destination{}, fmt.Errorf("callflow: no node %q", name)
		}
		path = append(path, name)
		switch n.Type {
		case TypeSchedule:
			if n.isOpen(env.Now(), tz) {
				name = n.Open
			} else {
				name = n.Closed
			}
		case TypePlay:
			if err := env.Play(ctx, n.Audio); err != nil {
				return path, Destination{}, err
			}
			name = n.Next
		case TypeMenu:
			next, err := menu(ctx, n, env)
			if err != nil {
				return path, Destination{}, err
			}
			if next == "" {
				return path, Destination{Type: TypeHangup}, nil
			}
			name = next
		case TypeHuntGroup, TypeUser, TypeVoicemail:
			return path, Destination{Type: n.Type, ID: n.ID}, nil
		case TypeExternal:
			return path, Destination{Type: n.Type, Number: n.Number}, nil
		case TypeHangup, TypeVoicemailAccess:
			return path, Destination{Type: n.Type}, nil
		default:
			return path, Destination{}, fmt.Errorf("callflow: node %q has unknown type %q", name, n.Type)
		}
	}
}

// menu asks for a key up to 1+Retries times and returns the node chosen,
// the invalid branch, or "" to hang up.
func menu(ctx context.Context, n Node, env Env) (string, error) {
	timeout := DefaultMenuTimeout
	if n.Timeout > 0 {
		timeout = time.Duration(n.Timeout) * time.Second
	}
	for range 1 + n.Retries {
		key, err := env.Menu(ctx, n.Prompt, timeout)
		if err != nil {
			return "", err
		}
		if next, ok := n.Options[key]; ok {
			return next, nil
		}
	}
	return n.Invalid, nil
}

// DryRun walks g as a call at time at pressing digits (one per menu, in
// order; a menu finding none left times out) would, placing no call.
func DryRun(ctx context.Context, g Graph, tz string, at time.Time, digits string) ([]string, Destination, error) {
	return Walk(ctx, g, tz, &scripted{at: at, digits: []rune(digits)})
}

type scripted struct {
	at     time.Time
	digits []rune
}

func (s *scripted) Now() time.Time                     { return s.at }
func (s *scripted) Play(context.Context, string) error { return nil }
func (s *scripted) Menu(context.Context, string, time.Duration) (string, error) {
	if len(s.digits) == 0 {
		return "", nil
	}
	d := s.digits[0]
	s.digits = s.digits[1:]
	return string(d), nil
}

// ErrHangup ends a walk whose caller hung up (an Env returns it).
var ErrHangup = errors.New("callflow: caller hung up")
