package api

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"os"
	"time"

	"pbx/media"
	"pbx/store"
)

// Voicemail is the voicemail service: what changes a box goes through it,
// so that message-waiting lamps follow and files are handled in one place.
type Voicemail interface {
	// Box returns the box of a full licence of the tenant (made when
	// first asked for).
	Box(ctx context.Context, tenantID, owner string) (store.VoicemailBox, error)
	Messages(ctx context.Context, b store.VoicemailBox) ([]store.VoicemailMessage, error)
	Message(ctx context.Context, b store.VoicemailBox, id string) (store.VoicemailMessage, error)
	MarkRead(ctx context.Context, b store.VoicemailBox, id string, read bool) error
	DeleteMessage(ctx context.Context, b store.VoicemailBox, id string) error
	// SetPIN sets the PIN (4 to 10 digits), stored hashed; "" removes it.
	SetPIN(ctx context.Context, b store.VoicemailBox, pin string) error
	SetGreeting(ctx context.Context, b store.VoicemailBox, kind string, clip *media.Clip) error
	DeleteGreeting(ctx context.Context, b store.VoicemailBox, kind string) error
	SetEmail(ctx context.Context, b store.VoicemailBox, email string, notify bool) error
}

type voicemailMessageJSON struct {
	ID         string    `json:"id"`
	Caller     string    `json:"caller" doc:"the caller's number, empty when withheld"`
	CallerName string    `json:"caller_name,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	DurationS  float64   `json:"duration_s"`
	Read       bool      `json:"read"`
}

func toVoicemailJSON(m store.VoicemailMessage) voicemailMessageJSON {
	return voicemailMessageJSON{ID: m.ID, Caller: m.Caller, CallerName: m.CallerName, ReceivedAt: m.ReceivedAt,
		DurationS: float64(m.Duration.Milliseconds()) / 1000, Read: m.Read}
}

type voicemailBoxJSON struct {
	ID          string `json:"id"`
	Email       string `json:"email" doc:"where messages are mailed; empty: the user's address"`
	EmailNotify bool   `json:"email_notify"`
	PINSet      bool   `json:"pin_set"`
}

type updateVoicemailBoxRequest struct {
	Email       *string `json:"email,omitempty"`
	EmailNotify *bool   `json:"email_notify,omitempty"`
}

type markVoicemailRequest struct {
	Read *bool `json:"read" doc:"true: heard (saved); false: new again"`
}

type voicemailPINRequest struct {
	PIN string `json:"pin" doc:"4 to 10 digits, asked when the box is called from a phone that is not the owner's"`
}

// greetingKinds are the greetings a box has.
var greetingKinds = []string{store.GreetingUnavailable, store.GreetingBusy, store.GreetingTemporary, store.GreetingName}

// box loads the voicemail box of the {user} of the path.
func (c *call) box() (store.VoicemailBox, error) {
	if c.s.voicemail == nil {
		return store.VoicemailBox{}, httpProblem(http.StatusServiceUnavailable, "voicemail is not configured on this server")
	}
	u, err := c.user()
	if err != nil {
		return store.VoicemailBox{}, err
	}
	if u.Licence != store.LicenceFull {
		return store.VoicemailBox{}, notFound("user %q has no voicemail box (a light licence)", u.ID)
	}
	return c.s.voicemail.Box(c.ctx(), c.tenant.ID, u.ID)
}

// message loads the box of the path's user and its {message}.
func (c *call) message() (store.VoicemailBox, store.VoicemailMessage, error) {
	b, err := c.box()
	if err != nil {
		return b, store.VoicemailMessage{}, err
	}
	id := c.path("message")
	m, err := c.s.voicemail.Message(c.ctx(), b, id)
	if errors.Is(err, store.ErrNotFound) {
		return b, m, notFound("voicemail message %q not found", id)
	}
	return b, m, err
}

func (s *server) listVoicemail(c *call) error {
	b, err := c.box()
	if err != nil {
		return err
	}
	ms, err := s.voicemail.Messages(c.ctx(), b)
	if err != nil {
		return err
	}
	out := make([]voicemailMessageJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, toVoicemailJSON(m))
	}
	return c.reply(200, out)
}

func (s *server) getVoicemailMessage(c *call) error {
	_, m, err := c.message()
	if err != nil {
		return err
	}
	return c.reply(200, toVoicemailJSON(m))
}

func (s *server) getVoicemailAudio(c *call) error {
	_, m, err := c.message()
	if err != nil {
		return err
	}
	f, err := os.Open(m.Path)
	if err != nil {
		return fmt.Errorf("voicemail message %s: %w", m.ID, err)
	}
	defer f.Close()
	c.w.Header().Set("Content-Type", "audio/wav")
	c.w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": m.ID + ".wav"}))
	http.ServeContent(c.w, c.r, m.ID+".wav", m.ReceivedAt, f)
	return nil
}

func (s *server) markVoicemail(c *call) error {
	var req markVoicemailRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if req.Read == nil {
		return invalid("read", "is required")
	}
	b, m, err := c.message()
	if err != nil {
		return err
	}
	if err := s.voicemail.MarkRead(c.ctx(), b, m.ID, *req.Read); err != nil {
		return err
	}
	m.Read = *req.Read
	return c.reply(200, toVoicemailJSON(m))
}

func (s *server) deleteVoicemail(c *call) error {
	b, m, err := c.message()
	if err != nil {
		return err
	}
	if err := s.voicemail.DeleteMessage(c.ctx(), b, m.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return c.noContent()
}

func toVoicemailBoxJSON(b store.VoicemailBox) voicemailBoxJSON {
	return voicemailBoxJSON{ID: b.ID, Email: b.Email, EmailNotify: b.EmailNotify, PINSet: b.PINHash != ""}
}

func (s *server) getVoicemailBox(c *call) error {
	b, err := c.box()
	if err != nil {
		return err
	}
	return c.reply(200, toVoicemailBoxJSON(b))
}

func (s *server) updateVoicemailBox(c *call) error {
	var req updateVoicemailBoxRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	b, err := c.box()
	if err != nil {
		return err
	}
	var fe fieldErrors
	if req.Email != nil {
		b.Email = fe.email("email", *req.Email)
	}
	if req.EmailNotify != nil {
		b.EmailNotify = *req.EmailNotify
	}
	if err := fe.err(); err != nil {
		return err
	}
	if err := s.voicemail.SetEmail(c.ctx(), b, b.Email, b.EmailNotify); err != nil {
		return err
	}
	return c.reply(200, toVoicemailBoxJSON(b))
}

func (s *server) setVoicemailPIN(c *call) error {
	var req voicemailPINRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if !validPIN(req.PIN) {
		return invalid("pin", "must be 4 to 10 digits")
	}
	b, err := c.box()
	if err != nil {
		return err
	}
	if err := s.voicemail.SetPIN(c.ctx(), b, req.PIN); err != nil {
		return err
	}
	return c.noContent()
}

func (s *server) resetVoicemailPIN(c *call) error {
	b, err := c.box()
	if err != nil {
		return err
	}
	if err := s.voicemail.SetPIN(c.ctx(), b, ""); err != nil {
		return err
	}
	return c.noContent()
}

func validPIN(pin string) bool {
	if len(pin) < 4 || len(pin) > 10 {
		return false
	}
	for _, r := range pin {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// greetingKind checks the {kind} of the path.
func (c *call) greetingKind() (string, error) {
	k := c.path("kind")
	for _, g := range greetingKinds {
		if g == k {
			return k, nil
		}
	}
	return "", notFound("greeting %q not found: one of unavailable, busy, temporary, name", k)
}

func (s *server) uploadVoicemailGreeting(c *call) error {
	kind, err := c.greetingKind()
	if err != nil {
		return err
	}
	b, err := c.box()
	if err != nil {
		return err
	}
	data, _, err := c.readUpload()
	if err != nil {
		return err
	}
	clip, err := decodeAudio(data)
	if err != nil {
		return invalid("file", "%v", err)
	}
	if err := s.voicemail.SetGreeting(c.ctx(), b, kind, clip); err != nil {
		return err
	}
	return c.noContent()
}

func (s *server) deleteVoicemailGreeting(c *call) error {
	kind, err := c.greetingKind()
	if err != nil {
		return err
	}
	b, err := c.box()
	if err != nil {
		return err
	}
	switch err := s.voicemail.DeleteGreeting(c.ctx(), b, kind); {
	case errors.Is(err, store.ErrNotFound):
		return notFound("no %s greeting", kind)
	case err != nil:
		return err
	}
	return c.noContent()
}
