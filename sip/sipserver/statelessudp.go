package sipserver

import (
	"bytes"
	"net"
	"net/netip"
	"sync"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// HandleStateless is Handle for a method whose requests over UDP are
// answered without a server transaction, as Kamailio's registrar answers
// REGISTER: each datagram is parsed and handed to the handler by the UDP
// listener itself, before sipgo's transaction layer sees it, and each
// answer leaves once, from the listener, to the address the request came
// from. A retransmitted request is handled again; the handler must give
// it the same answer (a REGISTER applied twice has the effect of one).
// sipgo would create a transaction (channels, a state machine, a map entry,
// a goroutine and, once answered, Timer J's 32 s of memory) for each, only
// for RespondStateless to drop it. Requests over TCP and TLS, and datagrams
// that do not parse, go through sipgo as before. Call it before Start.
//
// The requests are handled by a fixed set of goroutines; when all are busy
// the listener waits, the socket's buffer fills and the kernel drops what
// does not fit, rather than a goroutine being parked per datagram of a
// storm.
func (s *Server) HandleStateless(method sip.RequestMethod, h sipgo.RequestHandler) {
	s.Handle(method, h)
	s.bad.stateless = append(s.bad.stateless, statelessRoute{prefix: []byte(string(method) + " "), h: s.wrap(h)})
	s.bad.startStateless.Do(func() {
		s.bad.jobs = make(chan statelessJob, statelessQueue)
		s.bad.handlers.Add(statelessHandlers)
		for range statelessHandlers {
			go s.bad.handle()
		}
	})
}

// statelessHandlers bounds the requests handled at once: enough for those
// that wait for a database commit (a REGISTER that adds a binding) while
// others are worked on.
const (
	statelessHandlers = 256
	statelessQueue    = 1024
)

type statelessJob struct {
	h   sipgo.RequestHandler
	req *sip.Request
	tx  *udpTx
}

func (b *badInput) handle() {
	defer b.handlers.Done()
	for j := range b.jobs {
		j.h(j.req, j.tx)
	}
}

// stopStateless ends the handlers once the listeners have stopped.
func (b *badInput) stopStateless() {
	b.stopOnce.Do(func() {
		if b.jobs != nil {
			close(b.jobs)
			b.handlers.Wait()
		}
	})
}

type statelessRoute struct {
	prefix []byte
	h      sipgo.RequestHandler
}

// takeStateless handles a datagram of a stateless method and reports
// whether it did.
func (b *badInput) takeStateless(info sip.TransportReadProps, data []byte) bool {
	var h sipgo.RequestHandler
	for _, r := range b.stateless {
		if bytes.HasPrefix(data, r.prefix) {
			h = r.h
			break
		}
	}
	ra, ok := info.RemoteAddr.(*net.UDPAddr)
	if h == nil || !ok || b.udpConn == nil {
		return false
	}
	msg, err := sip.ParseMessage(data) // copies what it keeps: the buffer is the reader's
	if err != nil {
		return false // sipgo parses it again and reports it (parseFailed)
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		return false
	}
	src := ra.AddrPort()
	req.SetTransport("UDP")
	req.SetSource(src.String())
	b.jobs <- statelessJob{h: h, req: req, tx: &udpTx{conn: b.udpConn, to: responseAddr(req, src)}}
	return true
}

// udpTx is the stand-in transaction of a request handled statelessly: it
// is over from the start, and each answer is one datagram.
type udpTx struct {
	conn *net.UDPConn
	to   netip.AddrPort
}

var (
	overChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()
	bufs     = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

func (t *udpTx) Respond(res *sip.Response) error {
	buf := bufs.Get().(*bytes.Buffer)
	defer bufs.Put(buf)
	buf.Reset()
	res.StringWrite(buf)
	if buf.Len() > sip.UDPMTUSize-200 {
		return sip.ErrUDPMTUCongestion
	}
	_, err := t.conn.WriteToUDPAddrPort(buf.Bytes(), t.to)
	return err
}

func (t *udpTx) Terminate()                         {}
func (t *udpTx) OnTerminate(sip.FnTxTerminate) bool { return false }
func (t *udpTx) Done() <-chan struct{}              { return overChan }
func (t *udpTx) Err() error                         { return nil }
func (t *udpTx) Acks() <-chan *sip.Request          { return nil }
func (t *udpTx) OnCancel(sip.FnTxCancel) bool       { return false }

// Pooled reports whether the request of tx is handled on one of the
// long-lived goroutines of HandleStateless: their number bounds the
// requests at work and their stacks, once grown, stay grown, so a handler
// need not hand its work to a pool of its own.
func Pooled(tx sip.ServerTransaction) bool {
	if ct, ok := tx.(*countingTx); ok {
		tx = ct.ServerTransaction
	}
	_, ok := tx.(*udpTx)
	return ok
}

// responseAddr is where the answers to a request that came over UDP from
// src go (RFC 3261 §18.2.2, RFC 3581), as sipgo's transactions send them:
// to the source address and port when the top Via asks for rport, else to
// the source address at the Via's sent-by port (5060 when it names none).
// A device that sends from one socket and listens on another gets its
// answers where it listens.
func responseAddr(req *sip.Request, src netip.AddrPort) netip.AddrPort {
	ip := src.Addr().Unmap()
	via := req.Via()
	if via == nil || via.Params.Has("rport") {
		return netip.AddrPortFrom(ip, src.Port())
	}
	port := via.Port
	if port <= 0 {
		port = 5060
	}
	return netip.AddrPortFrom(ip, uint16(port))
}
