package sipserver

import (
	"errors"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// What an answered INVITE leaves behind.
//
// RFC 6026 keeps an INVITE's server transaction in "Accepted" for Timer L
// (64*T1 = 32 s) after its 2xx, to absorb retransmissions of the INVITE
// and let the TU retransmit the 2xx through it, and the client transaction
// in "Accepted" for Timer M (64*T1) to pass retransmitted 2xx up for a new
// ACK. sipgo v1.7.2 arms these timers and does not stop them when the
// transaction is terminated earlier (a BYE does), so every answered call
// keeps, for 32 s after its answer, both INVITE transactions with the
// requests, the 2xx and the dialog state they reference: about 14 kB a
// call, whatever its length.
//
// New shortens both timers to acceptedLinger, and the duties of the
// Accepted state pass to the server, as RFC 3261 §17 gave them to the
// transaction user before RFC 6026:
//   - a 2xx to an INVITE whose transaction has ended leaves directly on
//     the transaction's connection (countingTx.Respond, Retransmit), so
//     that the dialog layer's retransmissions until the ACK go on, for
//     64*T1 after the first (retransmitAnswer);
//   - the key of each INVITE answered 2xx is kept for 64*T1 (answered): a
//     retransmission of the INVITE that comes after its transaction ended
//     is dropped in wrap instead of being taken for a new call;
//   - a retransmitted 2xx that no client transaction matches any more is
//     handed to the hook set by OnUnmatchedResponse, where the owner of
//     the dialog sends the ACK again (RFC 3261 §13.2.2.4).
//
// acceptedLinger is T2 (4 s): the ACK of a 2xx arrives within a round trip
// on any working path, and other users of sipgo's dialog helpers in the
// process (which retransmit a 2xx only through its transaction) are not
// cut short by a slow ACK. sipgo reads these timers as package variables,
// so they are set once for the process, as UDPMTUSize is.
var acceptedLinger = 4 * time.Second

var setAcceptedTimers sync.Once

func shortenAcceptedTimers() {
	setAcceptedTimers.Do(func() {
		sip.Timer_L = min(sip.Timer_L, acceptedLinger)
		sip.Timer_M = min(sip.Timer_M, acceptedLinger)
	})
}

// OnUnmatchedResponse sets the function that sees each response matching
// no client transaction (before it is counted): a retransmitted 2xx to an
// INVITE whose transaction has ended, for one. It runs on its own
// goroutine per response.
func (s *Server) OnUnmatchedResponse(f func(*sip.Response)) {
	s.unmatched.Store(&f)
}

// Retransmit sends res again on the connection of the transaction tx
// answered, whether the transaction is still there or not, without
// counting it as a new response: the retransmissions of a 2xx to an
// INVITE (re-INVITE included) until its ACK, which the transaction user
// makes (RFC 3261 §13.3.1.4). Only for a response the transaction has
// already sent: an ended transaction takes any.
func Retransmit(tx sip.ServerTransaction, res *sip.Response) error {
	st := innerTx(tx)
	if st == nil || st.Connection() == nil {
		return tx.Respond(res)
	}
	err := st.Respond(res)
	if err == nil {
		return nil
	}
	select {
	case <-st.Done(): // a terminated transaction refuses it
		return st.Connection().WriteMsg(res)
	default:
		return err
	}
}

// errAnswerUnacknowledged ends the retransmissions of a 2xx 64*T1 after
// it was first sent.
var errAnswerUnacknowledged = errors.New("sip: 2xx not acknowledged within 64*T1")

// retransmitAnswer is Retransmit for a 2xx first sent at first, up to
// 64*T1 after it (RFC 3261 §13.3.1.4: the UAS then gives up). sipgo's
// dialog layer counts on the transaction to refuse the 2xx by then: its
// own 64*T1 limit is restarted at each retransmission.
func retransmitAnswer(tx sip.ServerTransaction, res *sip.Response, first time.Time) error {
	if time.Since(first) >= 64*sip.T1 {
		return errAnswerUnacknowledged
	}
	return Retransmit(tx, res)
}

// innerTx is sipgo's transaction under our wrappers, nil when tx is not
// one of sipgo's (a test double).
func innerTx(tx sip.ServerTransaction) *sip.ServerTx {
	for {
		if st, ok := tx.(*sip.ServerTx); ok {
			return st
		}
		u, ok := tx.(interface{ Unwrap() sip.ServerTransaction })
		if !ok {
			return nil
		}
		tx = u.Unwrap()
	}
}

// inviteKey is the server transaction key of an INVITE (RFC 3261
// §17.2.3: branch, sent-by and method), "" when it has none.
func inviteKey(req *sip.Request) string {
	k, _ := sip.ServerTxKeyMake(req)
	return k
}
