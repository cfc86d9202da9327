package main

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"pbx/interop"
	"pbx/store"
)

// remotePhone is a softphone of acc on UDP registering with the pbx at
// target (a `pbx serve` process, not the test's own app).
func remotePhone(t *testing.T, target string, acc account) *softphone {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("testphone/1.0"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))))
	if err != nil {
		t.Fatal(err)
	}
	p := &phone{t: t, ua: ua, acc: acc, transport: "udp", target: target, callID: "reg-" + randomString(12) + "@test"}
	p.server, _ = sipgo.NewServer(ua)
	raw, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &keepaliveCounter{PacketConn: raw}
	p.conn, p.keepalives = c, &c.n
	port := c.LocalAddr().(*net.UDPAddr).Port
	go p.server.ServeUDP(c)
	if p.client, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(port)); err != nil {
		t.Fatal(err)
	}
	p.contact = sip.Uri{Scheme: "sip", User: acc.device.SIPUsername, Host: "127.0.0.1", Port: port, UriParams: sip.HeaderParams{}}
	t.Cleanup(p.close)
	return softphoneOn(t, p)
}

// TestRecordingSurvivesSIGKILL: a recorded call is under way when the
// server is killed (SIGKILL: nothing is closed); after the restart the
// recording is listed, marked repaired, and its audio is playable with
// each party on its channel up to the kill.
func TestRecordingSurvivesSIGKILL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "pbx")
	if err := interop.BuildPBX(ctx, bin); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	cfg := interop.ServerConfig{Binary: bin, DataDir: data, Args: []string{"--prompts", ""}}
	srv, err := interop.StartServer(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	api := srv.API()
	ten, err := api.CreateTenant(ctx, "Killed")
	if err != nil {
		t.Fatal(err)
	}
	var accs []account
	for _, ext := range []string{"201", "202"} {
		uid, err := api.CreateUser(ctx, ten.ID, interop.User{FirstName: "User", LastName: ext, Licence: "full", Extension: ext})
		if err != nil {
			t.Fatal(err)
		}
		d, err := api.CreateDevice(ctx, ten.ID, uid)
		if err != nil {
			t.Fatal(err)
		}
		accs = append(accs, account{tenant: store.Tenant{ID: ten.ID, Domain: d.Domain}, user: store.User{ID: uid, Extension: ext},
			device: store.Device{ID: d.DeviceID, SIPUsername: d.Username}, password: d.Password})
	}
	if err := api.Do(ctx, "PATCH", "/api/v1/tenants/"+ten.ID+"/users/"+accs[0].user.ID, map[string]string{"recording": "always"}, http.StatusOK, nil); err != nil {
		t.Fatal(err)
	}
	alice, bob := remotePhone(t, srv.SIPAddr, accs[0]), remotePhone(t, srv.SIPAddr, accs[1])
	aout, bin2 := connect(t, alice, bob, "202", "0 101")
	type rec struct {
		ID        string  `json:"id"`
		DurationS float64 `json:"duration_s"`
		Complete  bool    `json:"complete"`
		Repaired  bool    `json:"repaired"`
		SHA256    string  `json:"sha256"`
	}
	list := func(s *interop.Server) []rec {
		var rs []rec
		if err := s.API().Do(ctx, "GET", "/api/v1/tenants/"+ten.ID+"/recordings", nil, http.StatusOK, &rs); err != nil {
			t.Fatal(err)
		}
		return rs
	}
	for deadline := time.Now().Add(20 * time.Second); len(list(srv)) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the call is not recorded")
		}
	}
	sendPaced(t, aout, toneFrames(aliceHz, 75))
	sendPaced(t, bin2, toneFrames(bobHz, 75))
	// The recorder keeps 400 ms in memory and brings the header up to
	// date every second: wait for both before the kill.
	time.Sleep(1500 * time.Millisecond)
	if err := syscall.Kill(srv.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-srv.Exited()

	srv2, err := interop.StartServer(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv2.Stop(); err != nil {
			t.Errorf("restarted pbx did not shut down cleanly: %v", err)
		}
	}()
	rs := list(srv2)
	if len(rs) != 1 || !rs[0].Complete || !rs[0].Repaired || rs[0].DurationS < 2.5 || len(rs[0].SHA256) != 64 {
		t.Fatalf("after the restart: %+v", rs)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", srv2.HTTPURL+"/api/v1/tenants/"+ten.ID+"/recordings/"+rs[0].ID+"/audio", nil)
	req.Header.Set("Authorization", "Bearer "+srv2.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	wav, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("audio: %d %v", res.StatusCode, err)
	}
	path := filepath.Join(dir, "downloaded.wav")
	if err := os.WriteFile(path, wav, 0o600); err != nil {
		t.Fatal(err)
	}
	if n := binary.LittleEndian.Uint32(wav[40:]); int(n) != len(wav)-44 || n%4 != 0 {
		t.Fatalf("header says %d bytes of audio, the file holds %d", n, len(wav)-44)
	}
	left, right := channelTones(t, path)
	if left[aliceHz] < 60 || right[bobHz] < 60 || left[bobHz] != 0 || right[aliceHz] != 0 {
		t.Fatalf("left %v, right %v: want alice's 75 blocks on the left, bob's on the right", left, right)
	}
}
