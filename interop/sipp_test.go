package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The testdata files are statistics files written by SIPp 3.6.1 with the
// register.xml scenario: a clean run of 5 registrations, and a run SIPp
// aborted on its first call (a SHA-256 challenge offered first), which
// exits with neither a success nor a failure counted.
func TestParseSIPpStats(t *testing.T) {
	for _, tc := range []struct {
		file                        string
		created, successful, failed int64
		minElapsed, maxElapsed      time.Duration
		cleanFor                    int
		clean                       bool
	}{
		{"sipp-stats-clean.csv", 5, 5, 0, 100 * time.Millisecond, 5 * time.Second, 5, true},
		{"sipp-stats-sha256-abort.csv", 1, 0, 0, 100 * time.Millisecond, 5 * time.Second, 5, false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			s, err := ParseSIPpStats(data)
			if err != nil {
				t.Fatal(err)
			}
			if s.Created != tc.created || s.Successful != tc.successful || s.Failed != tc.failed {
				t.Errorf("created/successful/failed = %d/%d/%d, want %d/%d/%d", s.Created, s.Successful, s.Failed, tc.created, tc.successful, tc.failed)
			}
			if s.Elapsed < tc.minElapsed || s.Elapsed > tc.maxElapsed {
				t.Errorf("elapsed %s outside [%s, %s]", s.Elapsed, tc.minElapsed, tc.maxElapsed)
			}
			if got := (&SIPpResult{Stats: s}).Clean(tc.cleanFor); got != tc.clean {
				t.Errorf("Clean(%d) = %v, want %v", tc.cleanFor, got, tc.clean)
			}
		})
	}
}

func TestParseSIPpStatsRejects(t *testing.T) {
	for name, data := range map[string]string{
		"empty":          "",
		"header only":    "StartTime;CurrentTime;SuccessfulCall(C);FailedCall(C);TotalCallCreated;Retransmissions(C);\n",
		"missing column": "StartTime;CurrentTime;FailedCall(C);TotalCallCreated;Retransmissions(C);\n1;2;0;0;0;\n",
		"not a count":    "StartTime;CurrentTime;SuccessfulCall(C);FailedCall(C);TotalCallCreated;Retransmissions(C);\n1.0;2.0;x;0;0;0;\n",
	} {
		if _, err := ParseSIPpStats([]byte(data)); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
}

func TestSippEpoch(t *testing.T) {
	got, err := sippEpoch("2026-11-23\t20:05:22.059445\t1795464322.059445")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Unix(1795464322, 59445000); !got.Equal(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestWriteInjectionFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.csv")
	err := WriteInjectionFile(p, []Account{{Username: "u1", Password: "p1", Domain: "acme.pbx.local"}, {Username: "u2", Password: "p2", Domain: "acme.pbx.local"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if want := "SEQUENTIAL\nu1;p1;acme.pbx.local\nu2;p2;acme.pbx.local\n"; string(b) != want {
		t.Errorf("got %q, want %q", b, want)
	}
	err = WriteInjectionFile(p, []Account{{Username: "u1", Password: "p;1", Domain: "d"}})
	if err == nil || !strings.Contains(err.Error(), "injection file") {
		t.Errorf("a ';' in a password must be refused, got %v", err)
	}
}
