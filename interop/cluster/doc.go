// Package cluster starts a local pbx cluster for development, tests and
// benchmarks, with no container engine: a throwaway PostgreSQL (Debian's
// binaries, as internal/pgtest), pbx nodes (`pbx serve --db postgres://...
// --node NAME`, sharing their keys through PBX_SECRET_KEY and
// PBX_NONCE_KEY) and Kamailio as their SIP edge with
// deploy/kamailio/edge.cfg, all on loopback ports; Stop ends them all.
//
// Devices talk to Edge.SIPAddr only. The edge dispatches their requests to
// the nodes (dispatcher set 1, in the order of Config.Nodes, probed with
// OPTIONS every Config.PingInterval) and the nodes reach the devices back
// through it, on the Path each device registered with.
//
// The cluster is Linux only (process groups, parent-death signals).
package cluster
