package api_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"pbx/store"
)

// TestCampaignCreate: bad input is one 422 naming every bad field; a good
// campaign is a draft with its settings and empty progress.
func TestCampaignCreate(t *testing.T) {
	e := newEnv(t)
	f := e.fixture("Camp", "401")
	base := "/api/v1/tenants/" + f.tenant + "/campaigns"
	r := e.call("POST", base, f.token, map[string]any{"name": "", "mode": "agents", "hunt_group": "nope", "caller_id": "+3250999999",
		"window":         map[string]any{"time_zone": "Mars/Olympus", "hours": []map[string]any{{"days": []string{"mon", "xyz"}, "from": "17:00", "to": "09:00"}}},
		"max_concurrent": 0, "calls_per_minute": 1000, "max_attempts": 0, "retry_after": 1})
	isProblem(t, r, 422)
	for _, want := range []string{"name", "hunt_group", "caller_id", "window.time_zone", "window.hours[0].days", "window.hours[0].to",
		"max_concurrent", "calls_per_minute", "max_attempts", "retry_after"} {
		if !slices.Contains(r.fields(), want) {
			t.Errorf("422 does not name %s: %v", want, r.fields())
		}
	}
	c := e.must(201, "POST", base, f.token, campaignBody(f.audio, "+3250401111"))
	if c.str("state") != store.CampaignDraft || c.str("caller_id") != "+3250401111" || c.obj["ring_timeout"].(float64) != 30 {
		t.Fatalf("created: %s", c.raw)
	}
	got := e.must(200, "GET", base+"/"+c.str("id"), f.token, nil)
	if p := got.obj["progress"].(map[string]any); p["total"].(float64) != 0 {
		t.Fatalf("progress: %s", got.raw)
	}
	if l := e.must(200, "GET", base, f.token, nil); len(l.arr) != 2 { // the fixture's and this one
		t.Fatalf("list: %s", l.raw)
	}
	// Without a scheduler the actions say so, after the campaign is found.
	isProblem(t, e.call("POST", base+"/"+c.str("id")+"/start", f.token, nil), 503)
	isProblem(t, e.call("POST", base+"/cmp_nope/start", f.token, nil), 404)
}

