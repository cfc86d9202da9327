package workpool

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunWaitsAndReuses: Run returns after its function, and a function
// handed over after another has finished runs on the same goroutine.
func TestRunWaitsAndReuses(t *testing.T) {
	p := New(time.Minute)
	defer p.Close()
	var ran atomic.Bool
	p.Run(func() { time.Sleep(10 * time.Millisecond); ran.Store(true) })
	if !ran.Load() {
		t.Fatal("Run returned before its function")
	}
	ids := make(chan uint64, 2)
	for range 2 {
		p.Run(func() { ids <- goid() })
	}
	if a, b := <-ids, <-ids; a != b {
		t.Fatalf("two functions in sequence ran on goroutines %d and %d: the worker was not reused", a, b)
	}
}

// TestGoRunsConcurrently: functions handed over while others run get
// workers of their own.
func TestGoRunsConcurrently(t *testing.T) {
	p := New(time.Minute)
	defer p.Close()
	const n = 50
	var started sync.WaitGroup
	started.Add(n)
	release := make(chan struct{})
	var finished sync.WaitGroup
	finished.Add(n)
	for range n {
		p.Go(func() {
			defer finished.Done()
			started.Done()
			<-release
		})
	}
	waitOrFail(t, &started, "all functions running at once")
	close(release)
	waitOrFail(t, &finished, "all functions finished")
}

// TestIdleWorkersEnd: a worker idle for the timeout ends, and the pool
// still works afterwards.
func TestIdleWorkersEnd(t *testing.T) {
	base := runtime.NumGoroutine()
	p := New(20 * time.Millisecond)
	defer p.Close()
	var wg sync.WaitGroup
	wg.Add(10)
	release := make(chan struct{})
	for range 10 {
		p.Go(func() { defer wg.Done(); <-release })
	}
	close(release)
	waitOrFail(t, &wg, "the functions")
	waitGoroutines(t, base, "idle workers did not end")
	var ran atomic.Bool
	p.Run(func() { ran.Store(true) })
	if !ran.Load() {
		t.Fatal("the pool no longer runs functions")
	}
}

// TestCloseWaitsAndLeavesNothing: Close waits for busy workers, ends the
// idle ones, and functions handed over afterwards still run.
func TestCloseWaitsAndLeavesNothing(t *testing.T) {
	base := runtime.NumGoroutine()
	p := New(time.Hour)
	for range 5 {
		p.Run(func() {})
	}
	var busyDone atomic.Bool
	started := make(chan struct{})
	p.Go(func() { close(started); time.Sleep(50 * time.Millisecond); busyDone.Store(true) })
	<-started
	p.Close()
	if !busyDone.Load() {
		t.Fatal("Close returned before a busy worker finished")
	}
	waitGoroutines(t, base, "goroutines left after Close")
	var ran atomic.Bool
	p.Run(func() { ran.Store(true) })
	if !ran.Load() {
		t.Fatal("a function handed over after Close did not run")
	}
}

// TestTimeoutRacingHandover: workers timing out while functions keep
// coming lose none of them.
func TestTimeoutRacingHandover(t *testing.T) {
	p := New(time.Microsecond)
	defer p.Close()
	var n atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2000 {
				p.Run(func() { n.Add(1) })
			}
		}()
	}
	waitOrFail(t, &wg, "every Run returned")
	if got := n.Load(); got != 8000 {
		t.Fatalf("%d functions ran, want 8000", got)
	}
}

func waitOrFail(t *testing.T, wg *sync.WaitGroup, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// waitGoroutines waits until no more goroutines run than base, failing
// with msg after 20 s.
func waitGoroutines(t *testing.T, base int, msg string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before: %s", runtime.NumGoroutine(), base, msg)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// goid is the current goroutine's id, read from its stack header.
func goid() uint64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	var id uint64
	for _, c := range buf[len("goroutine "):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}

// TestNilPool: a nil pool still runs what it is handed.
func TestNilPool(t *testing.T) {
	var p *Pool
	var ran atomic.Int32
	p.Run(func() { ran.Add(1) })
	done := make(chan struct{})
	p.Go(func() { ran.Add(1); close(done) })
	<-done
	p.Close()
	if ran.Load() != 2 {
		t.Fatalf("%d of 2 functions ran", ran.Load())
	}
}
