package media

import (
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"time"
)

// FrameInterval is the packetisation time of everything the engine
// generates.
const FrameInterval = 20 * time.Millisecond

// Playback is a Source being played to a session. While it plays it
// replaces what a bridge or music would send to the session's far end;
// when it ends, they resume.
type Playback struct {
	s        *Session
	id       uint64
	src      Source
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	err      error
}

// Play starts sending src to the far end, one frame every 20 ms, encoded
// with the session's codec. A playback already running on the session is
// stopped first. Play returns at once; the Playback tells when it ends (end
// of src, Stop, or Close of the session). Play does not close src.
func (s *Session) Play(src Source) (*Playback, error) {
	if src == nil {
		return nil, errors.New("media: play: nil source")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return nil, ErrClosed
	}
	p := &Playback{
		s:    s,
		id:   s.eng.nextID(),
		src:  src,
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	s.out.mu.Lock()
	old := s.out.play
	s.out.play = p
	s.out.updateLocked()
	s.out.mu.Unlock()
	if old != nil {
		old.Stop()
	}
	s.eng.wg.Add(1)
	go p.run()
	return p, nil
}

// StopPlayback stops the session's playback, if any, and waits for it.
func (s *Session) StopPlayback() {
	s.out.mu.Lock()
	p := s.out.play
	s.out.mu.Unlock()
	if p != nil {
		p.Stop()
	}
}

// Stop ends the playback and waits until no more of it is sent. It is
// idempotent and safe to call after the playback ended by itself.
func (p *Playback) Stop() {
	p.stopOnce.Do(func() { close(p.stop) })
	<-p.done
}

// Done is closed when the playback has ended.
func (p *Playback) Done() <-chan struct{} { return p.done }

// Err reports why the playback ended once Done is closed: nil at the end
// of the source or after Stop, the source's error otherwise.
func (p *Playback) Err() error {
	<-p.done
	return p.err
}

func (p *Playback) run() {
	defer p.s.eng.wg.Done()
	defer close(p.done)
	defer p.detach()
	var f frame
	seq, ts := uint16(rand.Uint32()), rand.Uint32()
	t := time.NewTicker(FrameInterval)
	defer t.Stop()
	for {
		// The first frame goes out at once; the ticker paces the rest.
		f.reset()
		if err := p.src.ReadFrame(f.pcm[:]); err != nil {
			if !errors.Is(err, io.EOF) {
				p.err = err
			}
			return
		}
		p.s.out.generated(feedPlay, p.id, &f, seq, ts, p.s.eng.now())
		seq++
		ts += FrameSamples
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
	}
}

func (p *Playback) detach() {
	o := &p.s.out
	o.mu.Lock()
	if o.play == p {
		o.play = nil
		o.updateLocked()
	}
	o.mu.Unlock()
}
