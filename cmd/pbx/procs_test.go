package main

import "testing"

// TestProcs: the flag wins, then the environment variable, else half the
// CPUs and at least one.
func TestProcs(t *testing.T) {
	for _, c := range []struct {
		flag int
		env  string
		cpus int
		want int
	}{
		{0, "", 2, 1},
		{0, "", 1, 1},
		{0, "", 16, 8},
		{0, "3", 16, 3},
		{0, "zero", 16, 8},
		{0, "0", 16, 8},
		{4, "3", 16, 4},
	} {
		if got := procs(c.flag, c.env, c.cpus); got != c.want {
			t.Errorf("procs(%d, %q, %d) = %d, want %d", c.flag, c.env, c.cpus, got, c.want)
		}
	}
}
