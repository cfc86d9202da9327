package loadgen

import (
	"math"
	"time"
)

// ClockRate is the RTP clock of G.711 and of its telephone events.
const ClockRate = 8000

// SeqCounter counts the packets of one RTP stream against its sequence
// numbers as RFC 3550 appendix A.1 does: the extended highest sequence
// number gives the packets expected, and expected minus received the packets
// lost (negative when duplicates arrived). Losses after the last received
// packet are invisible to it.
type SeqCounter struct {
	started  bool
	base     uint32 // extended sequence number of the first packet
	maxSeq   uint16
	cycles   uint32 // count of sequence number wrap-arounds, times 65536
	received int64
}

// Add records the arrival of a packet with sequence number seq.
func (c *SeqCounter) Add(seq uint16) {
	c.received++
	if !c.started {
		c.started = true
		c.base = uint32(seq)
		c.maxSeq = seq
		return
	}
	// Forward within half the sequence space is new; behind it is late.
	if d := seq - c.maxSeq; d != 0 && d < 0x8000 {
		if seq < c.maxSeq {
			c.cycles += 1 << 16
		}
		c.maxSeq = seq
	}
}

// Expected is the number of packets between the first and the highest
// sequence number received, both included.
func (c *SeqCounter) Expected() int64 {
	if !c.started {
		return 0
	}
	return int64(c.cycles+uint32(c.maxSeq)) - int64(c.base) + 1
}

// Received is the number of packets counted, duplicates included.
func (c *SeqCounter) Received() int64 { return c.received }

// Lost is Expected minus Received.
func (c *SeqCounter) Lost() int64 { return c.Expected() - c.received }

// LossRatio is lost over expected, 0 when nothing was expected; negative
// losses (duplicates) count as none.
func LossRatio(expected, lost int64) float64 {
	if expected <= 0 || lost <= 0 {
		return 0
	}
	return float64(lost) / float64(expected)
}

// JitterMeter is the RFC 3550 (section 6.4.1, appendix A.8) interarrival
// jitter estimator: the mean deviation of the difference in transit time of
// consecutive packets, smoothed with gain 1/16, in RTP timestamp units.
type JitterMeter struct {
	have    bool
	lastArr int64  // arrival of the previous packet, timestamp units
	lastTS  uint32 // its RTP timestamp
	jitter  float64
}

// Add records a packet with RTP timestamp ts arriving at arrival (in
// timestamp units on any fixed origin).
func (j *JitterMeter) Add(arrival int64, ts uint32) {
	if j.have {
		d := (arrival - j.lastArr) - int64(int32(ts-j.lastTS))
		if d < 0 {
			d = -d
		}
		j.jitter += (float64(d) - j.jitter) / 16
	}
	j.have = true
	j.lastArr, j.lastTS = arrival, ts
}

// Units is the current estimate in timestamp units.
func (j *JitterMeter) Units() float64 { return j.jitter }

// Duration is the current estimate as a duration at ClockRate.
func (j *JitterMeter) Duration() time.Duration {
	return time.Duration(j.jitter * float64(time.Second) / ClockRate)
}

// ArrivalUnits converts an elapsed time into RTP timestamp units at ClockRate.
func ArrivalUnits(elapsed time.Duration) int64 {
	return int64(elapsed) * ClockRate / int64(time.Second)
}

// E-model constants for G.711 (ITU-T G.107 and G.113 appendix I).
const (
	// R0MinusIs is the default basic signal-to-noise ratio less the
	// simultaneous impairments: 93.2.
	R0MinusIs = 93.2
	// G711Bpl is the packet-loss robustness of G.711 with packet loss
	// concealment; G711Ie its equipment impairment.
	G711Bpl = 25.1
	G711Ie  = 0
)

// EstimatedDelay is the mouth-to-ear delay the E-model is given: one frame
// of packetisation plus a jitter buffer twice the measured jitter and at
// least one frame deep. The loopback transit itself is negligible.
func EstimatedDelay(jitter time.Duration) time.Duration {
	return 20*time.Millisecond + max(20*time.Millisecond, 2*jitter)
}

// RFactor is the simplified E-model transmission rating for G.711 with
// random loss (BurstR = 1): R = 93.2 - Id - Ie,eff, where Id is the delay
// impairment of Cole and Rosenbluth's approximation and
// Ie,eff = Ie + (95 - Ie) * Ppl / (Ppl + Bpl).
func RFactor(lossRatio float64, delay time.Duration) float64 {
	d := float64(delay) / float64(time.Millisecond)
	id := 0.024 * d
	if d > 177.3 {
		id += 0.11 * (d - 177.3)
	}
	ppl := 100 * math.Max(0, math.Min(1, lossRatio))
	ie := G711Ie + (95-G711Ie)*ppl/(ppl+G711Bpl)
	return R0MinusIs - id - ie
}

// MOSFromR maps a rating R to an estimated mean opinion score (G.107
// annex B): 1 below R = 0, 4.5 above R = 100.
func MOSFromR(r float64) float64 {
	switch {
	case r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	return 1 + 0.035*r + r*(r-60)*(100-r)*7e-6
}

// MOS estimates the listening quality of a G.711 stream from its loss ratio
// and interarrival jitter.
func MOS(lossRatio float64, jitter time.Duration) float64 {
	return MOSFromR(RFactor(lossRatio, EstimatedDelay(jitter)))
}
