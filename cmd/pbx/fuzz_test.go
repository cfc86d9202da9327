package main

import (
	"bytes"
	"fmt"
	"net"
	"testing"
	"time"
)

// FuzzServerDatagram sends arbitrary datagrams to a running server, its
// registrar, b2bua, presence, voicemail and stateless paths all mounted:
// after each one, the server still answers an OPTIONS from another
// address, so no datagram panics it or blocks its UDP reader.
func FuzzServerDatagram(f *testing.F) {
	a := testApp(f, f.TempDir(), func(c *config) {
		// The fuzzer's address sends thousands of bad requests: it must
		// stay heard.
		c.BanSource, c.BanAccount, c.RateLimit = 0, 0, 0
	})
	acc := seedTenant(f, a, "Fuzz", "201", "202")[0]
	srv := a.sip.Addr("udp").(*net.UDPAddr)
	domain := acc.tenant.Domain
	user := acc.device.SIPUsername
	head := func(method, ruri, extra string, cseq int) string {
		return fmt.Sprintf("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-f%d;rport\r\nMax-Forwards: 70\r\n"+
			"From: <sip:%s@%s>;tag=ft\r\nTo: <sip:%s@%s>\r\nCall-ID: fuzz-%d\r\nCSeq: %d %s\r\n%s", method, ruri, cseq, user, domain, user, domain, cseq, cseq, method, extra)
	}
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
	f.Add([]byte(head("REGISTER", "sip:"+domain, "Contact: <sip:x@127.0.0.1:5999>\r\nExpires: 60\r\nContent-Length: 0\r\n\r\n", 1)))
	f.Add([]byte(head("REGISTER", "sip:"+domain, `Authorization: Digest username="`+user+`", realm="`+domain+`", nonce="abc", uri="sip:`+domain+`", response="0", algorithm=MD5`+"\r\nContact: *\r\nExpires: 0\r\nContent-Length: 0\r\n\r\n", 2)))
	f.Add([]byte(head("INVITE", "sip:202@"+domain, fmt.Sprintf("Contact: <sip:x@127.0.0.1:5999>\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(sdp), sdp), 3)))
	f.Add([]byte(head("SUBSCRIBE", "sip:202@"+domain, "Event: dialog\r\nAccept: application/dialog-info+xml\r\nExpires: 60\r\nContact: <sip:x@127.0.0.1:5999>\r\nContent-Length: 0\r\n\r\n", 4)))
	f.Add([]byte(head("SUBSCRIBE", "sip:*98@"+domain, "Event: message-summary\r\nExpires: 60\r\nContent-Length: 0\r\n\r\n", 5)))
	f.Add([]byte(head("BYE", "sip:202@"+domain, "Content-Length: 0\r\n\r\n", 6)))
	f.Add([]byte(head("ACK", "sip:202@"+domain, "Content-Length: 0\r\n\r\n", 7)))
	f.Add([]byte(head("REFER", "sip:202@"+domain, "Refer-To: <sip:203@"+domain+"?Replaces=a%3Bto-tag%3Db%3Bfrom-tag%3Dc>\r\nContent-Length: 0\r\n\r\n", 8)))
	f.Add([]byte(head("MESSAGE", "sip:202@"+domain, "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi", 9)))
	f.Add([]byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-x\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: r\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("INVITE sip:x SIP/2.0\r\nContent-Length: 99999\r\n\r\n"))
	f.Add([]byte("\r\n\r\n"))
	fuzz, probe := listenLoopbackUDP(f), listenLoopbackUDP(f)
	buf := make([]byte, 65535)
	n := 0
	f.Fuzz(func(t *testing.T, datagram []byte) {
		if _, err := fuzz.WriteToUDP(datagram, srv); err != nil {
			t.Fatal(err)
		}
		n++
		callID := fmt.Sprintf("probe-%d-%d", time.Now().UnixNano(), n)
		port := probe.LocalAddr().(*net.UDPAddr).Port
		opt := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%s;rport\r\nMax-Forwards: 70\r\n"+
			"From: <sip:probe@%s>;tag=p\r\nTo: <sip:%s>\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", domain, port, callID, domain, domain, callID)
		if _, err := probe.WriteToUDP([]byte(opt), srv); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			_ = probe.SetReadDeadline(deadline)
			m, _, err := probe.ReadFromUDP(buf)
			if err != nil {
				t.Fatalf("no answer to OPTIONS after the datagram %q: %v", datagram, err)
			}
			if bytes.Contains(buf[:m], []byte(callID)) {
				return
			}
		}
	})
}