// TestCampaignContactsUpload: bad numbers, duplicates (in the file and
// with the campaign) and do-not-call hits are reported line by line and
// nothing is added; a good file adds every contact with its fields.
func TestCampaignContactsUpload(t *testing.T) {
	e := newEnv(t)
	f := e.fixture("Up", "402")
	ctx := context.Background()
	base := "/api/v1/tenants/" + f.tenant + "/campaigns"
	id := e.must(201, "POST", base, f.token, campaignBody(f.audio, "+3250402111")).str("id")
	post := func(csv string) resp {
		return e.callWith("POST", base+"/"+id+"/contacts", strings.NewReader(csv),
			map[string]string{"Authorization": "Bearer " + f.token, "Content-Type": "text/csv"})
	}
	if err := e.st.ReplacePlatformDNC(ctx, []string{"+3250777777"}, e.now); err != nil {
		t.Fatal(err)
	}
	e.must(201, "POST", "/api/v1/tenants/"+f.tenant+"/do_not_call", f.token, map[string]any{"number": "050 88 88 88"})
	bad := "number,name,customer\n" +
		"050 12 34 56,Jan,C1\n" + // 2 good
		"12345,Bad,C2\n" + // 3 not a number
		"+3250123456,Dup,C3\n" + // 4 duplicate of line 2
		"050/77.77.77,Reg,C4\n" + // 5 on the platform's list
		"0032 50 88 88 88,Own,C5\n" + // 6 on the tenant's list
		"1207,Short,C6\n" + // 7 a short number
		"0470 12 34 56,Piet,C7\n" // 8 good
	r := post(bad)
	isProblem(t, r, 422)
	want := []string{"line 3: number", "line 4: number", "line 5: number", "line 6: number", "line 7: number"}
	if !slices.Equal(r.fields(), want) {
		t.Fatalf("report %v, want %v: %s", r.fields(), want, r.raw)
	}
	for _, s := range []string{"duplicates line 2", "platform do-not-call", "tenant do-not-call"} {
		if !strings.Contains(string(r.raw), s) {
			t.Errorf("report does not say %q: %s", s, r.raw)
		}
	}
	if cs, _ := e.st.CampaignContacts(ctx, id); len(cs) != 0 {
		t.Fatalf("a rejected file added %d contacts", len(cs))
	}
	good := "number,name,customer\n050 12 34 56,Jan,C1\n\n0470 12 34 56,Piet,C7\n"
	if r := post(good); r.status != 201 || r.obj["added"].(float64) != 2 {
		t.Fatalf("good file: %d %s", r.status, r.raw)
	}
	cs, err := e.st.CampaignContacts(ctx, id)
	if err != nil || len(cs) != 2 || cs[0].Number != "+3250123456" || cs[0].Name != "Jan" || cs[0].Fields != `{"customer":"C1"}` {
		t.Fatalf("contacts: %+v %v", cs, err)
	}
	r = post("0470123456\n")
	isProblem(t, r, 422)
	if !strings.Contains(string(r.raw), "already in the campaign") {
		t.Fatalf("re-upload: %s", r.raw)
	}
	res := e.callWith("GET", base+"/"+id+"/results", nil, map[string]string{"Authorization": "Bearer " + f.token})
	if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") ||
		string(res.raw) != "number,name,status,attempts,last_attempt,duration,agent\n+3250123456,Jan,pending,0,,0,\n+32470123456,Piet,pending,0,,0,\n" {
		t.Fatalf("results: %d %q", res.status, res.raw)
	}
}

// TestDoNotCallLists: a tenant adds and removes its own numbers; only an
// admin replaces the platform's list, from a file of numbers in national
// or E.164 form with comments, all or nothing.
func TestDoNotCallLists(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Dnc")
	ctx := context.Background()
	base := "/api/v1/tenants/" + ten + "/do_not_call"
	isProblem(t, e.call("POST", base, tok, map[string]any{"number": "12"}), 422)
	if r := e.must(201, "POST", base, tok, map[string]any{"number": "0470 12 34 56"}); r.str("number") != "+32470123456" {
		t.Fatalf("added: %s", r.raw)
	}
	if l, _ := e.st.DoNotCall(ctx, ten, "+32470123456"); l != "tenant" {
		t.Fatalf("list: %q", l)
	}
	e.must(204, "DELETE", base+"/+32470123456", tok, nil)
	isProblem(t, e.call("DELETE", base+"/+32470123456", tok, nil), 404)

	put := func(token, body string) resp {
		return e.callWith("PUT", "/api/v1/do_not_call", strings.NewReader(body),
			map[string]string{"Authorization": "Bearer " + token, "Content-Type": "text/plain"})
	}
	file := "# Bel-me-niet-meer, 2026-03-01\nnumber\n050 12 34 56\n+32470123456\n\n0032 2 555 55 55\n"
	isProblem(t, put(tok, file), 403)
	r := put(e.admin, file+"not a number\n")
	isProblem(t, r, 422)
	if !slices.Equal(r.fields(), []string{"line 7"}) {
		t.Fatalf("bad line: %s", r.raw)
	}
	if l, _ := e.st.DoNotCall(ctx, ten, "+3250123456"); l != "" {
		t.Fatal("a rejected file replaced the list")
	}
	if r := put(e.admin, file); r.status != 200 || r.obj["numbers"].(float64) != 3 {
		t.Fatalf("import: %d %s", r.status, r.raw)
	}
	for _, n := range []string{"+3250123456", "+32470123456", "+3225555555"} {
		if l, _ := e.st.DoNotCall(ctx, ten, n); l != "platform" {
			t.Errorf("%s: %q", n, l)
		}
	}
}
