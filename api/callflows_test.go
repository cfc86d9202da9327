package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pbx/features/callflow"
	"pbx/store"
)

// officeFlow opens on weekdays 08:00-17:00 (Belgian holidays closed),
// plays a welcome, offers 1 for the group and 2 for an external number.
func officeFlow(name, group, user, audio string) map[string]any {
	return map[string]any{
		"name": name, "start": "hours",
		"nodes": map[string]any{
			"hours": map[string]any{"type": "schedule", "holidays": "BE",
				"hours": []map[string]any{{"days": []string{"mon", "tue", "wed", "thu", "fri"}, "from": "08:00", "to": "17:00"}},
				"open":  "welcome", "closed": "vm"},
			"welcome": map[string]any{"type": "play", "audio": audio, "next": "menu"},
			"menu": map[string]any{"type": "menu", "prompt": audio, "options": map[string]any{"1": "sales", "2": "partner"},
				"timeout": 5, "retries": 1, "invalid": "operator"},
			"sales":    map[string]any{"type": "hunt_group", "id": group},
			"partner":  map[string]any{"type": "external", "number": "+3221234567"},
			"operator": map[string]any{"type": "user", "id": user},
			"vm":       map[string]any{"type": "voicemail", "id": user},
		},
	}
}

// flowTenant is a tenant with two users, a light licence, a hunt group and
// an audio.
type flowTenant struct {
	id, token, user, light, group, audio string
}

func (e *env) flowTenant(name, ext string) flowTenant {
	e.t.Helper()
	var f flowTenant
	f.id, f.token = e.tenant(name)
	f.user = e.fullUser(f.id, f.token, ext)
	f.light = e.lightUser(f.id, f.token)
	f.group = e.must(201, "POST", "/api/v1/tenants/"+f.id+"/hunt_groups", f.token, map[string]any{"name": "Sales", "strategy": "ring_all",
		"members": []string{f.user}, "member_timeout": 10, "timeout": 30, "overflow": map[string]any{"type": "voicemail", "id": f.user}}).str("id")
	a, err := e.st.CreateAudio(context.Background(), store.Audio{TenantID: f.id, Name: "welcome.wav", Duration: time.Second, Size: 16044})
	if err != nil {
		e.t.Fatal(err)
	}
	f.audio = a.ID
	return f
}

func TestCallFlowValidation(t *testing.T) {
	e := newEnv(t)
	a := e.flowTenant("Alpha", "201")
	b := e.flowTenant("Bravo", "301")
	base := "/api/v1/tenants/" + a.id + "/call_flows"

	bad := officeFlow("", b.group, a.light, "aud_nope")
	nodes := bad["nodes"].(map[string]any)
	nodes["vm"] = map[string]any{"type": "voicemail", "id": b.user}
	nodes["partner"] = map[string]any{"type": "external", "number": "12ab"}
	nodes["loop1"] = map[string]any{"type": "play", "audio": a.audio, "next": "ghost"}
	nodes["hours"].(map[string]any)["hours"] = []map[string]any{{"days": []string{"mon", "someday"}, "from": "18:00", "to": "08:00"}}
	r := e.call("POST", base, a.token, bad)
	isProblem(t, r, 422)
	want := []string{"name", "nodes.hours.hours[0].days", "nodes.hours.hours[0].to", "nodes.welcome.audio", "nodes.menu.prompt",
		"nodes.sales.id", "nodes.partner.number", "nodes.operator.id", "nodes.vm.id", "nodes.loop1.next"}
	got := r.fields()
	for _, f := range want {
		if !slices.Contains(got, f) {
			t.Errorf("no problem for %s", f)
		}
	}
	if len(got) != len(want) {
		t.Errorf("fields %v, want %v", got, want)
	}
	// Each problem names its node.
	for _, x := range r.obj["errors"].([]any) {
		p := x.(map[string]any)
		if f := p["field"].(string); strings.HasPrefix(f, "nodes.") && !strings.HasPrefix(f, "nodes."+fmt.Sprint(p["node"])+".") {
			t.Errorf("problem %v does not name its node", p)
		}
	}
	if !strings.Contains(string(r.raw), "light licence") {
		t.Errorf("light licence not explained: %s", r.raw)
	}

	// Unreachable nodes and silent loops.
	ok := officeFlow("Office", a.group, a.user, a.audio)
	ok["nodes"].(map[string]any)["lonely"] = map[string]any{"type": "hangup"}
	r = e.call("POST", base, a.token, ok)
	isProblem(t, r, 422)
	if !slices.Equal(r.fields(), []string{"nodes.lonely.type"}) {
		t.Errorf("unreachable: %s", r.raw)
	}
	loop := map[string]any{"name": "Loop", "start": "p1", "nodes": map[string]any{
		"p1": map[string]any{"type": "play", "audio": a.audio, "next": "p2"},
		"p2": map[string]any{"type": "play", "audio": a.audio, "next": "p1"}}}
	r = e.call("POST", base, a.token, loop)
	isProblem(t, r, 422)
	if !strings.Contains(string(r.raw), "never waits") {
		t.Errorf("silent loop: %s", r.raw)
	}
	// A typing mistake is a 400 naming the field, not an ignored setting.
	r = e.call("POST", base, a.token, map[string]any{"name": "x", "start": "a", "nodes": map[string]any{"a": map[string]any{"type": "hangup", "colour": "red"}}})
	isProblem(t, r, 400)
	if r.str("field") != "colour" {
		t.Errorf("unknown field: %s", r.raw)
	}
	if r := e.must(200, "GET", base, a.token, nil); len(r.arr) != 0 {
		t.Fatalf("refused flows were stored: %s", r.raw)
	}
}

