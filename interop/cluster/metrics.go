//go:build linux

package cluster

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Counter reads one sample of the node's Prometheus metrics: the line
// whose name and labels are series exactly (`pbx_sip_registrations_total`,
// `pbx_sip_requests_total{method="OPTIONS"}`); 0 when the series does not
// exist yet (a counter never incremented is not exported).
func (n *Node) Counter(ctx context.Context, series string) (float64, error) {
	if n.Server == nil {
		return 0, fmt.Errorf("node %s is not running", n.Name)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", n.Server.HTTPURL+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("node %s: /metrics: %s", n.Name, res.Status)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if name, value, ok := strings.Cut(line, " "); ok && name == series {
			return strconv.ParseFloat(strings.TrimSpace(value), 64)
		}
	}
	return 0, sc.Err()
}
