package main

import (
	"crypto/tls"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo"
)

func digestAuth(acc account) sipgo.DigestAuth {
	return sipgo.DigestAuth{Username: acc.device.SIPUsername, Password: acc.password}
}

// metricValue sums the samples of a metric family from /metrics.
// metricsText is what /metrics serves.
func metricsText(t *testing.T, a *app) string {
	t.Helper()
	res, err := http.Get("http://" + a.httpLn.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func metricValue(t *testing.T, a *app, name string) float64 {
	t.Helper()
	var sum float64
	for _, line := range strings.Split(metricsText(t, a), "\n") {
		if strings.HasPrefix(line, name+" ") || strings.HasPrefix(line, name+"{") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum
}

func insecureTLS() *tls.Config { return &tls.Config{InsecureSkipVerify: true} }
