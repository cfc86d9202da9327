package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"pbx/interop/loadgen"
	"pbx/store"
)

// selftestConfig is what `pbx selftest` needs: where the server's data
// and database are (for the demo devices' credentials), where it listens,
// and how long to talk.
type selftestConfig struct {
	data     dataFlags
	SIPAddr  string // the server's SIP UDP address
	HTTPAddr string // its HTTP address, printed as the API base URL
	TenantID string // empty: the demo tenant
	Talk     time.Duration
}

func parseSelftest(args []string, getenv func(string) string) (selftestConfig, error) {
	var c selftestConfig
	fs := flag.NewFlagSet("pbx selftest", flag.ContinueOnError)
	c.data.register(fs, getenv)
	def := func(name, v string) string {
		if e := getenv(name); e != "" {
			return e
		}
		return v
	}
	fs.StringVar(&c.SIPAddr, "sip", def("PBX_SIP", "127.0.0.1:5060"), "the server's SIP UDP host:port [PBX_SIP]")
	fs.StringVar(&c.HTTPAddr, "http", def("PBX_HTTP", "127.0.0.1:8080"), "the server's HTTP host:port, to print the API base URL [PBX_HTTP]")
	fs.StringVar(&c.TenantID, "tenant", "", "tenant whose first two licences with a device call each other (default: the demo tenant)")
	fs.DurationVar(&c.Talk, "talk", 3*time.Second, "how long the call carries audio")
	err := fs.Parse(args)
	return c, err
}

