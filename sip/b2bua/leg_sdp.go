package b2bua

import (
	"errors"
	"fmt"

	"github.com/emiago/sipgo/sip"

	"pbx/media"
	"pbx/media/sdp"
)

// applyOffer adopts the far end's offer (initial or re-offer): codec,
// DTMF, address, SRTP keys; and sets what our answer will say.
func (l *Leg) applyOffer(offer *sdp.Description) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := negotiateOffer(offer, currentCodec(l.local))
	if err != nil {
		return err
	}
	localKey := ""
	if n.Crypto != nil {
		if c := l.local.Crypto; c != nil && c.Suite == n.Crypto.Suite {
			localKey = c.Key // keep our key across re-offers
		} else if localKey, err = media.GenerateSDESKey(); err != nil {
			return err
		}
	}
	if err := l.sess.SetCodec(mediaCodec(n.Codec)); err != nil {
		return fmt.Errorf("%w: %v", sdp.ErrNoCommonCodec, err)
	}
	if err := l.setKeys(n.Crypto, localKey); err != nil {
		return err
	}
	_ = l.sess.SetDTMFPayloadType(n.DTMFPayloadType)
	if old := l.sess.Remote(); old != n.Remote {
		l.sess.SetRemote(n.Remote)
		if l.state != legNew {
			l.sess.Relatch()
		}
	}
	l.local = n.AnswerMedia(l.local.Port, localKey)
	return nil
}

// setKeys (re)keys the session's SRTP when the remote or local key changed;
// remote nil means plain RTP. l.mu is held.
func (l *Leg) setKeys(remote *sdp.Crypto, localKey string) error {
	if remote == nil {
		if l.local.Crypto != nil {
			_ = l.sess.SetSRTP("", "", "")
		}
		l.remoteKey = ""
		return nil
	}
	if cur := l.local.Crypto; cur != nil && cur.Key == localKey && cur.Suite == remote.Suite && remote.Key == l.remoteKey {
		return nil // unchanged: keep the contexts (and their rollover counters)
	}
	if err := l.sess.SetSRTP(remote.Suite, localKey, remote.Key); err != nil {
		return fmt.Errorf("%w: %v", errSRTPPolicy, err)
	}
	l.remoteKey = remote.Key
	return nil
}

type answerDue int

const (
	answerNone answerDue = iota
	answerInitial
	answerReinvite
)

// ackAnswer applies the answer an ACK carries when the INVITE it
// acknowledges had no offer (ours went in the 200). Without a usable answer
// to an initial INVITE, the call has no media: the error makes the caller
// hang the leg up. A re-INVITE's ACK without an answer keeps the media as it
// was.
func (l *Leg) ackAnswer(ack *sip.Request) error {
	l.mu.Lock()
	due := l.answerDue
	l.answerDue = answerNone
	l.mu.Unlock()
	switch {
	case due == answerNone:
		return nil
	case len(ack.Body()) == 0 && due == answerReinvite:
		return nil
	case len(ack.Body()) == 0:
		return errors.New("no SDP answer in the ACK")
	}
	ans, err := sdp.Parse(ack.Body())
	if err == nil {
		l.mu.Lock()
		offeredSRTP := l.local.Crypto != nil
		l.mu.Unlock()
		if ans.Secure() != offeredSRTP {
			err = errSRTPPolicy // the answer must keep the profile we offered
		}
	}
	if err == nil {
		err = l.applyAnswer(ans)
	}
	if err == nil {
		l.setHeld(ans.OnHold())
	}
	return err
}

// applyAnswer adopts the far end's answer to our offer.
func (l *Leg) applyAnswer(ans *sdp.Description) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := negotiateAnswer(ans, l.local)
	if err != nil {
		return err
	}
	if err := l.sess.SetCodec(mediaCodec(n.Codec)); err != nil {
		return fmt.Errorf("%w: %v", sdp.ErrNoCommonCodec, err)
	}
	if n.Crypto != nil {
		if err := l.sess.SetSRTP(n.Crypto.Suite, l.local.Crypto.Key, n.Crypto.Key); err != nil {
			return fmt.Errorf("%w: %v", errSRTPPolicy, err)
		}
		l.remoteKey = n.Crypto.Key
	}
	_ = l.sess.SetDTMFPayloadType(n.DTMFPayloadType)
	l.sess.SetRemote(n.Remote)
	// From now on we describe the stream as negotiated: the chosen codec
	// and the answerer's telephone-event payload type.
	m := sdp.Media{Port: l.local.Port, Codecs: []sdp.Codec{n.Codec}, Crypto: l.local.Crypto}
	if n.DTMFPayloadType != 0 {
		te := sdp.TelephoneEvent
		te.PayloadType = n.DTMFPayloadType
		m.Codecs = append(m.Codecs, te)
	}
	l.local = m
	return nil
}
