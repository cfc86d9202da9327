//go:build linux

package cluster_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pbx/interop"
)

// pbxBinary is the pbx executable TestMain built for this run.
var pbxBinary string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pbx-cluster-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	pbxBinary = filepath.Join(dir, "pbx")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := interop.BuildPBX(ctx, pbxBinary); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		return 1
	}
	return m.Run()
}
