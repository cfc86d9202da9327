package interop

import (
	"fmt"
	"net"
)

// FreeSIPPort returns a loopback port that was free for both UDP and TCP when
// it was probed (the server listens on the same port number for both). The
// port is released before returning, so another process may take it before
// the server does: callers retry the start-up on "address already in use".
func FreeSIPPort() (int, error) {
	var lastErr error
	for range 50 {
		udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("probe udp port: %w", err)
		}
		port := udp.LocalAddr().(*net.UDPAddr).Port
		tcp, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
		udp.Close()
		if err != nil {
			lastErr = err
			continue
		}
		tcp.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no loopback port free for both UDP and TCP: %w", lastErr)
}

// FreeTCPPort returns a loopback TCP port that was free when probed.
func FreeTCPPort() (int, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("probe tcp port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FreeUDPPort returns a loopback UDP port that was free when probed.
func FreeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("probe udp port: %w", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// FreeSIPPortPair returns a port p free for UDP and TCP with p+1 free too:
// baresip listens for TLS on its SIP port plus one.
func FreeSIPPortPair() (int, error) {
	for range 100 {
		p, err := FreeSIPPort()
		if err != nil {
			return 0, err
		}
		if p >= 65535 {
			continue
		}
		u, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", p+1))
		if err != nil {
			continue
		}
		l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", p+1))
		u.Close()
		if err != nil {
			continue
		}
		l.Close()
		return p, nil
	}
	return 0, fmt.Errorf("no two consecutive free ports found")
}
