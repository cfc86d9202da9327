package interop

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// baresip is one headless baresip process with a single account.
type baresip struct {
	cmd   *exec.Cmd
	lines chan string // every line of its output, closed at exit
	mu    sync.Mutex
	out   strings.Builder
	done  chan struct{}
}

// startBaresip runs baresip (Debian baresip-core 1.0) with a configuration
// directory holding `config` and `accounts`: no audio or video modules, the
// account module only, SIP bound to loopback. It quits by itself after a
// minute (-t) and is stopped when the test ends.
func startBaresip(t *testing.T, bin string, acc Account, proxy, transport string) *baresip {
	t.Helper()
	port, err := FreeSIPPortPair()
	if err != nil {
		t.Fatal(err)
	}
	// The transport goes on the outbound proxy only: on the address of
	// record it would make baresip resolve the (fictitious) SIP domain.
	account := fmt.Sprintf("<sip:%s@%s>;auth_pass=%s;outbound=\"sip:%s;transport=%s\";regint=600;mwi=no\n",
		acc.Username, acc.Domain, acc.Password, proxy, transport)
	return runBaresip(t, bin, baresipRun{port: port, config: []string{"module_tmp\taccount.so"}, account: account,
		seconds: 60, name: "baresip"})
}

// baresipRun is how runBaresip sets up one baresip process.
type baresipRun struct {
	port    int      // sip_listen on 127.0.0.1 (baresip takes port+1 for TLS)
	config  []string // configuration lines after module_path
	account string   // the accounts file
	seconds int      // -t: baresip quits by itself after this long
	crLines bool     // split the output at "\r" too, dropping blank lines
	name    string   // how the log of a failed test names it
	logTail int      // that log shows at most this many bytes of output (0: all)
}

// runBaresip writes r's configuration directory, starts baresip on it and
// collects its output; baresip is stopped (and its output logged if the
// test failed) when the test ends.
func runBaresip(t *testing.T, bin string, r baresipRun) *baresip {
	t.Helper()
	dir := t.TempDir()
	config := strings.Join(append(append([]string{
		"poll_method\tepoll",
		"net_interface\t127.0.0.1",
		fmt.Sprintf("sip_listen\t127.0.0.1:%d", r.port),
		"module_path\t/usr/lib/baresip/modules",
	}, r.config...), ""), "\n")
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(r.account), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-f", dir, "-t", strconv.Itoa(r.seconds))
	cmd.SysProcAttr = childAttr()
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	b := &baresip{cmd: cmd, lines: make(chan string, 1000), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start baresip: %v", err)
	}
	go func() {
		cmd.Wait()
		pw.Close()
		close(b.done)
	}()
	go func() {
		defer close(b.lines)
		sc := bufio.NewScanner(pr)
		if r.crLines {
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			sc.Split(scanCRLines)
		}
		for sc.Scan() {
			line := sc.Text()
			if r.crLines && strings.TrimSpace(line) == "" {
				continue
			}
			b.mu.Lock()
			b.out.WriteString(line + "\n")
			b.mu.Unlock()
			select {
			case b.lines <- line:
			default: // nobody listening any more; the text is kept in out
			}
		}
		io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() {
		b.stop()
		if t.Failed() {
			out := b.output()
			if r.logTail > 0 && len(out) > r.logTail {
				out = "...\n" + out[len(out)-r.logTail:]
			}
			t.Logf("%s output:\n%s", r.name, out)
		}
	})
	return b
}

func (b *baresip) output() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.String()
}

// stop ends baresip the way a user quitting it does (SIGTERM: it
// un-registers first), killing it if it has not ended after 10 seconds.
func (b *baresip) stop() { terminate(b.cmd.Process, b.done, 10*time.Second) }

// waitRegistered reads baresip's output until it reports the 200 OK of its
// REGISTER for user, a registration failure, or its exit.
func (b *baresip) waitRegistered(ctx context.Context, user string) error {
	for {
		select {
		case line, ok := <-b.lines:
			if !ok {
				return fmt.Errorf("baresip exited before registering")
			}
			if strings.Contains(line, user) && strings.Contains(line, "200 OK") {
				return nil
			}
			if strings.Contains(line, "Register:") || strings.Contains(line, "reg: ") {
				return fmt.Errorf("baresip reports a registration failure: %q", line)
			}
		case <-ctx.Done():
			return fmt.Errorf("no 200 OK for %s in baresip's output: %w", user, ctx.Err())
		}
	}
}

// TestBaresipRegisters registers baresip over UDP and TCP and finds each
// binding, with baresip's User-Agent, through the REST API; when baresip
// quits, it un-registers and the binding goes.
//
// baresip 1.0 (libre 1.x) answers a challenge set that contains any SHA-256
// WWW-Authenticate with "Register: Function not implemented", whatever the
// order: it registers here to a tenant made with the server's defaults
// (MD5 alone), as a newcomer's would.
func TestBaresipRegisters(t *testing.T) {
	bin := requireTool(t, "baresip", "baresip-core")
	srv := startServer(t)
	ctx := testContext(t, 3*time.Minute)
	api := srv.API()
	tenant, accounts, err := api.CreateAccounts(ctx, "Interop Baresip", 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, transport := range []string{"udp", "tcp"} {
		acc := accounts[i]
		t.Run(transport, func(t *testing.T) {
			b := startBaresip(t, bin, acc, srv.SIPAddr, transport)
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			if err := b.waitRegistered(wctx, acc.Username); err != nil {
				t.Fatal(err)
			}
			var found Registration
			err := poll(ctx, 15*time.Second, func() (bool, error) {
				regs, err := api.Registrations(ctx, tenant.ID)
				for _, r := range regs {
					if r.DeviceID == acc.DeviceID && strings.HasPrefix(r.UserAgent, "baresip") {
						found = r
						return true, nil
					}
				}
				return false, err
			})
			if err != nil {
				t.Fatalf("no binding with a baresip User-Agent for device %s in the registrations list: %v", acc.DeviceID, err)
			}
			if !strings.EqualFold(found.Transport, transport) || !strings.Contains(found.Contact, "127.0.0.1") {
				t.Errorf("binding %+v: want transport %s and a loopback contact", found, transport)
			}
			t.Logf("baresip binding: %+v", found)

			b.stop()
			err = poll(ctx, 15*time.Second, func() (bool, error) {
				regs, err := api.Registrations(ctx, tenant.ID)
				for _, r := range regs {
					if r.DeviceID == acc.DeviceID {
						return false, err
					}
				}
				return err == nil, err
			})
			if err != nil {
				t.Errorf("baresip quit but its binding is still listed: %v", err)
			}
		})
	}
}

// poll calls check every 100ms until it reports done, for at most d.
func poll(ctx context.Context, d time.Duration, check func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var lastErr error
	for {
		done, err := check()
		if done {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("%w (last error: %v)", ctx.Err(), lastErr)
			}
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
