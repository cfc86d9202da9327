// Package media owns the RTP media plane of the softswitch: UDP port
// allocation, one Session per call leg (symmetric RTP, SRTP with SDES keys,
// DTMF observation and sending, inactivity watch, timed audio taps, RTCP
// reports of its own and the leg's measured quality), bridges
// between two sessions (packet relay, or PCMU<->PCMA transcoding), paced
// playback of audio sources and shared music-on-hold streams.
//
// It also owns the audio primitives call-control features are built from:
// sources (call-progress tones of the Belgian network, silence, sequences,
// clips decoded from WAV files of any common format and rate, resampled to
// 8 kHz), music classes whose directory is watched for new files, and the
// Recorder, which writes a crash-safe WAV file from timestamped taps,
// aligning channels by time and detecting silence.
//
// It knows nothing about SIP, databases or tenants: the call-control layer
// negotiates SDP (see package media/sdp), then drives sessions through this
// API.
//
// The receive path is the hot path. Each session has one goroutine blocked in
// a read on its RTP socket; a relayed packet is rewritten in place in that
// goroutine's pre-allocated buffer and written out on the peer's socket, so a
// relayed packet costs one read and one write syscall and no allocation. The
// only lock taken per packet belongs to the receiving session's outgoing
// stream (it serialises bridge, playback, music and sent DTMF on the same
// SSRC); it is never shared with another call and is uncontended in steady
// state. Taps are an immutable list behind an atomic pointer: a session
// without taps only loads a nil pointer per packet. The quality of the
// received stream (sequence, jitter, bytes) is kept by the receive
// goroutine and published with two atomic stores; one engine goroutine
// reads and sends every session's RTCP, off the packet path.
package media
