package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"pbx/interop/loadgen"
)

// Client speaks the REST API (/api/v1) with a bearer token.
type Client struct {
	BaseURL string
	Token   string
	HTTP    *http.Client
}

// NewClient returns a client for the API at baseURL ("http://host:port").
func NewClient(baseURL, token string) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token,
		HTTP: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// StatusError is an API answer with an unexpected status.
type StatusError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Body)
}

// Do sends in (JSON, nil for no body) and decodes the answer into out
// (nil to discard) when the status is want.
func (c *Client) Do(ctx context.Context, method, path string, in any, want int, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if res.StatusCode != want {
		return &StatusError{Method: method, Path: path, Status: res.StatusCode, Body: strings.TrimSpace(string(b))}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decoding %q: %w", method, path, truncate(string(b), 300), err)
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Tenant as the API returns it on creation.
type Tenant struct {
	ID     string `json:"id"`
	Domain string `json:"domain"`
}

// User is the body of a user (licence) creation.
type User struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email,omitempty"`
	Licence   string `json:"licence"`
	Extension string `json:"extension,omitempty"`
}

// Account is one device's SIP credentials.
type Account struct {
	TenantID string `json:"-"`
	UserID   string `json:"-"`
	DeviceID string `json:"id"`
	Username string `json:"sip_username"`
	Password string `json:"sip_password"`
	Domain   string `json:"sip_domain"`
}

// Registration is one contact binding listed by the API.
type Registration struct {
	DeviceID  string    `json:"device_id"`
	Contact   string    `json:"contact"`
	Source    string    `json:"source"`
	Transport string    `json:"transport"`
	UserAgent string    `json:"user_agent"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CreateTenant creates a tenant named name.
func (c *Client) CreateTenant(ctx context.Context, name string) (Tenant, error) {
	var t Tenant
	err := c.Do(ctx, "POST", "/api/v1/tenants", map[string]string{"name": name}, http.StatusCreated, &t)
	if err == nil && (t.ID == "" || t.Domain == "") {
		err = fmt.Errorf("POST /api/v1/tenants: answer without id or domain: %+v", t)
	}
	return t, err
}

// SetDigestAlgorithms chooses the SIP digest algorithms a tenant's devices
// are challenged with (empty: the server's default).
func (c *Client) SetDigestAlgorithms(ctx context.Context, tenantID string, algs []string) error {
	if algs == nil {
		algs = []string{}
	}
	return c.Do(ctx, "PATCH", "/api/v1/tenants/"+tenantID, map[string]any{"sip_digest_algorithms": algs}, http.StatusOK, nil)
}

// CreateUser creates a licence and returns its id.
func (c *Client) CreateUser(ctx context.Context, tenantID string, u User) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := c.Do(ctx, "POST", "/api/v1/tenants/"+tenantID+"/users", u, http.StatusCreated, &out)
	if err == nil && out.ID == "" {
		err = fmt.Errorf("POST /api/v1/tenants/%s/users: answer without id", tenantID)
	}
	return out.ID, err
}

// CreateDevice adds a softphone to a licence and returns its credentials.
func (c *Client) CreateDevice(ctx context.Context, tenantID, userID string) (Account, error) {
	var a Account
	path := "/api/v1/tenants/" + tenantID + "/users/" + userID + "/devices"
	err := c.Do(ctx, "POST", path, map[string]string{"kind": "softphone"}, http.StatusCreated, &a)
	if err == nil && (a.Username == "" || a.Password == "" || a.Domain == "") {
		err = fmt.Errorf("POST %s: answer without sip_username, sip_password or sip_domain", path)
	}
	a.TenantID, a.UserID = tenantID, userID
	return a, err
}

// Registrations lists the tenant's current contact bindings.
func (c *Client) Registrations(ctx context.Context, tenantID string) ([]Registration, error) {
	var rs []Registration
	err := c.Do(ctx, "GET", "/api/v1/tenants/"+tenantID+"/registrations", nil, http.StatusOK, &rs)
	return rs, err
}

// DevicesPerUser is how many devices CreateAccounts gives each full licence
// (the most a full licence takes).
const DevicesPerUser = 5

// CreateAccounts creates a tenant named name with n devices: full licences
// of DevicesPerUser devices each, created by at most workers concurrent
// requests. The accounts come back in a stable order.
func (c *Client) CreateAccounts(ctx context.Context, name string, n, workers int) (Tenant, []Account, error) {
	t, err := c.CreateTenant(ctx, name)
	if err != nil {
		return t, nil, err
	}
	users := (n + DevicesPerUser - 1) / DevicesPerUser
	accounts := make([]Account, n)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	err = parallel(ctx, users, workers, cancel, func(u int) error {
		id, err := c.CreateUser(ctx, t.ID, User{FirstName: "Interop", LastName: fmt.Sprintf("User %06d", u),
			Email: fmt.Sprintf("u%06d@interop.example", u), Licence: "full", Extension: fmt.Sprint(200000 + u)})
		if err != nil {
			return fmt.Errorf("user %d: %w", u, err)
		}
		for d := u * DevicesPerUser; d < min(n, (u+1)*DevicesPerUser); d++ {
			a, err := c.CreateDevice(ctx, t.ID, id)
			if err != nil {
				return fmt.Errorf("device %d: %w", d, err)
			}
			accounts[d] = a
		}
		return nil
	})
	if err != nil {
		return t, nil, err
	}
	return t, accounts, nil
}

// parallel calls job(i) for i from 0 to n-1 on at most workers goroutines
// (at least one), handing out no further i once ctx is done. It returns
// the first error a job returned, else ctx's error. A non-nil cancel is
// called at the first error (to stop the other jobs through their ctx).
func parallel(ctx context.Context, n, workers int, cancel context.CancelFunc, job func(i int) error) error {
	jobs := make(chan int)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range max(1, workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := job(i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
						if cancel != nil {
							cancel()
						}
					}
					mu.Unlock()
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// WriteInjectionFile writes accounts as a SIPp injection file: a SEQUENTIAL
// header, then one `username;password;domain` line per account, which a
// scenario reads as [field0], [field1] and [field2].
func WriteInjectionFile(path string, accounts []Account) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	w.WriteString("SEQUENTIAL\n")
	for _, a := range accounts {
		for _, v := range []string{a.Username, a.Password, a.Domain} {
			if strings.ContainsAny(v, ";\r\n\"[]") {
				f.Close()
				return fmt.Errorf("account %s: %q cannot go into a SIPp injection file", a.Username, v)
			}
		}
		fmt.Fprintf(w, "%s;%s;%s\n", a.Username, a.Password, a.Domain)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// CallAccount is one device of its own licence, with the extension that
// reaches it: calls to the extension ring that device only.
type CallAccount struct {
	Account
	Extension string
}

// Loadgen returns the account as the load generator takes it.
func (a CallAccount) Loadgen() loadgen.Account {
	return loadgen.Account{Username: a.Username, Password: a.Password, Domain: a.Domain, Extension: a.Extension}
}

// CallAccountNaming is how CreateCallAccounts names licence i: extension
// FirstExtension+i, first name FirstName, last name "User <extension>",
// e-mail EmailPrefix + extension + "@" + EmailDomain.
type CallAccountNaming struct {
	FirstExtension int
	FirstName      string
	EmailPrefix    string
	EmailDomain    string
}

// CreateCallAccounts creates a tenant named name with n full licences of
// one device each (so that dialling an extension rings exactly one
// device), created by at most workers requests at a time. A licence that
// fails leaves its slot empty and the others go on; the first error, or
// else the context's, is returned with the accounts.
func (c *Client) CreateCallAccounts(ctx context.Context, name string, n, workers int, naming CallAccountNaming) (Tenant, []CallAccount, error) {
	t, err := c.CreateTenant(ctx, name)
	if err != nil {
		return t, nil, err
	}
	out := make([]CallAccount, n)
	err = parallel(ctx, n, workers, nil, func(i int) error {
		ext := strconv.Itoa(naming.FirstExtension + i)
		id, err := c.CreateUser(ctx, t.ID, User{FirstName: naming.FirstName, LastName: "User " + ext,
			Email: naming.EmailPrefix + ext + "@" + naming.EmailDomain, Licence: "full", Extension: ext})
		var a Account
		if err == nil {
			a, err = c.CreateDevice(ctx, t.ID, id)
		}
		if err != nil {
			return fmt.Errorf("licence %s: %w", ext, err)
		}
		out[i] = CallAccount{Account: a, Extension: ext}
		return nil
	})
	return t, out, err
}

// Accounts returns the plain device accounts of calls.
func Accounts(calls []CallAccount) []Account {
	plain := make([]Account, len(calls))
	for i, a := range calls {
		plain[i] = a.Account
	}
	return plain
}

// WriteCallInjection writes a SIPp injection file for uac_call*.xml: a
// SEQUENTIAL header, then one "username;password;domain;extension" line
// per (caller, callee) pair, callers[i] calling callees[i].
func WriteCallInjection(path string, callers, callees []CallAccount) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	w.WriteString("SEQUENTIAL\n")
	for i, c := range callers {
		fmt.Fprintf(w, "%s;%s;%s;%s\n", c.Username, c.Password, c.Domain, callees[i].Extension)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
