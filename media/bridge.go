package media

import (
	"errors"
	"fmt"
)

// Bridge joins two sessions: what one receives is sent to the other,
// relayed as is when both use the same codec, transcoded (PCMU<->PCMA)
// otherwise. RFC 4733 events pass through with the receiver's
// telephone-event payload type.
//
// Each session keeps its own outgoing SSRC, sequence numbers and timestamps
// across bridges, so a session can be unbridged, hear music or a prompt, and
// be bridged again (to the same or another session) without its far end
// seeing a jump back.
type Bridge struct {
	id     uint64
	a, b   *Session
	closed bool // guarded by the engine's bridgeMu
}

// bridgeEnd is what a session's receive goroutine loads to find where its
// packets go.
type bridgeEnd struct {
	br   *Bridge
	peer *Session
}

// NewBridge bridges a and b. A session already in a bridge leaves it first.
// (The type Bridge takes the name, hence NewBridge.)
func NewBridge(a, b *Session) (*Bridge, error) {
	if a == nil || b == nil || a == b {
		return nil, errors.New("media: bridge needs two distinct sessions")
	}
	if a.eng != b.eng {
		return nil, errors.New("media: cannot bridge sessions of different engines")
	}
	e := a.eng
	e.bridgeMu.Lock()
	defer e.bridgeMu.Unlock()
	if a.closed.Load() || b.closed.Load() {
		return nil, fmt.Errorf("media: bridge: %w session", ErrClosed)
	}
	if a.bridge != nil {
		a.bridge.closeLocked()
	}
	if b.bridge != nil {
		b.bridge.closeLocked()
	}
	br := &Bridge{id: e.nextID(), a: a, b: b}
	a.bridge, b.bridge = br, br
	a.out.setBridge(br)
	b.out.setBridge(br)
	a.link.Store(&bridgeEnd{br: br, peer: b})
	b.link.Store(&bridgeEnd{br: br, peer: a})
	return br, nil
}

// Sessions returns the two bridged sessions.
func (br *Bridge) Sessions() (a, b *Session) { return br.a, br.b }

// Close unbridges the two sessions. Each keeps running; what it sends is
// then its playback or music, if any, else nothing. Close is idempotent.
func (br *Bridge) Close() error {
	e := br.a.eng
	e.bridgeMu.Lock()
	defer e.bridgeMu.Unlock()
	br.closeLocked()
	return nil
}

func (br *Bridge) closeLocked() {
	if br.closed {
		return
	}
	br.closed = true
	for _, s := range [2]*Session{br.a, br.b} {
		if e := s.link.Load(); e != nil && e.br == br {
			s.link.Store(nil)
		}
		s.out.clearBridge(br)
		if s.bridge == br {
			s.bridge = nil
		}
	}
}
