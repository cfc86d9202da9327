package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/emiago/sipgo/sip"

	"pbx/features/voicemail"
	"pbx/prompts"
	"pbx/sip/mwi"
)

// setupVoicemail creates the voicemail service and its message waiting
// indication, makes messages of the recordings a crash cut short (before
// any call can start a new one), and gives the dialplan its voicemail.
func (a *app) setupVoicemail(c *calls) error {
	svc := &voicemail.Service{Store: a.store, Dir: filepath.Join(a.cfg.DataDir, "voicemail"), Logger: a.log}
	lamps, err := mwi.New(mwi.Config{SIP: a.sip, Auth: a.regis, Locator: a.regis, Counts: svc, Logger: a.log})
	if err != nil {
		return err
	}
	svc.MWI = lamps
	if a.cfg.Prompts != "" {
		if _, err := os.Stat(filepath.Join(a.cfg.Prompts, "en", "vm-goodbye.wav")); err != nil {
			a.log.Warn("system prompts missing: callers hear beeps only; build them with go run ./cmd/pbx-prompts", "dir", a.cfg.Prompts)
		}
		lib := &prompts.Library{Dir: a.cfg.Prompts}
		svc.Prompts = lib
		c.plan.Prompts = lib // queue positions
	}
	if a.cfg.SMTP != "" {
		m, err := a.smtp()
		if err != nil {
			return err
		}
		svc.Mailer = m
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := svc.Recover(ctx)
	if n > 0 {
		a.log.Info("voicemail: messages recovered after a crash", "count", n)
	}
	if err != nil {
		// A file we cannot read must not keep the node down; it stays
		// where it is for someone to look at.
		a.log.Error("voicemail: recovery", "error", fmt.Sprint(err))
	}
	c.voicemail, c.mwi = svc, lamps
	a.regis.NewBinding = lamps.DeviceRegistered
	if a.cfg.Voicemail {
		c.plan.Voicemail = svc
	}
	c.plan.VoicemailMenu = svc
	a.every(10*time.Second, "expire message-summary subscriptions", func(context.Context) error {
		lamps.Sweep(time.Now())
		return nil
	})
	return nil
}

// mountSubscribe sends each SUBSCRIBE to the service of its event
// package: message-summary to the lamps, the rest to presence (which
// answers 489 to the packages it does not know).
func (a *app) mountSubscribe(c *calls) {
	a.sip.Handle(sip.SUBSCRIBE, func(req *sip.Request, tx sip.ServerTransaction) {
		if mwi.IsMWI(req) {
			c.mwi.HandleSubscribe(req, tx)
			return
		}
		c.presence.HandleSubscribe(req, tx)
	})
}

// smtp is the mailer of --smtp: STARTTLS verified against --smtp-ca, or
// the system's authorities.
func (a *app) smtp() (*voicemail.SMTP, error) {
	host, _, err := net.SplitHostPort(a.cfg.SMTP)
	if err != nil {
		return nil, fmt.Errorf("--smtp %q: want host:port", a.cfg.SMTP)
	}
	m := &voicemail.SMTP{Addr: a.cfg.SMTP, From: a.cfg.SMTPFrom}
	if a.cfg.SMTPCA != "" {
		pem, err := os.ReadFile(a.cfg.SMTPCA)
		if err != nil {
			return nil, fmt.Errorf("--smtp-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--smtp-ca %s: no PEM certificate", a.cfg.SMTPCA)
		}
		m.TLS = &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12}
	}
	return m, nil
}
