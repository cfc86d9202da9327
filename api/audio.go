package api

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hajimehoshi/go-mp3"

	"pbx/media"
	"pbx/store"
)

// Limits of an audio upload.
const (
	maxAudioUpload   = 20 << 20
	maxAudioDuration = 10 * time.Minute
)

type audioJSON struct {
	ID         string    `json:"id"`
	Name       string    `json:"name" doc:"the uploaded file's name"`
	DurationMS int64     `json:"duration_ms"`
	Size       int64     `json:"size" doc:"bytes of the stored 8 kHz mono WAV"`
	CreatedAt  time.Time `json:"created_at"`
}

func toAudioJSON(a store.Audio) audioJSON {
	return audioJSON{ID: a.ID, Name: a.Name, DurationMS: a.Duration.Milliseconds(), Size: a.Size, CreatedAt: a.CreatedAt}
}

var wavTypes = []string{"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"}
var mp3Types = []string{"audio/mpeg", "audio/mp3"}

// audioUploadTypes are the request media types of an upload.
var audioUploadTypes = []string{"multipart/form-data", "audio/wav", "audio/mpeg"}

// safeID guards the file names made from ids (they are ours, but a path
// must never be built from anything else).
var safeID = regexp.MustCompile(`^[a-z]+_[0-9a-f]+$`)

// audioPath is where an audio's converted file lives.
func (s *server) audioPath(tenantID, id string) (string, error) {
	if s.dataDir == "" {
		return "", httpProblem(http.StatusServiceUnavailable, "audio storage is not configured on this server")
	}
	return AudioPath(s.dataDir, tenantID, id)
}

// AudioPath is where the audio id of a tenant is stored under the data
// directory (an 8 kHz mono WAV file), for the call flows that play it.
func AudioPath(dataDir, tenantID, id string) (string, error) {
	if !safeID.MatchString(tenantID) || !safeID.MatchString(id) {
		return "", fmt.Errorf("audio path from ids %q, %q", tenantID, id)
	}
	return filepath.Join(dataDir, "audio", tenantID, id+".wav"), nil
}

// readUpload returns the uploaded file and its name: the multipart field
// "file", or the raw body.
func (c *call) readUpload() ([]byte, string, error) {
	mt, params, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil {
		return nil, "", httpProblem(http.StatusUnsupportedMediaType, "send multipart/form-data with a file field, or the file itself as audio/wav or audio/mpeg")
	}
	body := http.MaxBytesReader(c.w, c.r.Body, maxAudioUpload+64<<10) // room for the multipart framing
	name := strings.TrimSpace(c.r.URL.Query().Get("name"))
	var data []byte
	switch {
	case mt == "multipart/form-data":
		if params["boundary"] == "" {
			return nil, "", malformed("", "multipart body without a boundary")
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil, "", invalid("file", "is required (a multipart field named file)")
			}
			if err != nil {
				return nil, "", uploadReadError(err)
			}
			if p.FormName() != "file" {
				p.Close()
				continue
			}
			if name == "" {
				name = p.FileName()
			}
			data, err = io.ReadAll(io.LimitReader(p, maxAudioUpload+1))
			p.Close()
			if err != nil {
				return nil, "", uploadReadError(err)
			}
			break
		}
	case slices.Contains(wavTypes, mt) || slices.Contains(mp3Types, mt):
		data, err = io.ReadAll(io.LimitReader(body, maxAudioUpload+1))
		if err != nil {
			return nil, "", uploadReadError(err)
		}
	default:
		return nil, "", httpProblem(http.StatusUnsupportedMediaType, fmt.Sprintf("content type %q is not an audio upload; send multipart/form-data, audio/wav or audio/mpeg", mt))
	}
	if len(data) > maxAudioUpload {
		return nil, "", httpProblem(http.StatusRequestEntityTooLarge, fmt.Sprintf("audio files are at most %d MB", maxAudioUpload>>20))
	}
	if name == "" {
		name = "audio"
	}
	return data, name, nil
}

func uploadReadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return httpProblem(http.StatusRequestEntityTooLarge, fmt.Sprintf("audio files are at most %d MB", maxAudioUpload>>20))
	}
	return malformed("", "cannot read the upload: "+err.Error())
}

// decodeAudio turns an uploaded WAV (any format media.DecodeWAV reads) or
// MP3 into 8 kHz mono. The kind is read from the data itself, not from
// what the client called it.
func decodeAudio(data []byte) (*media.Clip, error) {
	var clip *media.Clip
	var err error
	switch {
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WAVE":
		clip, err = media.DecodeWAV(bytes.NewReader(data))
	case isMP3(data):
		clip, err = decodeMP3(data)
	default:
		return nil, errors.New("is neither a WAV nor an MP3 file")
	}
	if err != nil {
		return nil, err
	}
	switch d := clip.Duration(); {
	case d < 100*time.Millisecond:
		return nil, errors.New("holds no audio (shorter than 0.1 s)")
	case d > maxAudioDuration:
		return nil, fmt.Errorf("lasts %s; at most %s", d.Round(time.Second), maxAudioDuration)
	}
	return clip, nil
}

// isMP3 recognises an ID3v2 tag or an MPEG audio frame header.
func isMP3(b []byte) bool {
	return len(b) >= 3 && string(b[:3]) == "ID3" || len(b) >= 2 && b[0] == 0xff && b[1]&0xe0 == 0xe0
}

