package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"pbx/rating"
	"pbx/store"
)

func TestRatesTable(t *testing.T) {
	e := newEnv(t)
	r := e.call("PUT", "/api/v1/rates", e.admin, []map[string]any{
		{"prefix": "32", "name": "Belgium", "per_minute": "0.0333"},
		{"prefix": "+32", "name": "", "per_minute": "-1"},
		{"prefix": "+0044", "name": "UK", "per_minute": "0.2", "setup": "1,5"},
	})
	isProblem(t, r, 422)
	want := []string{"[1].prefix", "[1].name", "[1].per_minute", "[2].prefix", "[2].setup"}
	if got := r.fields(); !slices.Equal(got, want) {
		t.Fatalf("fields %v, want %v", got, want)
	}
	_, token := e.tenant("Acme")
	isProblem(t, e.call("PUT", "/api/v1/rates", token, []map[string]any{}), 403)
	r = e.must(200, "PUT", "/api/v1/rates", e.admin, []map[string]any{
		{"prefix": "+32", "name": "Belgium", "per_minute": "0.0333"},
		{"prefix": "+3247", "name": "Mobile", "per_minute": "0.12", "setup": "0.05"},
	})
	got := e.must(200, "GET", "/api/v1/rates", e.admin, nil)
	if string(r.raw) != string(got.raw) || len(got.arr) != 2 {
		t.Fatalf("PUT answered %s, GET %s", r.raw, got.raw)
	}
	m := got.arr[1].(map[string]any)
	if m["prefix"] != "+3247" || m["per_minute"] != "0.12" || m["setup"] != "0.05" {
		t.Fatalf("rate %v", m)
	}
}