func TestCallFlowVersionsRestoreDryRun(t *testing.T) {
	e := newEnv(t)
	a := e.flowTenant("Alpha", "201")
	ctx := context.Background()
	base := "/api/v1/tenants/" + a.id + "/call_flows"

	r := e.must(201, "POST", base, a.token, officeFlow("Office", a.group, a.user, a.audio))
	id := r.str("id")
	if r.obj["version"] != float64(1) || r.header.Get("Location") != base+"/"+id {
		t.Fatalf("created: %s", r.raw)
	}
	v1, err := e.st.CallFlow(ctx, a.id, id)
	if err != nil || v1.Version != 1 {
		t.Fatalf("CallFlow: %+v, %v", v1, err)
	}

	// A new version: option 1 now reaches the operator.
	f2 := officeFlow("Office v2", a.group, a.user, a.audio)
	f2["nodes"].(map[string]any)["menu"].(map[string]any)["options"] = map[string]any{"1": "operator", "2": "partner"}
	delete(f2["nodes"].(map[string]any), "sales")
	r = e.must(200, "PUT", base+"/"+id, a.token, f2)
	if r.obj["version"] != float64(2) || r.str("name") != "Office v2" {
		t.Fatalf("published: %s", r.raw)
	}
	// A call that started on version 1 still reads version 1.
	old, err := e.st.CallFlowVersion(ctx, a.id, id, 1)
	if err != nil || old.Version != 1 || !strings.Contains(string(old.Graph), a.group) {
		t.Fatalf("version 1: %+v, %v", old, err)
	}
	cur := e.must(200, "GET", base+"/"+id, a.token, nil)
	if cur.obj["version"] != float64(2) || strings.Contains(string(cur.raw), a.group) {
		t.Fatalf("current: %s", cur.raw)
	}
	// A refused version publishes nothing.
	isProblem(t, e.call("PUT", base+"/"+id, a.token, officeFlow("Bad", "hg_nope", a.user, a.audio)), 422)

	dry := func(at, digits string) (string, map[string]any) {
		t.Helper()
		r := e.must(200, "POST", base+"/"+id+"/dry_run", a.token, map[string]any{"at": at, "digits": digits})
		var path []string
		for _, p := range r.obj["path"].([]any) {
			path = append(path, p.(string))
		}
		return strings.Join(path, " "), r.obj["destination"].(map[string]any)
	}
	if p, d := dry("2026-12-02T09:00:00+01:00", "1"); p != "hours welcome menu operator" || d["type"] != "user" || d["id"] != a.user {
		t.Fatalf("open, 1: %s %v", p, d)
	}
	if p, d := dry("2026-12-02T09:00:00+01:00", "2"); p != "hours welcome menu partner" || d["number"] != "+3221234567" {
		t.Fatalf("open, 2: %s %v", p, d)
	}
	if p, d := dry("2026-12-02T19:00:00+01:00", ""); p != "hours vm" || d["type"] != "voicemail" {
		t.Fatalf("closed: %s %v", p, d)
	}
	if p, _ := dry("2026-12-25T10:00:00+01:00", "1"); p != "hours vm" {
		t.Fatalf("Christmas: %s", p)
	}
	// The tenant's time zone: 09:00 in Brussels is 03:00 in New York.
	e.must(200, "PATCH", "/api/v1/tenants/"+a.id, a.token, map[string]any{"timezone": "America/New_York"})
	if p, _ := dry("2026-12-02T09:00:00+01:00", "1"); p != "hours vm" {
		t.Fatalf("New York at 03:00: %s", p)
	}
	isProblem(t, e.call("PATCH", "/api/v1/tenants/"+a.id, a.token, map[string]any{"timezone": "Mars/Olympus"}), 422)
	r = e.call("POST", base+"/"+id+"/dry_run", a.token, map[string]any{"at": "tomorrow", "digits": "1a"})
	isProblem(t, r, 422)
	if !slices.Equal(r.fields(), []string{"at", "digits"}) {
		t.Fatalf("dry run fields %v", r.fields())
	}

	// Restore version 1 as version 3.
	r = e.must(200, "POST", base+"/"+id+"/restore", a.token, map[string]any{"version": 1})
	if r.obj["version"] != float64(3) || r.str("name") != "Office" || !strings.Contains(string(r.raw), a.group) {
		t.Fatalf("restored: %s", r.raw)
	}
	isProblem(t, e.call("POST", base+"/"+id+"/restore", a.token, map[string]any{"version": 9}), 422)
	r = e.must(200, "GET", base+"/"+id+"/versions", a.token, nil)
	if len(r.arr) != 3 || r.arr[2].(map[string]any)["version"] != float64(3) {
		t.Fatalf("versions: %s", r.raw)
	}

	// What the current version uses cannot be deleted; a restore of a
	// version whose audio is gone is refused.
	if err := e.st.DeleteAudio(ctx, a.id, a.audio); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("DeleteAudio of a used audio: %v", err)
	}
	isProblem(t, e.call("DELETE", "/api/v1/tenants/"+a.id+"/hunt_groups/"+a.group, a.token, nil), 409)

	// A number leads to the flow: it cannot be deleted.
	num := e.must(201, "POST", "/api/v1/tenants/"+a.id+"/numbers", a.token, map[string]any{"number": "021234500",
		"destination": map[string]any{"type": "call_flow", "id": id}}).str("id")
	isProblem(t, e.call("DELETE", base+"/"+id, a.token, nil), 409)
	e.must(204, "DELETE", "/api/v1/tenants/"+a.id+"/numbers/"+num, a.token, nil)
	e.must(204, "DELETE", base+"/"+id, a.token, nil)
	isProblem(t, e.call("GET", base+"/"+id+"/versions", a.token, nil), 404)
	if err := e.st.DeleteAudio(ctx, a.id, a.audio); err != nil {
		t.Fatalf("DeleteAudio once unused: %v", err)
	}
}

