package b2bua

import (
	"io"
	"log/slog"
	"testing"
	"time"
)

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Idle closes once the node drains and its last call has ended, not
// before; a draining node admits no new call.
func TestDrainIdle(t *testing.T) {
	s := &Service{log: slog.New(slog.NewTextHandler(io.Discard, nil)), calls: map[*Call]struct{}{}}
	a, b := &Call{}, &Call{}
	s.calls[a], s.calls[b] = struct{}{}, struct{}{}
	if s.Draining() || !s.admitting() || isClosed(s.Idle()) {
		t.Fatal("draining before Drain")
	}
	s.callEnded(a) // calls ending while not draining close nothing
	s.calls[a] = struct{}{}
	if isClosed(s.Idle()) {
		t.Fatal("idle while not draining")
	}
	s.Drain()
	if !s.Draining() || s.admitting() {
		t.Fatal("still admitting while draining")
	}
	idle := s.Idle()
	s.callEnded(a)
	if isClosed(idle) {
		t.Fatal("idle with a call left")
	}
	s.callEnded(b)
	if !isClosed(idle) || !isClosed(s.Idle()) {
		t.Fatal("not idle once the last call ended")
	}
	s.Drain() // twice is harmless
	s.callEnded(b)
}

// A node with no call is idle as soon as it drains.
func TestDrainWithoutCalls(t *testing.T) {
	s := &Service{log: slog.New(slog.NewTextHandler(io.Discard, nil)), calls: map[*Call]struct{}{}}
	s.Drain()
	if !isClosed(s.Idle()) {
		t.Fatal("an empty node is not idle once draining")
	}
}

func TestRetryAfter(t *testing.T) {
	s := &Service{}
	if got := retryAfterHeader(s.retryAfter()).Value(); got != "30" {
		t.Fatalf("default Retry-After %s", got)
	}
	s.cfg.DrainRetryAfter = 1500 * time.Millisecond
	if got := retryAfterHeader(s.retryAfter()).Value(); got != "2" {
		t.Fatalf("Retry-After of 1.5 s: %s", got)
	}
}
