package voicemail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"time"
)

// SMTP sends the mails through a mail server, with STARTTLS whenever the
// server offers it.
type SMTP struct {
	Addr string // host:port
	From string
	// TLS configures STARTTLS (default: verify the server's name).
	TLS *tls.Config
	// Hostname is what we say in EHLO (default "localhost").
	Hostname string
}

// maxAttachment bounds the WAV attached to a mail (a 3-minute message is
// 2.9 MB); a longer file is not attached, the mail says so.
const maxAttachment = 10 << 20

// Send mails m, its WAV attached.
func (s *SMTP) Send(ctx context.Context, m Mail) error {
	msg, err := s.compose(m)
	if err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("smtp: address %q: %w", s.Addr, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: %w", err)
	}
	defer c.Close()
	if err := c.Hello(cmpOr(s.Hostname, "localhost")); err != nil {
		return fmt.Errorf("smtp: EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := s.TLS
		if cfg == nil {
			cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("smtp: STARTTLS: %w", err)
		}
	}
	if err := c.Mail(s.From); err != nil {
		return fmt.Errorf("smtp: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fmt.Errorf("smtp: RCPT TO %s: %w", m.To, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	return c.Quit()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// compose builds the MIME message: a short text and the WAV.
func (s *SMTP) compose(m Mail) ([]byte, error) {
	wav, err := os.ReadFile(m.WAVPath)
	if err != nil {
		return nil, err
	}
	caller := m.Caller
	if caller == "" {
		caller = "an unknown number"
	}
	if m.CallerName != "" {
		caller = m.CallerName + " (" + caller + ")"
	}
	var id [12]byte
	rand.Read(id[:])
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("From", s.From)
	hdr("To", m.To)
	hdr("Subject", mime.QEncoding.Encode("utf-8", fmt.Sprintf("New voicemail from %s (%s)", caller, m.Duration.Round(time.Second))))
	hdr("Date", m.ReceivedAt.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+hex.EncodeToString(id[:])+"@pbx>")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", `multipart/mixed; boundary="`+mw.Boundary()+`"`)
	b.WriteString("\r\n")
	text, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"}, "Content-Transfer-Encoding": {"8bit"}})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(text, "A message of %s was left in mailbox %s by %s on %s.\r\n", m.Duration.Round(time.Second), m.Box, caller,
		m.ReceivedAt.Format("Mon 2 Jan 2006 15:04 MST"))
	if len(wav) > maxAttachment {
		fmt.Fprintf(text, "It is too long to attach: listen to it from your phone.\r\n")
		return closeMultipart(mw, &b)
	}
	att, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {`audio/wav; name="voicemail.wav"`},
		"Content-Transfer-Encoding": {"base64"},
		"Content-Disposition":       {`attachment; filename="voicemail.wav"`},
	})
	if err != nil {
		return nil, err
	}
	enc := base64.StdEncoding.EncodeToString(wav)
	for len(enc) > 76 {
		att.Write([]byte(enc[:76] + "\r\n"))
		enc = enc[76:]
	}
	att.Write([]byte(enc + "\r\n"))
	return closeMultipart(mw, &b)
}

func closeMultipart(mw *multipart.Writer, b *bytes.Buffer) ([]byte, error) {
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
