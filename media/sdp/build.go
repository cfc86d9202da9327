package sdp

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"

	psdp "github.com/pion/sdp/v3"
)

// Media describes our audio stream for an offer or an answer.
type Media struct {
	Port int
	// Codecs in our order of preference, telephone-event included if
	// wanted (with its payload type and fmtp; "0-16" if empty).
	Codecs    []Codec
	Direction Direction // default sendrecv
	Crypto    *Crypto   // non-nil: RTP/SAVP with this a=crypto
	Ptime     int       // default 20
}

// Builder writes the successive SDP bodies of one side of one dialog. It
// keeps the o= line: same session id throughout, version incremented
// whenever the content changes (RFC 3264 §8). Not safe for concurrent use.
type Builder struct {
	// Username goes in the o= line. Default "-".
	Username string
	// Addr is our media address as the far end must see it (public
	// address behind NAT), used in o= and c=.
	Addr netip.Addr

	sessionID uint64
	version   uint64
	last      string // content of the previous body, without the version
	built     bool
}

// NewBuilder returns a builder with a random session id.
func NewBuilder(addr netip.Addr) *Builder {
	id := rand.Uint64() >> 2 // fits in a signed 63-bit integer, as some parsers expect
	return &Builder{Addr: addr, sessionID: id, version: id}
}

// SessionID and Version return the current o= values.
func (b *Builder) SessionID() uint64 { return b.sessionID }

// Version returns the version of the last body built.
func (b *Builder) Version() uint64 { return b.version }

// Offer builds an offer for m.
func (b *Builder) Offer(m Media) ([]byte, error) {
	return b.build(m, nil)
}

// Answer builds an answer to offer: m for the audio stream, and every other
// stream of the offer refused with port 0, as RFC 3264 §6 requires.
func (b *Builder) Answer(offer *Description, m Media) ([]byte, error) {
	if offer == nil {
		return nil, errors.New("sdp: answer to a nil offer")
	}
	return b.build(m, offer)
}

func (b *Builder) build(m Media, offer *Description) ([]byte, error) {
	if !b.Addr.IsValid() {
		return nil, errors.New("sdp: builder has no address")
	}
	if m.Port <= 0 || m.Port > 65535 {
		return nil, fmt.Errorf("sdp: port %d out of range", m.Port)
	}
	if len(m.Codecs) == 0 {
		return nil, errors.New("sdp: no codec to offer")
	}
	addrType, addr := "IP4", b.Addr.Unmap()
	if addr.Is6() {
		addrType = "IP6"
	}
	user := b.Username
	if user == "" {
		user = "-"
	}
	audio := audioDescription(m)

	sd := &psdp.SessionDescription{
		Version: 0,
		Origin: psdp.Origin{
			Username: user, SessionID: b.sessionID, NetworkType: "IN",
			AddressType: addrType, UnicastAddress: addr.String(),
		},
		SessionName: "-",
		ConnectionInformation: &psdp.ConnectionInformation{
			NetworkType: "IN", AddressType: addrType, Address: &psdp.Address{Address: addr.String()},
		},
		TimeDescriptions: []psdp.TimeDescription{{Timing: psdp.Timing{}}},
	}
	if offer == nil {
		sd.MediaDescriptions = []*psdp.MediaDescription{audio}
	} else {
		for i, s := range offer.media {
			if i == offer.audio {
				sd.MediaDescriptions = append(sd.MediaDescriptions, audio)
				continue
			}
			sd.MediaDescriptions = append(sd.MediaDescriptions, &psdp.MediaDescription{
				MediaName: psdp.MediaName{
					Media: s.media, Port: psdp.RangedPort{Value: 0},
					Protos: slices.Clone(s.protos), Formats: slices.Clone(s.formats),
				},
			})
		}
	}

	// Version: unchanged content keeps the version, anything else bumps it.
	content, err := sd.Marshal()
	if err != nil {
		return nil, fmt.Errorf("sdp: marshal: %w", err)
	}
	if b.built && string(content) != b.last {
		b.version++
	}
	b.built, b.last = true, string(content)
	sd.Origin.SessionVersion = b.version
	out, err := sd.Marshal()
	if err != nil {
		return nil, fmt.Errorf("sdp: marshal: %w", err)
	}
	return out, nil
}

func audioDescription(m Media) *psdp.MediaDescription {
	proto := []string{"RTP", "AVP"}
	if m.Crypto != nil {
		proto = []string{"RTP", "SAVP"}
	}
	md := &psdp.MediaDescription{
		MediaName: psdp.MediaName{Media: "audio", Port: psdp.RangedPort{Value: m.Port}, Protos: proto},
	}
	for _, c := range m.Codecs {
		pt := strconv.Itoa(int(c.PayloadType))
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		rtpmap := c.Name + "/" + strconv.Itoa(int(c.ClockRate))
		if c.Channels > 1 {
			rtpmap += "/" + strconv.Itoa(c.Channels)
		}
		md.Attributes = append(md.Attributes, psdp.NewAttribute("rtpmap", pt+" "+rtpmap))
		fmtp := c.Fmtp
		if c.isTelephoneEvent() && fmtp == "" {
			fmtp = "0-16"
		}
		if fmtp != "" {
			md.Attributes = append(md.Attributes, psdp.NewAttribute("fmtp", pt+" "+fmtp))
		}
	}
	ptime := m.Ptime
	if ptime == 0 {
		ptime = 20
	}
	md.Attributes = append(md.Attributes, psdp.NewAttribute("ptime", strconv.Itoa(ptime)))
	if c := m.Crypto; c != nil {
		md.Attributes = append(md.Attributes, psdp.NewAttribute("crypto",
			fmt.Sprintf("%d %s inline:%s%s", c.Tag, c.Suite, c.Key, c.Params)))
	}
	dir := m.Direction
	if dir == "" {
		dir = SendRecv
	}
	md.Attributes = append(md.Attributes, psdp.NewPropertyAttribute(string(dir)))
	return md
}
