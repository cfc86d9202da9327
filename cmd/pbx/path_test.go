package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// A device registered through an edge proxy (a REGISTER with a Path) is
// called through it: the INVITE goes to the address the REGISTER came
// from with the Path as its Route header. Here the callee's phone plays
// its own edge: the Path names its own address.
func TestCallFollowsRegisteredPath(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Edgeco", "201", "202")
	caller := newSoftphone(t, a, accs[0], "udp")
	callee := newSoftphone(t, a, accs[1], "udp")
	self := callee.conn.LocalAddr().String()
	path := fmt.Sprintf("<sip:%s;lr;received=sip:%s>", self, self)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := callee.newRegister(600)
	req.AppendHeader(sip.NewHeader("Path", path))
	req.AppendHeader(sip.NewHeader("Supported", "path"))
	res, err := callee.client.Do(ctx, req)
	if err == nil && res.StatusCode == 401 {
		callee.cseq++
		res, err = callee.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: accs[1].device.SIPUsername, Password: accs[1].password})
	}
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("register with a Path: %v %v", res, err)
	}
	if h := res.GetHeader("Path"); h == nil || h.Value() != path {
		t.Errorf("the 200 OK echoes Path %v, want %q", h, path)
	}

	d := startDial(t, caller, "202", dialOpt{})
	in := callee.nextIncoming(t)
	if h := in.invite.GetHeader("Route"); h == nil || h.Value() != path {
		t.Errorf("INVITE Route %v, want the registered Path %q", h, path)
	}
	in.answer(t, "0 8 101")
	pc := d.wait(t)
	pc.hangup(t)
	in.waitEnded(t)
}