func TestCreditLimitsAPI(t *testing.T) {
	e := newEnv(t)
	ten, token := e.tenant("Acme")
	u := e.fullUser(ten, token, "201")
	base := "/api/v1/tenants/" + ten
	r := e.must(200, "GET", base+"/credit", token, nil)
	if r.obj["limit"] != "100.00" || r.obj["default"] != true || r.obj["spent_cents"] != 0.0 {
		t.Fatalf("default credit %s", r.raw)
	}
	// Only the platform sets a tenant's credit line.
	isProblem(t, e.call("PUT", base+"/credit", token, map[string]any{"limit": "1000"}), 403)
	r = e.call("PUT", base+"/credit", e.admin, map[string]any{"limit": "12.345", "users": []map[string]any{{"user_id": "usr_nope", "limit": "x"}, {"user_id": u, "limit": "5"}}})
	isProblem(t, r, 422)
	if got := r.fields(); !slices.Equal(got, []string{"limit", "users[0].user_id", "users[0].limit"}) {
		t.Fatalf("fields %v", got)
	}
	r = e.must(200, "PUT", base+"/credit", e.admin, map[string]any{"limit": "50", "auto_restrict": true, "users": []map[string]any{{"user_id": u, "limit": "5.50"}}})
	if r.obj["limit_cents"] != 5000.0 || r.obj["auto_restrict"] != true || r.obj["default"] != false {
		t.Fatalf("credit %s", r.raw)
	}
	users := r.obj["users"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["limit_cents"] != 550.0 {
		t.Fatalf("users %s", r.raw)
	}
}

// seedCalls writes priced calls of a tenant in November 2026 (Brussels).
func seedCalls(t *testing.T, st *store.Store, tenantID, userID string, n int) (total int64) {
	t.Helper()
	m, _ := rating.ParseMonth("2026-11")
	var cdrs []store.CDR
	var prices []store.CDRPrice
	rate := rating.Rate{PerMinute: 33_300}
	for i := range n {
		start := m.Start().Add(time.Duration(i) * time.Minute)
		id := fmt.Sprintf("cdr_%s_%05d", tenantID, i)
		number := fmt.Sprintf("+32470%06d", i%7)
		c := store.CDR{ID: id, TenantID: tenantID, CallID: id, Caller: "201", Callee: number, Start: start, Answer: start, End: start.Add(time.Duration(i%90) * time.Second),
			BillableSeconds: i % 90, Disposition: "answered", Origin: "device"}
		cdrs = append(cdrs, c)
		if i%5 == 4 {
			continue // internal
		}
		cents := rate.Price(c.BillableSeconds)
		total += int64(cents)
		prices = append(prices, store.CDRPrice{CDRID: id, TenantID: tenantID, UserID: userID, Number: number, Class: "mobile", Seconds: c.BillableSeconds, Cents: int64(cents), Start: start})
	}
	if err := st.ImportCDRs(context.Background(), cdrs, prices); err != nil {
		t.Fatal(err)
	}
	return total
}

func TestUsageFairUseAPI(t *testing.T) {
	e := newEnv(t)
	ten, token := e.tenant("Acme")
	u := e.fullUser(ten, token, "201")
	total := seedCalls(t, e.st, ten, u, 300)
	base := "/api/v1/tenants/" + ten
	r := e.must(200, "GET", base+"/usage?month=2026-11", token, nil)
	tot := r.obj["total"].(map[string]any)
	if tot["cost_cents"] != float64(total) || tot["calls"] != 240.0 || tot["cost"] != rating.Cents(total).String() {
		t.Fatalf("usage %s, want %d cents", r.raw, total)
	}
	mobile := r.obj["by_class"].(map[string]any)["mobile"].(map[string]any)
	if mobile["cost_cents"] != float64(total) || len(r.obj["by_class"].(map[string]any)) != 4 {
		t.Fatalf("by class %s", r.raw)
	}
	if by := r.obj["by_user"].([]any); len(by) != 1 || by[0].(map[string]any)["user_id"] != u {
		t.Fatalf("by user %s", r.raw)
	}
	r = e.must(200, "GET", base+"/usage?month=2026-10", token, nil)
	if r.obj["total"].(map[string]any)["calls"] != 0.0 {
		t.Fatalf("October %s", r.raw)
	}
	isProblem(t, e.call("GET", base+"/usage?month=2026-13", token, nil), 422)
	r = e.call("GET", base+"/fair_use?month=nov&max_hours=0&long_call_repeats=x", token, nil)
	isProblem(t, r, 422)
	if got := r.fields(); !slices.Equal(got, []string{"month", "max_hours", "long_call_repeats"}) {
		t.Fatalf("fields %v", got)
	}
	r = e.must(200, "GET", base+"/fair_use?month=2026-11&max_numbers=5", token, nil)
	rows := r.obj["rows"].([]any)
	if len(rows) != 1 {
		t.Fatalf("rows %s", r.raw)
	}
	row := rows[0].(map[string]any)
	if row["distinct_numbers"] != 7.0 || row["flagged"] != true || fmt.Sprint(row["flags"]) != "[distinct_numbers]" {
		t.Fatalf("row %s", r.raw)
	}
}

func TestCDRExport(t *testing.T) {
	e := newEnv(t)
	ten, token := e.tenant("Acme")
	u := e.fullUser(ten, token, "201")
	other, otherToken := e.tenant("Other")
	seedCalls(t, e.st, ten, u, 2500) // more than a page of the export
	seedCalls(t, e.st, other, "", 10)
	base := "/api/v1/tenants/" + ten + "/cdrs?from=2026-11-01&to=2026-12-01"
	get := func(path, accept string) resp {
		if accept == "application/json" {
			return e.must(200, "GET", path, token, nil)
		}
		// Read as is: the helper would decode JSON lines as one value.
		req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", accept)
		res, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: %d %s %v", path, res.StatusCode, raw, err)
		}
		return resp{status: res.StatusCode, header: res.Header, raw: raw}
	}
	// JSON lines: every record once, oldest first, priced ones with a price.
	r := get(base, "application/x-ndjson")
	if ct := r.header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Fatalf("content type %q", ct)
	}
	var ids []string
	priced := 0
	sc := bufio.NewScanner(bytes.NewReader(r.raw))
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		ids = append(ids, row["id"].(string))
		if _, ok := row["price_cents"]; ok {
			priced++
		}
	}
	if len(ids) != 2500 || !slices.IsSorted(ids) || priced != 2000 || ids[0] != fmt.Sprintf("cdr_%s_%05d", ten, 0) {
		t.Fatalf("%d lines, %d priced, sorted %v", len(ids), priced, slices.IsSorted(ids))
	}
	// CSV: a header and the same records.
	r = get(base, "text/csv")
	recs, err := csv.NewReader(bytes.NewReader(r.raw)).ReadAll()
	if err != nil || len(recs) != 2501 || recs[0][0] != "id" || recs[0][13] != "price_cents" || recs[2500][0] != ids[2499] {
		t.Fatalf("csv: %d rows, %v", len(recs), err)
	}
	// A JSON array, paged by the client: limit and after.
	var got []string
	after := ""
	for {
		r = get(base+"&limit=1000"+after, "application/json")
		if len(r.arr) == 0 {
			break
		}
		for _, x := range r.arr {
			got = append(got, x.(map[string]any)["id"].(string))
		}
		after = "&after=" + got[len(got)-1]
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("paged export: %d records", len(got))
	}
	// A narrower period.
	r = get("/api/v1/tenants/"+ten+"/cdrs?from=2026-11-01T00:10:00%2B01:00&to=2026-11-01T00:20:00%2B01:00", "application/x-ndjson")
	if n := bytes.Count(r.raw, []byte("\n")); n != 10 {
		t.Fatalf("10 minutes hold %d records", n)
	}
	// Bad input, every field at once; another tenant's cursor is unknown.
	bad := e.callWith("GET", "/api/v1/tenants/"+ten+"/cdrs?from=yesterday&to=2026-13-01&limit=0&after="+fmt.Sprintf("cdr_%s_%05d", other, 1), nil,
		map[string]string{"Authorization": "Bearer " + token, "Accept": "text/csv"})
	isProblem(t, bad, 422)
	if f := bad.fields(); !slices.Equal(f, []string{"from", "to", "limit", "after"}) {
		t.Fatalf("fields %v", f)
	}
	// Without from/to the list is as before: the newest 100, JSON.
	r = e.must(200, "GET", "/api/v1/tenants/"+ten+"/cdrs", token, nil)
	if len(r.arr) != 100 || r.arr[0].(map[string]any)["id"] != ids[2499] {
		t.Fatalf("newest list: %d", len(r.arr))
	}
	_ = otherToken
}

func TestFraudBlocksAPI(t *testing.T) {
	e := newEnv(t)
	ten, token := e.tenant("Acme")
	u := e.fullUser(ten, token, "201")
	base := "/api/v1/tenants/" + ten
	isProblem(t, e.call("DELETE", base+"/fraud_block", token, nil), 404)
	ctx := context.Background()
	at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	for _, userID := range []string{"", u} {
		if _, err := e.st.BlockFraud(ctx, store.FraudBlock{TenantID: ten, UserID: userID, Reason: "burst", At: at}); err != nil {
			t.Fatal(err)
		}
	}
	r := e.must(200, "GET", base+"/fraud_blocks", token, nil)
	if len(r.arr) != 2 || r.arr[1].(map[string]any)["user_id"] != u {
		t.Fatalf("blocks %s", r.raw)
	}
	e.must(204, "DELETE", base+"/users/"+u+"/fraud_block", token, nil)
	e.must(204, "DELETE", base+"/fraud_block", token, nil)
	if r := e.must(200, "GET", base+"/fraud_blocks", token, nil); len(r.arr) != 0 {
		t.Fatalf("blocks after lifting %s", r.raw)
	}
}
