//go:build linux

package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"pbx/internal/pgtest"
	"pbx/interop"
)

// Config says what to start. Binary is required (interop.BuildPBX).
type Config struct {
	// Binary is the pbx executable.
	Binary string
	// Dir holds the nodes' data directories and logs and the edge's files.
	Dir string
	// Nodes names the pbx nodes (default "a", "b"), in the dispatcher's
	// order: with Algorithm "8" the first one running takes every call.
	Nodes []string
	// Deferred names nodes that Start leaves stopped (StartNode starts
	// them later, on the port the edge already knows).
	Deferred []string
	// Algorithm is the dispatcher's (edge.cfg's DS_ALG; default "8", the
	// first node by priority, which tests can predict; "0" hashes the
	// Call-ID and spreads calls).
	Algorithm string
	// PingInterval is how often the edge probes each node (default 1 s,
	// whole seconds).
	PingInterval time.Duration
	// NodeTimeout is how long the edge waits for a node's first answer
	// before trying the next one (default 1.5 s).
	NodeTimeout time.Duration
	// NodeArgs are extra `pbx serve` flags for every node.
	NodeArgs []string
	// EdgeConfig is the Kamailio configuration (default
	// deploy/kamailio/edge.cfg of the module this runs in).
	EdgeConfig string
	// Logf reports progress; nil: silent.
	Logf func(format string, args ...any)
}

// Cluster is a running local cluster.
type Cluster struct {
	// DB is the URL of the PostgreSQL database the nodes share.
	DB    string
	Edge  *Edge
	Nodes []*Node

	cfg   Config
	pg    *pgtest.Server
	keys  []string // PBX_SECRET_KEY=..., PBX_NONCE_KEY=..., PBX_ADMIN_TOKEN=...
	token string   // the admin token of every node
}

// Node is one pbx node; Server is nil while it is not running.
type Node struct {
	Name    string
	SIPAddr string // fixed for the cluster's life: the edge's list names it
	Server  *interop.Server
}

// Start starts PostgreSQL, the nodes not deferred (one after the other:
// the first migrates the database) and the edge. On error everything
// started is stopped.
func Start(ctx context.Context, cfg Config) (c *Cluster, err error) {
	if cfg.Binary == "" || cfg.Dir == "" {
		return nil, errors.New("cluster: Config needs Binary and Dir")
	}
	if len(cfg.Nodes) == 0 {
		cfg.Nodes = []string{"a", "b"}
	}
	if cfg.Algorithm == "" {
		cfg.Algorithm = "8"
	}
	if cfg.PingInterval < time.Second {
		cfg.PingInterval = time.Second
	}
	if cfg.NodeTimeout <= 0 {
		cfg.NodeTimeout = 1500 * time.Millisecond
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.EdgeConfig == "" {
		root, err := moduleRoot()
		if err != nil {
			return nil, err
		}
		cfg.EdgeConfig = filepath.Join(root, "deploy", "kamailio", "edge.cfg")
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	c = &Cluster{cfg: cfg}
	defer func() {
		if err != nil {
			c.Stop()
			c = nil
		}
	}()
	// The bootstrap admin token is one row of the shared database: every
	// node must be given the same, or each start replaces the last one's.
	for _, name := range []string{"PBX_SECRET_KEY", "PBX_NONCE_KEY", "PBX_ADMIN_TOKEN"} {
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return c, err
		}
		c.keys = append(c.keys, name+"="+hex.EncodeToString(k))
	}
	c.token = strings.TrimPrefix(c.keys[2], "PBX_ADMIN_TOKEN=")
	cfg.Logf("starting PostgreSQL")
	if c.pg, err = pgtest.Start(); err != nil {
		return c, fmt.Errorf("cluster: PostgreSQL: %w", err)
	}
	c.DB = c.pg.URL
	taken := map[int]bool{}
	for _, name := range cfg.Nodes {
		port, err := freeSIPPort(taken)
		if err != nil {
			return c, err
		}
		c.Nodes = append(c.Nodes, &Node{Name: name, SIPAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))})
	}
	for _, n := range c.Nodes {
		deferred := false
		for _, d := range cfg.Deferred {
			deferred = deferred || d == n.Name
		}
		if !deferred {
			if err := c.StartNode(ctx, n.Name); err != nil {
				return c, err
			}
		}
	}
	if c.Edge, err = startEdge(ctx, cfg, c.Nodes); err != nil {
		return c, err
	}
	cfg.Logf("edge (Kamailio) pid %d on %s, log %s", c.Edge.Pid, c.Edge.SIPAddr, c.Edge.LogFile)
	return c, nil
}

