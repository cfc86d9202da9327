package interop

import (
	"crypto/tls"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestGarbageDoesNotStopTheServer throws random bytes, truncated and
// oversized SIP, and abusive TCP connections at the SIP ports, then checks
// the server still answers OPTIONS and REGISTER promptly and is alive. The
// garbage is pseudo-random with a fixed seed, so a failure replays.
func TestGarbageDoesNotStopTheServer(t *testing.T) {
	srv := startServer(t, sippArgs...)
	ctx := testContext(t, 3*time.Minute)
	_, accounts, err := srv.API().CreateAccounts(ctx, "Interop Garbage", 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	acc := accounts[0]
	rng := rand.New(rand.NewPCG(20260101, 5060))
	randomBytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	// A valid REGISTER to cut and stuff.
	c := dialRaw(t, "udp", srv.SIPAddr)
	valid, _ := validRequest(c, "REGISTER", acc, 1)
	register := valid.String()

	var datagrams [][]byte
	for range 300 { // random bytes of every size up to a full MTU
		datagrams = append(datagrams, randomBytes(1+rng.IntN(1500)))
	}
	for range 20 { // near the largest UDP datagram
		datagrams = append(datagrams, randomBytes(60000+rng.IntN(5000)))
	}
	for i := 1; i < len(register); i += 7 { // every truncation of a valid request
		datagrams = append(datagrams, []byte(register[:i]))
	}
	for _, hdr := range []string{
		"X-Huge: " + strings.Repeat("a", 60000),
		"Via: " + strings.Repeat("SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-x,", 1400),
		"Contact: <sip:" + strings.Repeat("x", 60000) + "@127.0.0.1>",
		"Content-Length: 99999999999999999999",
		"Content-Length: -1",
		"CSeq: 99999999999999999999 REGISTER",
		"Expires: 99999999999999999999",
		"To: \x00\x01\x02<sip:\xff\xfe@x>",
		"From: " + strings.Repeat("<", 5000),
	} {
		name, _, _ := strings.Cut(hdr, ":")
		datagrams = append(datagrams, []byte(valid.with(name, strings.TrimSpace(hdr[len(name)+1:])).String()))
	}
	datagrams = append(datagrams,
		[]byte(valid.String()+strings.Repeat("X", 50000)),                              // body without Content-Length
		[]byte(strings.Repeat("REGISTER sip:x SIP/2.0\r\n", 2000)),                     // start lines only
		[]byte(sipMessage("REGISTER sip:x SIP/2.0", strings.Repeat("H: v\r\n", 5000))), // thousands of headers
		[]byte("\r\n\r\n"), []byte{0}, []byte("SIP/2.0 200 OK\r\n\r\n"), // keep-alive, NUL, a stray response
	)

	udp, err := net.Dial("udp", srv.SIPAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	for i, d := range datagrams {
		if _, err := udp.Write(d); err != nil {
			// A refused write is ICMP from an earlier datagram: the port
			// closed, which the checks below report better.
			t.Logf("datagram %d (%d bytes): %v", i, len(d), err)
		}
		if i%50 == 49 {
			time.Sleep(10 * time.Millisecond) // let the server drain; the point is content, not flooding
		}
	}

	// TCP: garbage then close, oversized lines, a lying Content-Length, and
	// connections that send half a request and stay open (slowloris).
	var wg sync.WaitGroup
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	tcpPayloads := [][]byte{
		[]byte(strings.Repeat("A", 1<<20)),
		[]byte("REGISTER sip:x SIP/2.0\r\nX-Long: " + strings.Repeat("b", 2<<20) + "\r\n\r\n"),
		[]byte(register[:len(register)-4] + "\r\nContent-Length: 99999999\r\n\r\nshort body"),
		[]byte(strings.Repeat("\r\n", 100000)),
	}
	for range 20 {
		tcpPayloads = append(tcpPayloads, randomBytes(1+rng.IntN(64<<10)))
	}
	for i, p := range tcpPayloads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.DialTimeout("tcp", srv.SIPAddr, 5*time.Second)
			if err != nil {
				t.Errorf("tcp garbage connection %d: %v", i, err)
				return
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			conn.Write(p) // the server may close first: that is allowed
		}()
	}
	for range 10 {
		conn, err := net.DialTimeout("tcp", srv.SIPAddr, 5*time.Second)
		if err != nil {
			t.Fatalf("slowloris connection: %v", err)
		}
		conn.Write([]byte(register[:40]))
		held = append(held, conn)
	}
	// Plain bytes where a TLS handshake is due, and a handshake that never
	// finishes (a ClientHello record header, then nothing).
	tlsJunk := [][]byte{[]byte(register), {0x16, 0x03, 0x01, 0x02, 0x00, 0x01}}
	for range 5 {
		for _, payload := range tlsJunk {
			wg.Add(1)
			go func() {
				defer wg.Done()
				conn, err := net.DialTimeout("tcp", srv.TLSAddr, 5*time.Second)
				if err != nil {
					return
				}
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(5 * time.Second))
				conn.Write(payload)
			}()
		}
	}
	wg.Wait()

	if !srv.Alive() {
		t.Fatalf("the server died under garbage: %v\n%s", srv.ExitErr(), srv.LogTail(30))
	}
	assertAnswers(t, srv, acc)

	// TLS still works after the abuse.
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", srv.TLSAddr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Errorf("TLS handshake after garbage: %v", err)
	} else {
		conn.Close()
	}
	t.Logf("sent %d garbage datagrams, %d garbage TCP streams, held %d half-open connections", len(datagrams), len(tcpPayloads), len(held))
	if !srv.Alive() {
		t.Fatalf("the server died: %v", srv.ExitErr())
	}
}
