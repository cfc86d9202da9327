package interop

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/zaf/g711"
)

// TestVoicemailSurvivesSIGKILL: a caller is leaving a message when the
// server is killed (SIGKILL, no chance to close anything); at the next
// start the recording is a message, playable, holding what was said up
// to the kill.
func TestVoicemailSurvivesSIGKILL(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"--prompts", ""} // the beep alone: the test knows when to speak
	srv, err := StartServer(ctx, ServerConfig{Binary: pbxBinary, DataDir: data, Args: args})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	api := srv.API()
	ten, err := api.CreateTenant(ctx, "Killed")
	if err != nil {
		t.Fatal(err)
	}
	alice, err := api.CreateUser(ctx, ten.ID, User{FirstName: "Alice", LastName: "A", Licence: "full", Extension: "201"})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := api.CreateUser(ctx, ten.ID, User{FirstName: "Bob", LastName: "B", Licence: "full", Extension: "202"})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := api.CreateDevice(ctx, ten.ID, alice)
	if err != nil {
		t.Fatal(err)
	}

	// Alice calls 202, who has nothing registered: the box answers.
	media, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer media.Close()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("interop-voicemail"))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	host, portStr, _ := net.SplitHostPort(srv.SIPAddr)
	port, _ := strconv.Atoi(portStr)
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: acc.Username, Host: "127.0.0.1", Port: 5099}}
	dua := &sipgo.DialogUA{Client: client, ContactHDR: contact}
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "202", Host: host, Port: port})
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: acc.Username, Host: acc.Domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "202", Host: acc.Domain}, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	mport := media.LocalAddr().(*net.UDPAddr).Port
	req.SetBody([]byte(fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n", mport)))
	dcs, err := dua.WriteInvite(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := dcs.WaitAnswer(ctx, sipgo.AnswerOptions{Username: acc.Username, Password: acc.Password}); err != nil {
		t.Fatalf("the box did not answer: %v", err)
	}
	if err := dcs.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	remote, err := sdpAudioAddr(string(dcs.InviteResponse.Body()))
	if err != nil {
		t.Fatal(err)
	}
	// The beep (250 ms: 12 or 13 packets), then silence from the server:
	// time to speak. Counting the packets keeps a stall in the middle of
	// the beep (a loaded machine) from passing for its end.
	buf := make([]byte, 1500)
	beep := 0
	for deadline := time.Now().Add(20 * time.Second); ; {
		media.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := media.Read(buf); err == nil {
			beep++
		} else if beep >= 12 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no beep: %d packets", beep)
		}
	}
	said := speak(t, media, remote, 150) // 3 s
	// The recorder has written all but its last moments, and brought the
	// header up to date at least once since the start.
	time.Sleep(1500 * time.Millisecond)
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-srv.Exited()

	// The next start makes the recording a message.
	srv2, err := StartServer(ctx, ServerConfig{Binary: pbxBinary, DataDir: data, Args: args})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv2.Stop(); err != nil {
			t.Errorf("restarted pbx did not shut down cleanly: %v", err)
		}
	}()
	var msgs []struct {
		ID        string  `json:"id"`
		Caller    string  `json:"caller"`
		DurationS float64 `json:"duration_s"`
	}
	if err := srv2.API().Do(ctx, "GET", "/api/v1/tenants/"+ten.ID+"/users/"+bob+"/voicemail", nil, http.StatusOK, &msgs); err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Caller != "201" || msgs[0].DurationS < 2 || msgs[0].DurationS > 6 {
		t.Fatalf("messages after the restart: %+v\n%s", msgs, srv2.LogTail(30))
	}
	wav := download(t, ctx, srv2, "/api/v1/tenants/"+ten.ID+"/users/"+bob+"/voicemail/"+msgs[0].ID+"/audio")
	got := wavSamples(t, wav)
	// What was said is in the file, in order (one piece may miss: a packet
	// lost on a loaded machine shifts what follows).
	found, last := 0, -1
	var scores []string
	for off := 1000; off+2000 <= 16000; off += 3000 {
		c, at := correlate(got, said[off:off+2000])
		scores = append(scores, fmt.Sprintf("%.2f@%d", c, at))
		if c >= 0.95 && at > last {
			found, last = found+1, at
		}
	}
	if found < len(scores)-1 {
		t.Fatalf("the recovered message does not hold what was said: %s in %d samples", strings.Join(scores, " "), len(got))
	}
}

