package media

import (
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// MusicClass is one shared music-on-hold stream. However many sessions
// listen, one goroutine reads a frame every 20 ms, encodes it once per codec
// in use and hands it to each listener, which only stamps its own header:
// the cost per held caller is one write. The goroutine runs only while
// someone listens; between listeners the class holds no file open and
// resumes where it stopped.
type MusicClass struct {
	eng   *Engine
	id    uint64
	name  string
	files []string
	dir   string

	subs atomic.Pointer[[]*Session] // copy-on-write; read by the ticker

	mu      sync.Mutex
	running bool
	stop    chan struct{}
	done    chan struct{}
	src     *playlist // used by the ticker goroutine only

	frames  atomic.Uint64 // frames produced
	encodes atomic.Uint64 // payload encodings (at most one per codec per frame)
}

// Music returns the music class called name, creating it on first use with
// files (WAV files played in order, looping; best in 8 kHz mono 16-bit,
// which is read as it is, but any format DecodeWAV reads plays). Files that
// cannot be played are skipped; with none, a quiet generated melody plays.
// Later calls with the same name return the same class and ignore files.
func (e *Engine) Music(name string, files []string) *MusicClass {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.music[name]; ok {
		return c
	}
	c := &MusicClass{
		eng:   e,
		id:    e.nextID(),
		name:  name,
		files: append([]string(nil), files...),
	}
	c.src = newPlaylist(c.files, e.log.With("music", name))
	e.music[name] = c
	return c
}

// MusicDir returns the music class called name, creating it on first use
// with the WAV files of dir (in name order, looping; any format DecodeWAV
// reads). The directory is listed again each time the playlist wraps
// around, and every few seconds while it has nothing playable (a quiet
// generated melody plays meanwhile), so files added or removed are heard
// without a restart. Later calls with the same name return the same class.
func (e *Engine) MusicDir(name, dir string) *MusicClass {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.music[name]; ok {
		return c
	}
	c := &MusicClass{eng: e, id: e.nextID(), name: name, dir: dir}
	c.src = newDirPlaylist(dir, e.log.With("music", name))
	e.music[name] = c
	return c
}

// Name returns the class name.
func (c *MusicClass) Name() string { return c.name }

// Listeners returns how many sessions hear the class.
func (c *MusicClass) Listeners() int {
	if l := c.subs.Load(); l != nil {
		return len(*l)
	}
	return 0
}

// StartMusic makes the session's far end hear class c (instead of what a
// bridge would send; a playback still takes precedence). It replaces any
// other class the session was hearing.
func (s *Session) StartMusic(c *MusicClass) error {
	if c == nil {
		return errors.New("media: start music: nil class")
	}
	if c.eng != s.eng {
		return errors.New("media: start music: class of another engine")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	s.out.mu.Lock()
	old := s.out.music
	s.out.music = c
	s.out.updateLocked()
	s.out.mu.Unlock()
	if old == c {
		return nil
	}
	if old != nil {
		old.unsubscribe(s)
	}
	c.subscribe(s)
	return nil
}

// StopMusic stops the music the session hears, if any; a bridge resumes.
func (s *Session) StopMusic() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out.mu.Lock()
	old := s.out.music
	s.out.music = nil
	s.out.updateLocked()
	s.out.mu.Unlock()
	if old != nil {
		old.unsubscribe(s)
	}
}

func (c *MusicClass) subscribe(s *Session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var subs []*Session
	if l := c.subs.Load(); l != nil {
		subs = append(subs, *l...)
	}
	subs = append(subs, s)
	c.subs.Store(&subs)
	if c.running {
		return
	}
	// A previous ticker may still be on its way out: the source is
	// only ever used by one goroutine.
	if c.done != nil {
		<-c.done
	}
	c.running = true
	c.stop, c.done = make(chan struct{}), make(chan struct{})
	c.eng.wg.Add(1)
	c.eng.ticking.Add(1)
	go c.run(c.stop, c.done)
}

func (c *MusicClass) unsubscribe(s *Session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.subs.Load()
	if l == nil {
		return
	}
	subs := make([]*Session, 0, len(*l))
	for _, x := range *l {
		if x != s {
			subs = append(subs, x)
		}
	}
	c.subs.Store(&subs)
	if len(subs) == 0 && c.running {
		c.running = false
		close(c.stop)
	}
}

func (c *MusicClass) run(stop, done chan struct{}) {
	defer c.eng.wg.Done()
	defer c.eng.ticking.Add(-1)
	defer close(done)
	defer c.src.suspend()
	var f frame
	seq, ts := uint16(rand.Uint32()), rand.Uint32()
	t := time.NewTicker(FrameInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		l := c.subs.Load()
		if l == nil || len(*l) == 0 {
			continue
		}
		f.reset()
		before := f.encodes
		if err := c.src.ReadFrame(f.pcm[:]); err != nil {
			clear(f.pcm[:])
		}
		now := c.eng.now()
		for _, s := range *l {
			s.out.generated(feedMusic, c.id, &f, seq, ts, now)
		}
		seq++
		ts += FrameSamples
		c.frames.Add(1)
		c.encodes.Add(f.encodes - before)
	}
}
