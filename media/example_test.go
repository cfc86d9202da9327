package media_test

import (
	"log"
	"net/netip"
	"time"

	"pbx/media"
	"pbx/media/sdp"
)

// A call as the call-control layer drives it: two legs, negotiated from
// their SDP, bridged; then a hold with music and the resume.
func Example() {
	eng, err := media.NewEngine(media.Config{PortMin: 10000, PortMax: 20000})
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()

	// Leg A: an incoming INVITE with an offer.
	var offerBody []byte // from the INVITE
	offer, err := sdp.Parse(offerBody)
	if err != nil {
		log.Print(err) // answer 400 / 488
		return
	}
	neg, err := sdp.Negotiate(offer, sdp.Supported)
	if err != nil {
		log.Print(err) // 488 Not Acceptable Here
		return
	}
	a, err := eng.NewSession()
	if err != nil {
		log.Print(err) // 503
		return
	}
	defer a.Close()
	a.SetRemote(neg.Remote)
	a.SetCodec(media.Codec{Name: neg.Codec.Name, PayloadType: neg.Codec.PayloadType, ClockRate: neg.Codec.ClockRate})
	a.SetDTMFPayloadType(neg.DTMFPayloadType)
	localKey := ""
	if neg.Crypto != nil {
		localKey, _ = media.GenerateSDESKey()
		a.SetSRTP(neg.Crypto.Suite, localKey, neg.Crypto.Key)
	}
	a.OnInactive(60*time.Second, func() { /* hang up the leg */ })
	a.OnDTMF(func(d rune) { /* feed the IVR */ })
	answer, _ := sdp.NewBuilder(netip.MustParseAddr("198.51.100.7")).
		Answer(offer, neg.AnswerMedia(int(a.LocalAddr().Port()), localKey))
	_ = answer // in the 200 OK

	// Leg B, dialled out and answered the same way, then:
	var b *media.Session
	br, _ := media.NewBridge(a, b)

	// A puts B on hold (re-INVITE a=sendonly from A).
	br.Close()
	a.SetExpectMedia(false) // A stops sending: not a dead call
	b.StartMusic(eng.Music("tenant-42", media.MusicFiles(media.DefaultMusicDir)))

	// A resumes.
	b.StopMusic()
	a.SetExpectMedia(true)
	media.NewBridge(a, b)
}