// decodeMP3 streams the MP3's PCM (16-bit stereo at its own rate) as a WAV
// of unknown length into media.DecodeWAV, which mixes it down and
// resamples it to 8 kHz; the input is cut just past the longest audio
// accepted, so a huge file costs no more than that.
func decodeMP3(data []byte) (*media.Clip, error) {
	dec, err := mp3.NewDecoder(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("unreadable MP3: %w", err)
	}
	rate := dec.SampleRate()
	hdr := make([]byte, 44)
	copy(hdr[0:], "RIFF")
	copy(hdr[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(hdr[16:], 16)
	binary.LittleEndian.PutUint16(hdr[20:], 1) // PCM
	binary.LittleEndian.PutUint16(hdr[22:], 2) // go-mp3 always gives stereo
	binary.LittleEndian.PutUint32(hdr[24:], uint32(rate))
	binary.LittleEndian.PutUint32(hdr[28:], uint32(rate*4))
	binary.LittleEndian.PutUint16(hdr[32:], 4)
	binary.LittleEndian.PutUint16(hdr[34:], 16)
	copy(hdr[36:], "data") // size 0: read to the end
	limit := int64(maxAudioDuration/time.Second+1) * int64(rate) * 4
	clip, err := media.DecodeWAV(io.MultiReader(bytes.NewReader(hdr), io.LimitReader(mp3Reader{dec}, limit+4)))
	if err != nil {
		return nil, fmt.Errorf("unreadable MP3: %w", err)
	}
	return clip, nil
}

// mp3Reader ends a stream cleanly at a truncated last frame, as players do.
type mp3Reader struct{ d *mp3.Decoder }

func (r mp3Reader) Read(p []byte) (int, error) {
	n, err := r.d.Read(p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return n, err
}

// writeAudioFile stores clip at path atomically: a temporary file in the
// same directory, synced, renamed, and the directory synced, so that a
// crash leaves either no file or the whole one.
func writeAudioFile(path string, clip *media.Clip) (int64, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(dir, ".upload-*.wav")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	bw := bufio.NewWriterSize(tmp, 64<<10)
	err = clip.WriteWAV(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	var size int64
	if err == nil {
		var fi os.FileInfo
		if fi, err = tmp.Stat(); err == nil {
			size = fi.Size()
		}
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return 0, err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return size, nil
}

func (s *server) uploadAudio(c *call) error {
	data, name, err := c.readUpload()
	if err != nil {
		return err
	}
	var fe fieldErrors
	name = fe.text("name", name, true, 200)
	if err := fe.err(); err != nil {
		return err
	}
	clip, err := decodeAudio(data)
	if err != nil {
		return invalid("file", "%v", err)
	}
	id := store.NewAudioID()
	path, err := s.audioPath(c.tenant.ID, id)
	if err != nil {
		return err
	}
	size, err := writeAudioFile(path, clip)
	if err != nil {
		return fmt.Errorf("store audio %s: %w", id, err)
	}
	a, err := s.store.CreateAudio(c.ctx(), store.Audio{ID: id, TenantID: c.tenant.ID, Name: name, Duration: clip.Duration(), Size: size})
	if err != nil {
		os.Remove(path)
		return err
	}
	return c.created(v1+"/tenants/"+c.tenant.ID+"/audio/"+a.ID, toAudioJSON(a))
}

func (c *call) audio() (store.Audio, error) {
	id := c.path("audio")
	a, err := c.s.store.Audio(c.ctx(), c.tenant.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return a, notFound("audio %q not found", id)
	}
	return a, err
}

func (s *server) listAudio(c *call) error {
	as, err := s.store.Audios(c.ctx(), c.tenant.ID)
	if err != nil {
		return err
	}
	out := make([]audioJSON, 0, len(as))
	for _, a := range as {
		out = append(out, toAudioJSON(a))
	}
	return c.reply(200, out)
}

func (s *server) getAudio(c *call) error {
	a, err := c.audio()
	if err != nil {
		return err
	}
	return c.reply(200, toAudioJSON(a))
}

func (s *server) getAudioFile(c *call) error {
	a, err := c.audio()
	if err != nil {
		return err
	}
	path, err := s.audioPath(c.tenant.ID, a.ID)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("audio %s: %w", a.ID, err)
	}
	defer f.Close()
	c.w.Header().Set("Content-Type", "audio/wav")
	c.w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.ID + ".wav"}))
	http.ServeContent(c.w, c.r, a.ID+".wav", a.CreatedAt, f)
	return nil
}

// removeTenantAudio removes the audio files of a deleted tenant (their rows
// went with it).
func (s *server) removeTenantAudio(c *call) {
	if s.dataDir == "" || !safeID.MatchString(c.tenant.ID) {
		return
	}
	if err := os.RemoveAll(filepath.Join(s.dataDir, "audio", c.tenant.ID)); err != nil {
		s.log.WarnContext(c.ctx(), "api: remove a deleted tenant's audio", "tenant", c.tenant.ID, "err", err)
	}
}

func (s *server) deleteAudio(c *call) error {
	id := c.path("audio")
	switch err := s.store.DeleteAudio(c.ctx(), c.tenant.ID, id); {
	case errors.Is(err, store.ErrConflict):
		return conflictOn("", "audio "+id+" is in use: "+err.Error())
	case errors.Is(err, store.ErrNotFound):
		return notFound("audio %q not found", id)
	case err != nil:
		return err
	}
	if path, err := s.audioPath(c.tenant.ID, id); err == nil {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.WarnContext(c.ctx(), "api: remove audio file", "audio", id, "err", err)
		}
	}
	return c.noContent()
}
