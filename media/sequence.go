package media

import (
	"errors"
	"io"
	"sync"
)

// Sequence returns a Source playing srcs one after the other, then io.EOF.
// A source that ends mid-frame has its last frame padded with silence (as
// every Source does), so sources join on 20 ms boundaries. Each source that
// is an io.Closer is closed when it has been played out (or failed); Close
// on the sequence closes those not yet closed. An error other than io.EOF
// from a source ends the sequence with that error.
func Sequence(srcs ...Source) Source {
	return &sequence{srcs: append([]Source(nil), srcs...)}
}

type sequence struct {
	mu   sync.Mutex // Close may come from another goroutine than playback
	srcs []Source   // those not yet played out
	err  error
}

func (q *sequence) ReadFrame(frame []int16) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	for len(q.srcs) > 0 {
		err := q.srcs[0].ReadFrame(frame)
		if err == nil {
			return nil
		}
		closeSource(q.srcs[0])
		q.srcs[0] = nil
		q.srcs = q.srcs[1:]
		if !errors.Is(err, io.EOF) {
			q.err = err
			return err
		}
	}
	q.err = io.EOF
	return io.EOF
}

// Close closes the sources not yet played out. It is idempotent.
func (q *sequence) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	var errs []error
	for _, s := range q.srcs {
		if err := closeSource(s); err != nil {
			errs = append(errs, err)
		}
	}
	q.srcs = nil
	if q.err == nil {
		q.err = io.EOF
	}
	return errors.Join(errs...)
}

func closeSource(s Source) error {
	if c, ok := s.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
