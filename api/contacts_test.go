package api_test

import (
	"strings"
	"testing"
)

func TestContactsCRUD(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Bakkerij")
	base := "/api/v1/tenants/" + ten + "/contacts"
	c := e.must(201, "POST", base, tok, map[string]any{"name": "Molens Verhaeghe", "numbers": []string{"050 12 34 56", "+32 (0)470 12 34 56"}})
	if nums := c.obj["numbers"].([]any); len(nums) != 2 || nums[0] != "+3250123456" || nums[1] != "+32470123456" {
		t.Fatalf("numbers not in E.164: %s", c.raw)
	}
	id := c.str("id")
	// Every bad field at once.
	r := e.call("POST", base, tok, map[string]any{"name": "", "numbers": []string{"12", "+3250123456", "abc"}})
	isProblem(t, r, 422)
	for _, f := range []string{"name", "numbers[0]", "numbers[2]"} {
		if !strings.Contains(string(r.raw), `"field":"`+f+`"`) {
			t.Errorf("422 does not name %s: %s", f, r.raw)
		}
	}
	e.must(200, "PUT", base+"/"+id, tok, map[string]any{"name": "Molens Verhaeghe NV", "numbers": []string{"+3250999999"}})
	if g := e.must(200, "GET", base+"/"+id, tok, nil); g.str("name") != "Molens Verhaeghe NV" || !strings.Contains(string(g.raw), "+3250999999") || strings.Contains(string(g.raw), "+32470123456") {
		t.Fatalf("after update: %s", g.raw)
	}
	if l := e.must(200, "GET", base, tok, nil); len(l.arr) != 1 {
		t.Fatalf("list: %s", l.raw)
	}
	e.must(204, "DELETE", base+"/"+id, tok, nil)
	isProblem(t, e.call("GET", base+"/"+id, tok, nil), 404)
}

// TestContactImport: a good file imports every line and reports each; a
// file with bad lines imports nothing and names every bad line.
func TestContactImport(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Import")
	post := func(csv string) resp {
		return e.callWith("POST", "/api/v1/tenants/"+ten+"/contact_imports", strings.NewReader(csv),
			map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "text/csv"})
	}
	bad := "name,number,number\nGoed,050123456\n,050123457\nSlecht,12345,+32470123456\nOok goed,+3227770000\n"
	r := post(bad)
	isProblem(t, r, 422)
	for _, f := range []string{"line 3: name", "line 4: numbers[0]"} {
		if !strings.Contains(string(r.raw), `"field":"`+f+`"`) {
			t.Errorf("report does not name %q: %s", f, r.raw)
		}
	}
	if strings.Contains(string(r.raw), "line 2") || strings.Contains(string(r.raw), "line 5") {
		t.Errorf("good lines reported as bad: %s", r.raw)
	}
	if l := e.must(200, "GET", "/api/v1/tenants/"+ten+"/contacts", tok, nil); len(l.arr) != 0 {
		t.Fatalf("a rejected file imported %d contacts", len(l.arr))
	}
	good := "\ufeffname,number\nGoed,050123456\n\nOok goed,+3227770000,0470 12 34 56\n"
	r = post(good)
	if r.status != 201 || r.obj["imported"] != float64(2) {
		t.Fatalf("import: %d %s", r.status, r.raw)
	}
	lines := r.obj["lines"].([]any)
	if lines[0].(map[string]any)["line"] != float64(2) || lines[1].(map[string]any)["line"] != float64(4) {
		t.Fatalf("per-line report: %s", r.raw)
	}
	if l := e.must(200, "GET", "/api/v1/tenants/"+ten+"/contacts", tok, nil); len(l.arr) != 2 || !strings.Contains(string(l.raw), "+32470123456") {
		t.Fatalf("after import: %s", l.raw)
	}
	// Not CSV: 415; a CSV syntax error: 422 naming its line.
	r = e.callWith("POST", "/api/v1/tenants/"+ten+"/contact_imports", strings.NewReader("{}"),
		map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
	isProblem(t, r, 415)
	isProblem(t, post("A,050123456\n\"B,050\n"), 422)
}
