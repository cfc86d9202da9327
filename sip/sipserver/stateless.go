package sipserver

import (
	"context"
	"errors"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// RespondStateless sends res, a final answer to the request of tx, without
// the transaction's state: it leaves once, on the connection the request
// came in on (to the address the transaction would have used: the Via's,
// or the source port for rport), and the transaction is terminated at once
// instead of retransmitting the answer and waiting for an ACK for Timer H
// (32 s). A retransmission of the request finds no transaction and is
// answered again, as Kamailio's www_challenge and proxy_challenge do; the
// ACK of a stateless answer to an INVITE matches no dialog and is dropped.
// It is meant for answers a retransmitted request may get again: digest
// challenges (an unauthenticated flood then costs a parse and a response,
// and holds no memory once answered) and a REGISTER's 200 (a registration
// applied twice has the effect of one).
//
// sipgo creates the server transaction before any handler runs, and offers
// no hook between its transport and transaction layers that could answer a
// parsed request (the transport read filter sees raw bytes only), so the
// transaction is created and dropped here: what matters is that none
// outlives the handler. A transaction that is not sipgo's (a test double)
// is answered through Respond.
func RespondStateless(tx sip.ServerTransaction, res *sip.Response) error {
	inner := tx
	if ct, ok := tx.(*countingTx); ok {
		ct.count(res)
		inner = ct.ServerTransaction
	}
	for {
		u, ok := inner.(interface{ Unwrap() sip.ServerTransaction })
		if !ok {
			break
		}
		inner = u.Unwrap()
	}
	st, ok := inner.(*sip.ServerTx)
	if !ok || st.Connection() == nil {
		return inner.Respond(res)
	}
	// The transaction goes before the answer leaves: a retransmission the
	// client sends as soon as it has the answer must find none to absorb it.
	conn := st.Connection()
	st.Terminate()
	return conn.WriteMsg(res)
}

// ErrNoResponse: a client transaction ended without a final response and
// without an error (sipgo ends so the transactions of a closing user
// agent).
var ErrNoResponse = errors.New("sip: transaction ended without a final response")

// Do is c.Do that never returns a nil response with a nil error.
func Do(ctx context.Context, c *sipgo.Client, req *sip.Request, opts ...sipgo.ClientRequestOption) (*sip.Response, error) {
	return noNil(c.Do(ctx, req, opts...))
}

// DoDigestAuth is c.DoDigestAuth that never returns a nil response with a
// nil error.
func DoDigestAuth(ctx context.Context, c *sipgo.Client, req *sip.Request, res *sip.Response, auth sipgo.DigestAuth) (*sip.Response, error) {
	return noNil(c.DoDigestAuth(ctx, req, res, auth))
}

func noNil(res *sip.Response, err error) (*sip.Response, error) {
	if res == nil && err == nil {
		err = ErrNoResponse
	}
	return res, err
}