// loopbackFor turns a listen address on every interface into one a local
// client can reach.
func loopbackFor(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// selftestParty is one of the two demo devices of the self-test.
type selftestParty struct {
	label string
	acc   loadgen.Account
}

// selftestParties finds the tenant and two licences with an extension and
// a device, and reads those devices' SIP credentials from the store.
func selftestParties(ctx context.Context, st *store.Store, tenantID string) (store.Tenant, []selftestParty, error) {
	var ten store.Tenant
	if tenantID != "" {
		t, err := st.Tenant(ctx, tenantID)
		if err != nil {
			return ten, nil, fmt.Errorf("tenant %s: %w", tenantID, err)
		}
		ten = t
	} else {
		ts, err := st.Tenants(ctx)
		if err != nil {
			return ten, nil, err
		}
		for _, t := range ts {
			if strings.HasPrefix(t.Domain, "demo.") {
				ten = t
				break
			}
		}
		if ten.ID == "" {
			return ten, nil, errors.New("no demo tenant: start the server once with --demo on an empty data directory, or name a tenant with --tenant")
		}
	}
	users, err := st.Users(ctx, ten.ID)
	if err != nil {
		return ten, nil, err
	}
	// The lowest extensions first, so the same two devices call each time.
	slices.SortFunc(users, func(a, b store.User) int { return cmp.Compare(a.Extension, b.Extension) })
	var out []selftestParty
	for _, u := range users {
		if u.Extension == "" || !u.Active(time.Now()) {
			continue
		}
		devs, err := st.Devices(ctx, ten.ID, u.ID)
		if err != nil {
			return ten, nil, err
		}
		if len(devs) == 0 {
			continue
		}
		d := devs[0]
		// The host that holds the data directory holds the key that seals
		// these passwords: reading them here gives away nothing new.
		pw, err := st.DevicePassword(ctx, d.ID)
		if err != nil {
			return ten, nil, fmt.Errorf("device %s: %w", d.SIPUsername, err)
		}
		out = append(out, selftestParty{
			label: fmt.Sprintf("%s %s, ext %s, device %s", u.FirstName, u.LastName, u.Extension, d.SIPUsername),
			acc:   loadgen.Account{Username: d.SIPUsername, Password: pw, Domain: ten.Domain, Extension: u.Extension},
		})
		if len(out) == 2 {
			return ten, out, nil
		}
	}
	return ten, nil, fmt.Errorf("tenant %s has fewer than two licences with an extension and a device", ten.ID)
}

// selftestResult is what the self-test saw.
type selftestResult struct {
	Registered bool
	Answered   bool
	Setup      time.Duration
	Up, Down   loadgen.StreamStats
}

// AudioBothWays: each phone received most of what the other sent.
func (r selftestResult) AudioBothWays() bool {
	ok := func(s loadgen.StreamStats) bool { return s.Sent > 0 && s.Audio*10 >= s.Sent*9 }
	return r.Answered && ok(r.Up) && ok(r.Down)
}

// runSelftest registers two devices of the tenant with the project's own
// user agents (interop/loadgen), calls from the first to the second's
// extension through the running server, sends G.711 both ways for
// cfg.Talk and prints what each phone received.
func runSelftest(ctx context.Context, cfg selftestConfig, out io.Writer) (selftestResult, error) {
	var res selftestResult
	st, err := cfg.data.open(ctx)
	if err != nil {
		return res, err
	}
	ten, parties, err := selftestParties(ctx, st, cfg.TenantID)
	st.Close()
	if err != nil {
		return res, err
	}
	sipAddr := loopbackFor(cfg.SIPAddr)
	fmt.Fprintf(out, "tenant      %s (%s), SIP domain %s\n", ten.Name, ten.ID, ten.Domain)
	fmt.Fprintf(out, "server      SIP %s (UDP), API http://%s/api/v1\n", sipAddr, loopbackFor(cfg.HTTPAddr))
	fmt.Fprintf(out, "caller      %s\n", parties[0].label)
	fmt.Fprintf(out, "callee      %s\n", parties[1].label)

	// The shortest registration the server accepts by default: the
	// bindings of the self-test lapse within a minute of its end.
	g, err := loadgen.New(loadgen.Config{Server: sipAddr, Shards: 1, UserAgent: "pbx-selftest", RegisterExpires: 60})
	if err != nil {
		return res, err
	}
	defer g.Close()
	for _, p := range parties {
		if err := g.Register(ctx, p.acc); err != nil {
			fmt.Fprintf(out, "registered  NO: %v\n", err)
			return res, err
		}
	}
	res.Registered = true
	fmt.Fprintln(out, "registered  yes, both devices")
	call, err := g.Dial(ctx, parties[0].acc, parties[1].acc)
	if err != nil {
		fmt.Fprintf(out, "answered    NO: %v\n", err)
		return res, err
	}
	res.Answered, res.Setup = true, call.Setup
	fmt.Fprintf(out, "answered    yes, in %d ms\n", call.Setup.Milliseconds())
	select {
	case <-time.After(cfg.Talk):
	case <-call.Ended():
	case <-ctx.Done():
	}
	hctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	herr := call.Hangup(hctx)
	cancel()
	s := call.Stats()
	res.Up, res.Down = s.Up, s.Down
	printStream(out, "caller -> callee", s.Up)
	printStream(out, "callee -> caller", s.Down)
	if !res.AudioBothWays() {
		fmt.Fprintln(out, "result      FAILED: audio did not flow both ways")
		return res, errors.New("audio did not flow both ways")
	}
	if herr != nil {
		fmt.Fprintf(out, "result      FAILED: hang-up: %v\n", herr)
		return res, fmt.Errorf("hang-up: %w", herr)
	}
	fmt.Fprintln(out, "result      OK: registered, answered, audio both ways, hung up")
	return res, nil
}

func printStream(out io.Writer, dir string, s loadgen.StreamStats) {
	loss := loadgen.LossRatio(s.Sent, s.Sent-s.Audio-s.Events)
	fmt.Fprintf(out, "audio       %s: %d of %d packets, loss %.1f%%, jitter %.1f ms, MOS %.2f\n",
		dir, s.Audio+s.Events, s.Sent, 100*loss, float64(s.Jitter.Microseconds())/1000, loadgen.MOS(loss, s.Jitter))
}
