//go:build linux

// Command cluster runs a local pbx cluster until interrupted: PostgreSQL,
// two pbx nodes sharing it and Kamailio as their SIP edge
// (deploy/kamailio/edge.cfg), on loopback ports (see interop/cluster).
// Point softphones at the edge's address; each node's REST API takes its
// admin token (printed). Ctrl-C stops everything.
//
//	go run ./interop/cmd/cluster [-nodes a,b] [-alg 0] [-ping 1s] [-keep]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"pbx/interop"
	"pbx/interop/cluster"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func run() error {
	nodes := flag.String("nodes", "a,b", "names of the pbx nodes, comma-separated")
	alg := flag.String("alg", "0", "Kamailio dispatcher algorithm (0: hash of the Call-ID, 4: round robin, 8: first by priority)")
	ping := flag.Duration("ping", time.Second, "interval of the edge's OPTIONS probes of the nodes (whole seconds)")
	pbx := flag.String("pbx", "", "pbx binary (default: built from cmd/pbx)")
	keep := flag.Bool("keep", false, "keep the working directory (data, logs)")
	flag.Parse()
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "cluster: "+format+"\n", args...) }
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	work, bin, cleanup, err := interop.BenchWorkDir(ctx, "cluster", *pbx, *keep, logf)
	if err != nil {
		return err
	}
	defer cleanup()
	c, err := cluster.Start(ctx, cluster.Config{Binary: bin, Dir: work, Nodes: strings.Split(*nodes, ","),
		Algorithm: *alg, PingInterval: *ping, Logf: logf})
	if err != nil {
		return err
	}
	defer c.Stop()
	fmt.Printf("edge SIP (UDP) %s\n", c.Edge.SIPAddr)
	for _, n := range c.Nodes {
		fmt.Printf("node %s SIP %s HTTP %s token %s\n", n.Name, n.SIPAddr, n.Server.HTTPURL, n.Server.Token)
	}
	logf("running; Ctrl-C stops it")
	<-ctx.Done()
	return nil
}
