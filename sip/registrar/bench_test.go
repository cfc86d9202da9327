package registrar

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// BenchmarkRegisterRefresh is the registrar's part of a refresh (an
// authenticated REGISTER of a registered contact) on SQLite, from the
// parsed request to the 200 handed to the transaction.
func BenchmarkRegisterRefresh(b *testing.B) {
	r, _, _, _, _ := storeRegistrar(b, sqliteOptions(b))
	msg, err := sip.ParseMessage([]byte(authorized(1, "600")))
	if err != nil {
		b.Fatal(err)
	}
	req := msg.(*sip.Request)
	req.SetSource("192.0.2.10:5060")
	req.SetTransport("UDP")
	tx := &recTx{done: make(chan struct{})}
	r.HandleRegister(req, tx)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		tx.responses = tx.responses[:0]
		r.HandleRegister(req, tx)
		if len(tx.responses) != 1 || tx.responses[0].StatusCode != 200 {
			b.Fatalf("responses %+v", tx.responses)
		}
	}
}
