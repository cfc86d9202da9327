package media

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/go-audio/wav"
)

// Source produces audio for playback: 20 ms frames of linear 16-bit samples
// at 8 kHz.
type Source interface {
	// ReadFrame fills frame (FrameSamples long) with the next samples.
	// A short last frame is padded with silence. It returns io.EOF when
	// there is nothing more to play.
	ReadFrame(frame []int16) error
}

// frame is one 20 ms frame of linear audio with payloads encoded lazily,
// once per codec. It belongs to one goroutine (a playback or a music
// stream).
type frame struct {
	pcm     [FrameSamples]int16
	enc     [3][FrameSamples]byte // indexed by codecKind
	have    [3]bool
	encodes uint64
}

func (f *frame) reset() { f.have = [3]bool{} }

func (f *frame) payload(k codecKind) []byte {
	if k == kindOther {
		return nil
	}
	if !f.have[k] {
		encode(f.enc[k][:], f.pcm[:], k)
		f.have[k] = true
		f.encodes++
	}
	return f.enc[k][:]
}

// WAVSource plays a WAV file: 8 kHz, mono, 16-bit PCM (the format of
// Asterisk's and Debian's music-on-hold files). The header is read with
// github.com/go-audio/wav; samples are then read straight from the data
// chunk into a fixed buffer, so playing allocates nothing.
type WAVSource struct {
	// Loop restarts the file at its end instead of returning io.EOF. Set
	// it before the source is played.
	Loop bool

	path      string
	f         *os.File
	r         *bufio.Reader
	dataStart int64
	dataLen   int64 // bytes of samples
	pos       int64 // bytes read from the data chunk
	raw       [2 * FrameSamples]byte
}

// OpenWAV opens an 8 kHz mono 16-bit PCM WAV file. Close it when done.
func OpenWAV(path string) (*WAVSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("media: open wav: %w", err)
	}
	w, err := newWAVSource(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

func newWAVSource(f *os.File, path string) (*WAVSource, error) {
	d := wav.NewDecoder(f)
	if !d.IsValidFile() {
		return nil, fmt.Errorf("media: wav %s: not a valid WAV file", path)
	}
	if d.WavAudioFormat != 1 || d.NumChans != 1 || d.SampleRate != 8000 || d.BitDepth != 16 {
		return nil, fmt.Errorf("media: wav %s: format %d, %d channel(s), %d Hz, %d bit: want PCM (1), mono, 8000 Hz, 16 bit",
			path, d.WavAudioFormat, d.NumChans, d.SampleRate, d.BitDepth)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("media: wav %s: %w", path, err)
	}
	d = wav.NewDecoder(f)
	if err := d.FwdToPCM(); err != nil {
		return nil, fmt.Errorf("media: wav %s: %w", path, err)
	}
	if d.PCMChunk == nil {
		return nil, fmt.Errorf("media: wav %s: no data chunk", path)
	}
	// The riff parser reads the file directly, unbuffered: the offset
	// is now the first sample.
	start, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("media: wav %s: %w", path, err)
	}
	size := int64(d.PCMSize)
	if st, err := f.Stat(); err == nil && start+size > st.Size() {
		size = st.Size() - start // truncated file or bogus size
	}
	return &WAVSource{
		path:      path,
		f:         f,
		r:         bufio.NewReaderSize(f, 4096),
		dataStart: start,
		dataLen:   size &^ 1,
	}, nil
}

// Samples returns the number of samples in the file.
func (w *WAVSource) Samples() int64 { return w.dataLen / 2 }

// ReadFrame implements Source.
func (w *WAVSource) ReadFrame(frame []int16) error {
	filled := 0
	rewound := false
	for filled < len(frame) {
		if w.pos >= w.dataLen {
			if !w.Loop || w.dataLen == 0 || (rewound && filled == 0) {
				break
			}
			if err := w.seek(0); err != nil {
				return err
			}
			rewound = true
		}
		want := min(len(frame)-filled, len(w.raw)/2)
		if rest := (w.dataLen - w.pos) / 2; int64(want) > rest {
			want = int(rest)
		}
		b := w.raw[:2*want]
		if _, err := io.ReadFull(w.r, b); err != nil {
			return fmt.Errorf("media: wav %s: %w", w.path, err)
		}
		w.pos += int64(len(b))
		for i := 0; i < want; i++ {
			frame[filled+i] = int16(uint16(b[2*i]) | uint16(b[2*i+1])<<8)
		}
		filled += want
	}
	if filled == 0 {
		return io.EOF
	}
	clear(frame[filled:])
	return nil
}

// seek moves to byte offset pos of the data chunk.
func (w *WAVSource) seek(pos int64) error {
	if _, err := w.f.Seek(w.dataStart+pos, io.SeekStart); err != nil {
		return fmt.Errorf("media: wav %s: %w", w.path, err)
	}
	w.r.Reset(w.f)
	w.pos = pos
	return nil
}

// Close closes the file.
func (w *WAVSource) Close() error { return w.f.Close() }

// Melody returns an endless, quiet generated tune: the fallback when no
// music file can be played.
func Melody() Source { return &melody{} }

type melody struct {
	note  int
	n     int // samples into the note
	phase float64
}

