package media

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Defaults applied by NewEngine to zero Config fields.
const (
	DefaultPortMin    = 10000
	DefaultPortMax    = 20000
	DefaultQuarantine = 5 * time.Second
	// DefaultSocketReuse is how long a pair keeps its sockets open after
	// its quarantine, for a next session to reuse.
	DefaultSocketReuse = 10 * time.Second
)

// Errors returned by the engine.
var (
	ErrClosed  = errors.New("media: closed")
	ErrNoPorts = errors.New("media: no free RTP port pair")
)

// Config configures an Engine. The zero value is usable.
type Config struct {
	// BindIP is the local address RTP sockets bind to. Default 0.0.0.0
	// (all IPv4 interfaces).
	BindIP netip.Addr
	// PortMin and PortMax bound the RTP/RTCP ports (inclusive). Each
	// session takes an even RTP port and the next odd port for RTCP.
	// Default 10000-20000.
	PortMin, PortMax int
	// Quarantine is how long a released port pair rests before it is
	// reused. Default 5 s; a negative value disables the rest.
	Quarantine time.Duration
	// SocketReuse is how long a released pair keeps its sockets open after
	// its quarantine, first in line for the next session, which then
	// neither opens nor binds any (see portPool). Default
	// DefaultSocketReuse; a negative value closes them on release.
	SocketReuse time.Duration
	// Logger receives rare events (latching, errors). Default: discard.
	Logger *slog.Logger
	// RTCPInterval is the mean interval of each session's RTCP reports.
	// Default DefaultRTCPInterval; a negative value sends none.
	RTCPInterval time.Duration
}

// Stats is a snapshot of the engine's resources. Ports are counted
// individually (a session holds two: RTP and RTCP).
type Stats struct {
	PortsInUse   int
	PortsResting int
	PortsFree    int
	Sessions     int
	MusicStreams int // music classes currently ticking
}

// Engine allocates ports and owns every Session and MusicClass it creates.
type Engine struct {
	cfg   Config
	log   *slog.Logger
	ports *portPool
	epoch time.Time // monotonic base of Session.LastReceived
	ids   atomic.Uint64
	wg    sync.WaitGroup // every goroutine the engine starts

	// bridgeMu serialises bridge topology changes (NewBridge, Close). It is
	// never taken on the packet path.
	bridgeMu sync.Mutex

	mu       sync.Mutex
	closed   bool
	sessions map[*Session]struct{}
	music    map[string]*MusicClass
	ticking  atomic.Int32
	ended    Traffic // of the sessions closed, under mu

	rtcpStarted bool // under mu
	stopRTCP    chan struct{}
}

// NewEngine validates cfg, applies defaults and returns an engine. It opens
// no socket until NewSession.
func NewEngine(cfg Config) (*Engine, error) {
	if !cfg.BindIP.IsValid() {
		cfg.BindIP = netip.IPv4Unspecified()
	}
	cfg.BindIP = cfg.BindIP.Unmap()
	if cfg.PortMin == 0 && cfg.PortMax == 0 {
		cfg.PortMin, cfg.PortMax = DefaultPortMin, DefaultPortMax
	}
	if cfg.PortMin <= 0 || cfg.PortMax > 65535 || cfg.PortMin+cfg.PortMin%2+1 > cfg.PortMax {
		return nil, fmt.Errorf("media: port range %d-%d: must hold at least one even/odd pair within 1-65535", cfg.PortMin, cfg.PortMax)
	}
	if cfg.Quarantine == 0 {
		cfg.Quarantine = DefaultQuarantine
	}
	if cfg.RTCPInterval == 0 {
		cfg.RTCPInterval = DefaultRTCPInterval
	}
	if cfg.SocketReuse == 0 {
		cfg.SocketReuse = DefaultSocketReuse
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Engine{
		cfg:      cfg,
		log:      cfg.Logger,
		ports:    newPortPool(cfg.PortMin, cfg.PortMax, cfg.Quarantine, cfg.SocketReuse, maxKeptPairs()),
		epoch:    time.Now(),
		sessions: make(map[*Session]struct{}),
		music:    make(map[string]*MusicClass),
		stopRTCP: make(chan struct{}),
	}, nil
}

// Stats reports ports and sessions. Resting ports whose quarantine is over
// are counted as free.
func (e *Engine) Stats() Stats {
	inUse, resting, free := e.ports.counts()
	e.mu.Lock()
	n := len(e.sessions)
	e.mu.Unlock()
	return Stats{
		PortsInUse:   2 * inUse,
		PortsResting: 2 * resting,
		PortsFree:    2 * free,
		Sessions:     n,
		MusicStreams: int(e.ticking.Load()),
	}
}

// Close closes every session, stops every music stream and waits for all
// goroutines of the engine to return. NewSession fails afterwards.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		e.wg.Wait()
		return nil
	}
	e.closed = true
	close(e.stopRTCP)
	sessions := make([]*Session, 0, len(e.sessions))
	for s := range e.sessions {
		sessions = append(sessions, s)
	}
	e.mu.Unlock()
	e.ports.closeAll()
	for _, s := range sessions {
		s.Close()
	}
	e.wg.Wait()
	return nil
}

