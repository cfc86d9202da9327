package pgtest

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// sweepStale removes the directories of servers whose test binary died
// without stopping them (killed, or a test timeout's panic): the server
// itself went with it (Pdeathsig), its directory stayed. A directory is
// only taken when it is old and no live postmaster holds it, so that the
// servers of test binaries running beside this one are left alone.
func sweepStale(base string, olderThan time.Duration, now time.Time) {
	dirs, _ := filepath.Glob(filepath.Join(base, "pbx-pgtest-*"))
	for _, dir := range dirs {
		fi, err := os.Stat(dir)
		if err != nil || !fi.IsDir() || now.Sub(fi.ModTime()) < olderThan || postmasterAlive(dir) {
			continue
		}
		os.RemoveAll(dir)
	}
}

// postmasterAlive reports whether the postmaster recorded in dir's data
// directory still runs.
func postmasterAlive(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		return false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return false
	}
	err = syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
