package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"pbx/interop"
)

// sample is what the server holds at one moment.
type sample struct {
	rss        int64 // bytes
	goroutines int
	fds        int
}

func measure(srv *interop.Server) (sample, error) {
	var s sample
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", srv.Pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			s.rss = kb << 10
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", srv.Pid))
	if err != nil {
		return s, err
	}
	s.fds = len(fds)
	c := http.Client{Timeout: 10 * time.Second}
	res, err := c.Get(srv.HTTPURL + "/metrics")
	if err != nil {
		return s, err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			s.goroutines, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return s, sc.Err()
}

// growth compares the highest value of the last third of the samples with
// the highest of the middle third (the first is the warm-up).
func growth(samples []sample) []error {
	n := len(samples) / 3
	if n == 0 {
		return []error{fmt.Errorf("%d samples: too few to judge growth", len(samples))}
	}
	mid, last := samples[n:2*n], samples[2*n:]
	peak := func(ss []sample, f func(sample) int64) int64 {
		var m int64
		for _, s := range ss {
			m = max(m, f(s))
		}
		return m
	}
	var errs []error
	for _, r := range []struct {
		name  string
		f     func(sample) int64
		floor int64
	}{
		{"resident memory (bytes)", func(s sample) int64 { return s.rss }, 16 << 20},
		{"goroutines", func(s sample) int64 { return int64(s.goroutines) }, 100},
		{"file descriptors", func(s sample) int64 { return int64(s.fds) }, 50},
	} {
		a, b := peak(mid, r.f), peak(last, r.f)
		if b > a+a/4+r.floor {
			errs = append(errs, fmt.Errorf("%s grew from %d to %d", r.name, a, b))
		}
	}
	return errs
}