// freeSIPPort is a port free for UDP and TCP, not one of taken.
func freeSIPPort(taken map[int]bool) (int, error) {
	for range 20 {
		p, err := interop.FreeSIPPort()
		if err != nil {
			return 0, err
		}
		if !taken[p] {
			taken[p] = true
			return p, nil
		}
	}
	return 0, errors.New("cluster: no free SIP port")
}

// Node returns the node named name, or nil.
func (c *Cluster) Node(name string) *Node {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

func (c *Cluster) index(n *Node) int {
	for i, m := range c.Nodes {
		if m == n {
			return i
		}
	}
	return 0
}

// CPU is the CPU time used so far by the edge's processes and the running
// nodes (a benchmark's cost per request).
func (c *Cluster) CPU() (time.Duration, error) {
	total, err := interop.GroupCPU(c.Edge.Pid)
	if err != nil {
		return 0, err
	}
	for _, n := range c.Nodes {
		if n.Server != nil && n.Server.Alive() {
			cpu, err := interop.ProcessCPU(n.Server.Pid)
			if err != nil {
				return 0, err
			}
			total += cpu
		}
	}
	return total, nil
}

// StartNode starts the node named name (not running) on its SIP address.
func (c *Cluster) StartNode(ctx context.Context, name string) error {
	n := c.Node(name)
	if n == nil {
		return fmt.Errorf("cluster: no node %q", name)
	}
	if n.Server != nil && n.Server.Alive() {
		return fmt.Errorf("cluster: node %s is running", name)
	}
	// Flags after StartServer's win: the SIP address is the one in the
	// edge's list, not a fresh one.
	// The nodes share the machine: each gets its own RTP ports, below the
	// kernel's ephemeral range.
	span := 30000 / len(c.Nodes)
	lo := 2000 + c.index(n)*span
	args := append([]string{"--db", c.DB, "--node", n.Name, "--trusted-proxy", "127.0.0.1", "--sip", n.SIPAddr,
		"--rtp-ports", fmt.Sprintf("%d-%d", lo, lo+span-1), "--log-level", "warn"}, c.cfg.NodeArgs...)
	srv, err := interop.StartServer(ctx, interop.ServerConfig{Binary: c.cfg.Binary, DataDir: filepath.Join(c.cfg.Dir, "node-"+n.Name),
		Args: args, Env: c.keys, StartTimeout: 60 * time.Second})
	if err != nil {
		return fmt.Errorf("cluster: node %s: %w", n.Name, err)
	}
	// Env is applied after StartServer's own PBX_ADMIN_TOKEN, and the
	// last value wins: the node's token is the cluster's.
	srv.Token = c.token
	n.Server = srv
	c.cfg.Logf("node %s pid %d: SIP %s, HTTP %s, log %s", n.Name, srv.Pid, n.SIPAddr, srv.HTTPURL, srv.LogFile)
	return nil
}

// Stop ends the edge, the nodes and PostgreSQL, in that order, and
// removes PostgreSQL's directory; safe to call twice.
func (c *Cluster) Stop() {
	if c.Edge != nil {
		c.Edge.Stop()
	}
	for _, n := range c.Nodes {
		if n.Server != nil {
			_ = n.Server.Stop()
		}
	}
	if c.pg != nil {
		if err := c.pg.Stop(); err != nil {
			c.cfg.Logf("stop PostgreSQL: %v", err)
		}
		c.pg = nil
	}
}

// moduleRoot is the directory of the go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cluster: no go.mod above the working directory: run inside the module or set Config.EdgeConfig")
		}
		dir = parent
	}
}
