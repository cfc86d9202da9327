package b2bua

import (
	"pbx/media"
)

// Play sends src to the far end until it ends or StopPlay; it replaces
// what a bridge or music would send meanwhile.
func (l *Leg) Play(src media.Source) (*media.Playback, error) {
	return l.sess.Play(src)
}

// StopPlay stops what Play started.
func (l *Leg) StopPlay() { l.sess.StopPlayback() }
