package interop

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// callNaming names the licences of the call tests: extensions 300000
// upwards.
var callNaming = CallAccountNaming{FirstExtension: 300000, FirstName: "Call", EmailPrefix: "c", EmailDomain: "interop.example"}

// freeMediaPort returns an even UDP port whose next three ports were free
// too when probed (SIPp takes -mp and -mp+2 for audio and video).
func freeMediaPort() (int, error) {
	for range 100 {
		p, err := FreeUDPPort()
		if err != nil {
			return 0, err
		}
		p &^= 1
		if p < 1024 || p > 65530 {
			continue
		}
		ok := true
		var held []net.PacketConn
		for i := range 4 {
			c, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(p+i))
			if err != nil {
				ok = false
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if ok {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no four consecutive free UDP ports found")
}

// registerFromPort registers accounts with SIPp's register.xml from the
// local port port, so that the pbx sends their calls to whatever listens
// there afterwards.
func registerFromPort(t *testing.T, ctx context.Context, srv *Server, dir string, accounts []CallAccount, port int) {
	t.Helper()
	res, err := RegisterFromPort(ctx, srv.SIPAddr, dir, accounts, port, 50)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Clean(len(accounts)) {
		t.Fatalf("registering the callees from port %d: %s\n%s", port, res.Summary(), res.Diagnostics())
	}
}

// runSIPpCalls runs the uas_call.xml callee on port (whose accounts were
// registered there) and the caller scenario over the injection file, both
// for calls calls, and waits for both.
func runSIPpCalls(ctx context.Context, srv *Server, dir, callerScenario, inf string, port, calls int, rate float64,
	timeout time.Duration, echo bool, extraUAC ...string) (*SIPpCallRun, error) {
	uasScenario, err := WriteScenario(dir, "uas_call.xml")
	if err != nil {
		return nil, err
	}
	uacScenario, err := WriteScenario(dir, callerScenario)
	if err != nil {
		return nil, err
	}
	uasMP, err := freeMediaPort()
	if err != nil {
		return nil, err
	}
	uacMP, err := freeMediaPort()
	for err == nil && uacMP == uasMP {
		uacMP, err = freeMediaPort()
	}
	if err != nil {
		return nil, err
	}
	uasArgs := []string{"-p", strconv.Itoa(port), "-mp", strconv.Itoa(uasMP)}
	if echo {
		uasArgs = append(uasArgs, "-rtp_echo")
	}
	uas := SIPp{Scenario: uasScenario, Target: srv.SIPAddr, Rate: 1, Calls: calls, Timeout: timeout + 20*time.Second,
		Args: uasArgs}
	uac := SIPp{Scenario: uacScenario, Target: srv.SIPAddr, Injection: inf, Rate: rate, Calls: calls,
		Limit: max(10, calls), Timeout: timeout,
		Args: append([]string{"-mp", strconv.Itoa(uacMP)}, extraUAC...)}
	return RunSIPpCalls(ctx, dir, uas, uac, timeout+60*time.Second)
}

// cdr is one call detail record as the API lists it.
type cdr struct {
	CallID          string     `json:"call_id"`
	Caller          string     `json:"caller"`
	Callee          string     `json:"callee"`
	AnswerAt        *time.Time `json:"answer_at"`
	BillableSeconds int        `json:"billable_seconds"`
	Disposition     string     `json:"disposition"`
	HangupCause     string     `json:"hangup_cause"`
}

func listCDRs(ctx context.Context, api *Client, tenantID string) ([]cdr, error) {
	var out []cdr
	err := api.Do(ctx, "GET", "/api/v1/tenants/"+tenantID+"/cdrs?limit=1000", nil, http.StatusOK, &out)
	return out, err
}

// waitCDRs polls the CDR list until it holds at least n records.
func waitCDRs(ctx context.Context, api *Client, tenantID string, n int) ([]cdr, error) {
	var got []cdr
	err := poll(ctx, 20*time.Second, func() (bool, error) {
		var err error
		got, err = listCDRs(ctx, api, tenantID)
		return len(got) >= n, err
	})
	if err != nil {
		return got, fmt.Errorf("want %d CDRs, have %d: %w", n, len(got), err)
	}
	return got, nil
}

// answered counts the answered CDRs with at least minBillable seconds.
func answered(cdrs []cdr, minBillable int) int {
	n := 0
	for _, c := range cdrs {
		if c.Disposition == "answered" && c.AnswerAt != nil && c.BillableSeconds >= minBillable {
			n++
		}
	}
	return n
}

func cdrSummary(cdrs []cdr) string {
	var b strings.Builder
	for i, c := range cdrs {
		if i == 10 {
			fmt.Fprintf(&b, "... (%d more)\n", len(cdrs)-10)
			break
		}
		fmt.Fprintf(&b, "%s -> %s %s billable=%ds cause=%s\n", c.Caller, c.Callee, c.Disposition, c.BillableSeconds, c.HangupCause)
	}
	return b.String()
}

// baresipPhone is a headless baresip (Debian baresip-core 1.0) with one
// account, a 440 Hz tone as microphone (ausine), an audio bridge device as
// loudspeaker (aubridge) and commands taken from its UDP console (cons):
// baresip 1.0's stdio module needs a terminal.
type baresipPhone struct {
	*baresip
	cons *net.UDPAddr
}

// startBaresipPhone runs baresip for acc through the pbx at proxy (UDP).
// With autoAnswer it answers incoming calls at once. It quits by itself
// after two minutes (-t) and is stopped when the test ends.
func startBaresipPhone(t *testing.T, bin string, acc Account, proxy string, autoAnswer bool) *baresipPhone {
	t.Helper()
	sipPort, err := FreeSIPPortPair()
	if err != nil {
		t.Fatal(err)
	}
	consPort, err := FreeSIPPort()
	for err == nil && (consPort == sipPort || consPort == sipPort+1) {
		consPort, err = FreeSIPPort()
	}
	if err != nil {
		t.Fatal(err)
	}
	config := []string{
		"module\tcons.so",
		"module\tg711.so",
		"module\tausine.so",
		"module\taubridge.so",
		"module_app\tmenu.so",
		"module_tmp\taccount.so",
		fmt.Sprintf("cons_listen\t127.0.0.1:%d", consPort),
		// ausine makes 48 kHz stereo only; baresip resamples to G.711.
		"audio_source\tausine,440",
		"ausrc_srate\t48000",
		"ausrc_channels\t2",
		"audio_player\taubridge," + acc.Username,
		"auplay_srate\t48000",
		"auplay_channels\t1",
	}
	answer := "manual"
	if autoAnswer {
		answer = "auto"
	}
	account := fmt.Sprintf("<sip:%s@%s>;auth_pass=%s;outbound=\"sip:%s;transport=udp\";regint=600;mwi=no;answermode=%s;audio_codecs=PCMU,PCMA\n",
		acc.Username, acc.Domain, acc.Password, proxy, answer)
	b := runBaresip(t, bin, baresipRun{port: sipPort, config: config, account: account, seconds: 120, crLines: true,
		name: "baresip " + acc.Username, logTail: 6000})
	return &baresipPhone{baresip: b, cons: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: consPort}}
}

// scanCRLines splits at carriage returns as well as newlines: baresip
// redraws its call status line with "\r" and no newline.
func scanCRLines(data []byte, atEOF bool) (int, []byte, error) {
	for i, c := range data {
		if c == '\n' || c == '\r' {
			return i + 1, data[:i], nil
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// command sends one console command ("/dial 300001", "/hangup").
func (p *baresipPhone) command(cmd string) error {
	c, err := net.DialUDP("udp4", nil, p.cons)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(cmd + "\n"))
	return err
}
