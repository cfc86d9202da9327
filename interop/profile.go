package interop

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// FetchCPUProfile saves a CPU profile of the server (started with --pprof)
// taken over most of a run of length d.
func FetchCPUProfile(ctx context.Context, base, path string, d time.Duration, logf func(string, ...any)) error {
	secs := max(1, int(d.Seconds())-1)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := Get(ctx, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", base, secs), f); err != nil {
		f.Close()
		return err
	}
	logf("cpu profile of the server written to %s (go tool pprof -top %s)", path, path)
	return f.Close()
}

// Get copies the body of a GET of url to w; a status other than 200 is an
// error.
func Get(ctx context.Context, url string, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, res.Status)
	}
	_, err = io.Copy(w, res.Body)
	return err
}