// A slow arpeggio (C major, A minor, F major, G major), each note 400 ms,
// at about -22 dBFS with soft attack and release.
var melodyNotes = [...]float64{
	261.63, 329.63, 392.00, 329.63,
	220.00, 261.63, 329.63, 261.63,
	174.61, 220.00, 261.63, 220.00,
	196.00, 246.94, 293.66, 246.94,
}

const melodyNoteLen = 3200 // samples: 400 ms

func (m *melody) ReadFrame(frame []int16) error {
	for i := range frame {
		hz := melodyNotes[m.note]
		env := 1.0
		if m.n < 400 {
			env = float64(m.n) / 400
		} else if r := melodyNoteLen - m.n; r < 800 {
			env = float64(r) / 800
		}
		frame[i] = int16(2500 * env * math.Sin(m.phase))
		m.phase += 2 * math.Pi * hz / 8000
		if m.phase > 2*math.Pi {
			m.phase -= 2 * math.Pi
		}
		if m.n++; m.n == melodyNoteLen {
			m.n = 0
			m.note = (m.note + 1) % len(melodyNotes)
		}
	}
	return nil
}

// playlist plays files one after the other, forever. Unreadable files are
// skipped; if none can be played it falls back to Melody. suspend closes
// the current file and remembers the position, so an idle music class
// holds no file descriptor.
//
// A playlist of a directory (dir set) lists its WAV files again each time
// it wraps around, and every rescanFrames while it has nothing to play, so
// files added or removed are heard without a restart. A file that failed
// is retried once it changes.
type playlist struct {
	files     []string
	dir       string
	log       *slog.Logger
	idx       int
	pos       int64 // samples into the current file
	cur       track
	fallback  Source
	bad       map[string]time.Time // failed files: modification time then
	sinceScan int                  // frames of fallback since the last scan
}

// rescanFrames is how often (3 s) a directory playlist with nothing to play
// looks again.
const rescanFrames = 150

func newPlaylist(files []string, log *slog.Logger) *playlist {
	return &playlist{files: files, log: log, bad: make(map[string]time.Time)}
}

func newDirPlaylist(dir string, log *slog.Logger) *playlist {
	p := newPlaylist(MusicFiles(dir), log)
	p.dir = dir
	return p
}

func (p *playlist) ReadFrame(frame []int16) error {
	if p.fallback != nil {
		if p.dir == "" {
			return p.fallback.ReadFrame(frame)
		}
		if p.sinceScan++; p.sinceScan < rescanFrames {
			return p.fallback.ReadFrame(frame)
		}
		p.sinceScan = 0
		p.rescan()
		if len(p.bad) == len(p.files) {
			return p.fallback.ReadFrame(frame)
		}
		p.fallback = nil
		p.idx, p.pos = 0, 0
	}
	for tries := 0; tries < 2*len(p.files)+1; tries++ {
		if p.cur == nil {
			if len(p.bad) == len(p.files) {
				break
			}
			path := p.files[p.idx]
			if _, bad := p.bad[path]; bad {
				p.next()
				continue
			}
			tr, err := openTrack(path, p.pos)
			if err != nil {
				p.log.Warn("media: music file skipped", "file", path, "err", err)
				p.markBad(path)
				p.next()
				continue
			}
			p.cur = tr
		}
		err := p.cur.ReadFrame(frame)
		if err == nil {
			p.pos = p.cur.position()
			return nil
		}
		if !errors.Is(err, io.EOF) {
			p.log.Warn("media: music file failed", "file", p.files[p.idx], "err", err)
			p.markBad(p.files[p.idx])
		}
		p.next()
	}
	p.log.Warn("media: no playable music file, using generated melody")
	p.fallback = Melody()
	p.sinceScan = 0
	return p.fallback.ReadFrame(frame)
}

func (p *playlist) markBad(path string) {
	var mod time.Time
	if st, err := os.Stat(path); err == nil {
		mod = st.ModTime()
	}
	p.bad[path] = mod
}

func (p *playlist) next() {
	if p.cur != nil {
		p.cur.Close()
		p.cur = nil
	}
	p.pos = 0
	if len(p.files) > 0 {
		p.idx = (p.idx + 1) % len(p.files)
	}
	if p.idx == 0 && p.dir != "" {
		p.rescan()
	}
}

// rescan lists the directory again; failed files that changed or went
// away are forgotten.
func (p *playlist) rescan() {
	files := MusicFiles(p.dir)
	listed := make(map[string]bool, len(files))
	for _, f := range files {
		listed[f] = true
	}
	for path, mod := range p.bad {
		st, err := os.Stat(path)
		if !listed[path] || err != nil || !st.ModTime().Equal(mod) {
			delete(p.bad, path)
		}
	}
	p.files, p.idx = files, 0
}

func (p *playlist) suspend() {
	if p.cur != nil {
		p.cur.Close()
		p.cur = nil
	}
}

// DefaultMusicDir is where Debian's asterisk-moh-opsound-wav package puts
// its royalty-free music on hold (8 kHz mono 16-bit WAV).
const DefaultMusicDir = "/usr/share/asterisk/moh"

// MusicFiles lists the .wav files of dir in name order (nil if none or
// unreadable). MusicFiles(DefaultMusicDir) gives the default music.
func MusicFiles(dir string) []string {
	files, _ := filepath.Glob(filepath.Join(dir, "*.wav"))
	sort.Strings(files)
	return files
}