// speak sends n PCMU frames of a noise-like signal in real time and
// returns the samples the server decodes from them.
func speak(t *testing.T, conn *net.UDPConn, to *net.UDPAddr, n int) []int16 {
	t.Helper()
	rng := rand.New(rand.NewPCG(42, 1))
	var said []int16
	next := time.Now()
	for i := 0; i < n; i++ {
		lin := make([]byte, 320)
		for j := 0; j < 160; j++ {
			k := float64(i*160 + j)
			v := 5000*math.Sin(2*math.Pi*(300+2500*math.Mod(k/8000, 1))*k/8000) + 3000*(rng.Float64()*2-1)
			binary.LittleEndian.PutUint16(lin[2*j:], uint16(int16(v)))
		}
		enc := g711.EncodeUlaw(lin)
		dec := g711.DecodeUlaw(enc)
		for j := 0; j < 160; j++ {
			said = append(said, int16(binary.LittleEndian.Uint16(dec[2*j:])))
		}
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(i), Timestamp: uint32(i * 160), SSRC: 7}, Payload: enc}
		raw, _ := p.Marshal()
		if _, err := conn.WriteToUDP(raw, to); err != nil {
			t.Fatal(err)
		}
		next = next.Add(20 * time.Millisecond)
		time.Sleep(time.Until(next))
	}
	return said
}

func sdpAudioAddr(sdp string) (*net.UDPAddr, error) {
	var ip string
	var port int
	for _, l := range strings.Split(sdp, "\r\n") {
		if v, ok := strings.CutPrefix(l, "c=IN IP4 "); ok {
			ip = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(l, "m=audio "); ok {
			port, _ = strconv.Atoi(strings.Fields(v)[0])
		}
	}
	if ip == "" || port == 0 {
		return nil, fmt.Errorf("no audio address in SDP:\n%s", sdp)
	}
	return &net.UDPAddr{IP: net.ParseIP(ip), Port: port}, nil
}

func download(t *testing.T, ctx context.Context, srv *Server, path string) []byte {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.HTTPURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, b.Bytes())
	}
	return b.Bytes()
}

// wavSamples reads an 8 kHz mono 16-bit WAV whose header must say exactly
// what the file holds (a player trusts it).
func wavSamples(t *testing.T, b []byte) []int16 {
	t.Helper()
	if len(b) < 44 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" || string(b[36:40]) != "data" {
		t.Fatalf("not a WAV file (%d bytes)", len(b))
	}
	if n := binary.LittleEndian.Uint32(b[40:]); int(n) != len(b)-44 || binary.LittleEndian.Uint32(b[4:]) != uint32(len(b)-8) {
		t.Fatalf("header says %d bytes of audio, the file holds %d", n, len(b)-44)
	}
	out := make([]int16, (len(b)-44)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(b[44+2*i:]))
	}
	return out
}

// correlate slides probe over rec: the best normalised correlation and
// where.
func correlate(rec, probe []int16) (best float64, at int) {
	var pp float64
	for _, x := range probe {
		pp += float64(x) * float64(x)
	}
	for off := 0; off+len(probe) <= len(rec); off++ {
		var rp, rr float64
		for i, x := range probe {
			y := float64(rec[off+i])
			rp += y * float64(x)
			rr += y * y
		}
		if rr > 0 {
			if c := rp / math.Sqrt(pp*rr); c > best {
				best, at = c, off
			}
		}
	}
	return best, at
}