// TestCallFlowConcurrentPublish: simultaneous writers each get a version of
// their own, and a reader always sees a whole graph of some version.
func TestCallFlowConcurrentPublish(t *testing.T) {
	e := newEnv(t)
	a := e.flowTenant("Alpha", "201")
	base := "/api/v1/tenants/" + a.id + "/call_flows"
	id := e.must(201, "POST", base, a.token, officeFlow("v1", a.group, a.user, a.audio)).str("id")
	const writers = 8
	var wg sync.WaitGroup
	versions := make(chan float64, writers)
	errs := make(chan string, writers*20)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.call("PUT", base+"/"+id, a.token, officeFlow(fmt.Sprintf("w%d", i), a.group, a.user, a.audio))
			if r.status != 200 {
				errs <- string(r.raw)
				return
			}
			versions <- r.obj["version"].(float64)
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := e.st.CallFlow(context.Background(), a.id, id)
			if err != nil {
				errs <- err.Error()
				return
			}
			var g callflow.Graph
			if err := json.Unmarshal(f.Graph, &g); err != nil || g.Name != f.Name {
				errs <- fmt.Sprintf("version %d: graph %q, name %q, %v", f.Version, g.Name, f.Name, err)
			}
		}()
	}
	wg.Wait()
	close(versions)
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	var got []int
	for v := range versions {
		got = append(got, int(v))
	}
	slices.Sort(got)
	for i, v := range got {
		if v != i+2 {
			t.Fatalf("versions %v, want 2..%d once each", got, writers+1)
		}
	}
}