// now returns monotonic nanoseconds since the engine started (never 0).
func (e *Engine) now() int64 { return int64(time.Since(e.epoch)) + 1 }

func (e *Engine) nextID() uint64 { return e.ids.Add(1) }

// listenPair binds a free RTP/RTCP pair, skipping pairs some other process
// holds (they rest like released pairs and are retried later).
func (e *Engine) listenPair() (rtp, rtcp *net.UDPConn, port int, err error) {
	network := "udp4"
	if e.cfg.BindIP.Is6() {
		network = "udp6"
	}
	for attempt := 0; attempt < e.ports.pairs; attempt++ {
		p, socks, expired, ok := e.ports.take()
		closeSockets(expired)
		if !ok {
			break
		}
		if socks != nil {
			if !socks.received() {
				return socks.rtp, socks.rtcp, p, nil
			}
			// Something still sends to this pair (its last call's far
			// end, a scan): not reused, it rests the full quarantine.
			socks.close()
			e.ports.release(p, nil)
			continue
		}
		rtp, err = net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(e.cfg.BindIP, uint16(p))))
		if err == nil {
			rtcp, err = net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(e.cfg.BindIP, uint16(p+1))))
			if err == nil {
				// The reporter drains RTCP a few times a report
				// interval, and a phone sends one compound packet per
				// interval: a small buffer is plenty.
				_ = rtcp.SetReadBuffer(16 << 10)
				return rtp, rtcp, p, nil
			}
			rtp.Close()
		}
		e.ports.release(p, nil)
		if !errors.Is(err, syscall.EADDRINUSE) && !errors.Is(err, syscall.EACCES) {
			return nil, nil, 0, fmt.Errorf("media: bind %s port %d: %w", e.cfg.BindIP, p, err)
		}
	}
	return nil, nil, 0, fmt.Errorf("%w in %d-%d", ErrNoPorts, e.cfg.PortMin, e.cfg.PortMax)
}

// received reports whether anything reached a pair's sockets while it
// rested or stayed warm (or whether that cannot be told): one poll of both
// sockets, which does not wait. A pair that received something is closed
// (dropping what is queued) rather than reused.
func (ps *pairSockets) received() bool {
	got := true
	rtpRaw, err1 := ps.rtp.SyscallConn()
	rtcpRaw, err2 := ps.rtcp.SyscallConn()
	if err1 != nil || err2 != nil {
		return true
	}
	_ = rtpRaw.Control(func(rtpFD uintptr) {
		_ = rtcpRaw.Control(func(rtcpFD uintptr) {
			fds := []unix.PollFd{{Fd: int32(rtpFD), Events: unix.POLLIN}, {Fd: int32(rtcpFD), Events: unix.POLLIN}}
			n, err := unix.Poll(fds, 0)
			got = err != nil || n != 0
		})
	})
	return got
}

// maxKeptPairs is how many released pairs may keep their sockets: a
// quarter of the descriptors the process may open (two per pair).
func maxKeptPairs() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == 0 {
		return 256
	}
	return int(min(lim.Cur/8, 1<<20))
}
