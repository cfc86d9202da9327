package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"time"

	"pbx/dialplan"
	"pbx/features"
	"pbx/features/voicemail"
	"pbx/media"
	"pbx/sip/b2bua"
	"pbx/sip/mwi"
	"pbx/sip/presence"
)

// calls is the call-control part of the app: the media engine, the b2bua
// and the dialplan that routes its calls.
type calls struct {
	engine   *media.Engine
	b2bua    *b2bua.Service
	plan     *dialplan.Plan
	router   *router // the b2bua's router: the dialplan, or a test's program
	music    *features.HoldMusic
	presence *presence.Service // busy lamps: the users' dialog states
	lamps    *clusterLamps     // the states of calls on other nodes; nil for a single node
	clock    flowClock         // the dialplan's clock
	ends     *callEnds         // the ends of users' calls, for hunt groups
	// voicemail takes the calls that reach nobody; mwi lights the
	// phones' message lamps.
	voicemail *voicemail.Service
	mwi       *mwi.Service
	rec       *recordingParts // call recording
}

// setupCalls creates the media engine, the b2bua and the dialplan and
// mounts the call handlers on the SIP endpoint.
func (a *app) setupCalls() error {
	mcfg := media.Config{PortMin: a.cfg.RTPMin, PortMax: a.cfg.RTPMax, Logger: a.log, RTCPInterval: a.cfg.RTCPInterval}
	// RTP listens where SIP listens: a server bound to one address (the
	// loopback in tests, a private interface behind a NAT) keeps its media
	// sockets there too; a wildcard SIP address means every interface.
	host, _, _ := net.SplitHostPort(a.cfg.SIPAddr)
	if ip, err := netip.ParseAddr(host); err == nil && !ip.IsUnspecified() {
		mcfg.BindIP = ip
	}
	eng, err := media.NewEngine(mcfg)
	if err != nil {
		return fmt.Errorf("media engine: %w", err)
	}
	c := &calls{engine: eng, music: &features.HoldMusic{Engine: eng, TenantDir: filepath.Join(a.cfg.DataDir, "moh")}, ends: newCallEnds()}
	c.plan = &dialplan.Plan{Store: a.store, Locator: a.regis, Logger: a.log}
	a.setupRouting(c)
	if err := a.setupPush(c); err != nil {
		eng.Close()
		return err
	}
	a.setupEmergency(c)
	c.router = &router{plan: c.plan}
	if err := a.setupVoicemail(c); err != nil {
		eng.Close()
		return err
	}
	if err := a.setupRecording(c); err != nil {
		eng.Close()
		return err
	}
	rtpTimeout := a.cfg.RTPTimeout
	if rtpTimeout <= 0 {
		rtpTimeout = -1
	}
	counted, err := newCountingCDRs(a.store, a.reg, a.log)
	if err != nil {
		eng.Close()
		return err
	}
	cdrs, err := a.setupRating(c, counted)
	if err != nil {
		eng.Close()
		return err
	}
	journal, err := a.startJournal()
	if err != nil {
		eng.Close()
		return err
	}
	if a.cfg.Node != "" {
		ctx, cancel := context.WithTimeout(a.ctx, 30*time.Second)
		c.lamps, err = newClusterLamps(ctx, a.store, a.cfg.Node, a.log, func(uid string) { c.presence.UserChanged(uid, "") })
		cancel()
		if err != nil {
			eng.Close()
			return fmt.Errorf("busy lamps: %w", err)
		}
	}
	c.presence, err = presence.New(presence.Config{SIP: a.sip, Auth: a.regis, Users: a.store, Logger: a.log,
		State: c.userState})
	if err != nil {
		eng.Close()
		return err
	}
	c.b2bua, err = b2bua.New(b2bua.Config{SIP: a.sip, Engine: eng, Admit: &admitter{devices: a.regis, trunks: storeTrunks{a.store}, accounts: a.store}, Router: c.router, CDRs: cdrs, Journal: journal,
		HoldMusic: c.music.Class, MusicClass: c.music.Named, MediaHost: a.cfg.PublicAddr, RTPTimeout: rtpTimeout, Logger: a.log,
		UserState: func(userID, state string) {
			if c.lamps != nil {
				c.lamps.publish(userID, state)
			}
			c.presence.UserChanged(userID, state)
			c.ends.changed(userID, state)
		}})
	if err != nil {
		eng.Close()
		return err
	}
	a.calls = c // closeCalls releases them from here on
	if err := a.registerCallMetrics(c); err != nil {
		return err
	}
	c.b2bua.Mount(a.sip)
	a.mountSubscribe(c)
	a.setupMessages()
	return nil
}

// closeCalls hangs up every call and stops the media engine.
func (a *app) closeCalls() {
	if a.calls == nil {
		return
	}
	a.calls.b2bua.Close()
	a.calls.rec.capture.Wait() // the bridges have ended: their files are complete
	a.calls.voicemail.Close()
	a.calls.mwi.Close()
	a.calls.presence.Close()
	a.calls.engine.Close()
}
