package api_test

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestHuntGroups(t *testing.T) {
	e := newEnv(t)
	a, atok := e.tenant("Alpha")
	b, btok := e.tenant("Bravo")
	u1 := e.fullUser(a, atok, "201")
	u2 := e.fullUser(a, atok, "202")
	lobby := e.lightUser(a, atok)
	bob := e.fullUser(b, btok, "201")
	base := "/api/v1/tenants/" + a + "/hunt_groups"
	valid := func() map[string]any {
		return map[string]any{"name": "Sales", "extension": "600", "strategy": "round_robin", "members": []string{u1, u2},
			"member_timeout": 15, "timeout": 60, "queue": map[string]any{"max_wait": 120, "music": "default", "announce_position": true},
			"overflow": map[string]any{"type": "voicemail", "id": u1}}
	}
	r := e.must(201, "POST", base, atok, valid())
	sales := r.str("id")
	if r.str("extension") != "600" || r.obj["member_timeout"] != float64(15) || r.obj["queue"].(map[string]any)["max_wait"] != float64(120) {
		t.Fatalf("created: %s", r.raw)
	}
	if m := r.obj["members"].([]any); len(m) != 2 || m[0] != u1 || m[1] != u2 {
		t.Fatalf("members: %s", r.raw)
	}

	// Every bad field at once.
	bad := map[string]any{"name": "", "extension": "6x", "strategy": "shout", "members": []string{u1, lobby, bob, u1},
		"member_timeout": 1, "timeout": 0, "queue": map[string]any{"max_wait": 5, "music": "Bad Class"},
		"overflow": map[string]any{"type": "user", "id": lobby}}
	r = e.call("POST", base, atok, bad)
	isProblem(t, r, 422)
	want := []string{"name", "extension", "strategy", "member_timeout", "timeout", "members[1]", "members[2]", "members[3]",
		"queue.max_wait", "queue.music", "overflow.id"}
	for _, f := range want {
		if !slices.Contains(r.fields(), f) {
			t.Errorf("no error for %s: %s", f, r.raw)
		}
	}
	if len(r.fields()) != len(want) {
		t.Errorf("fields %v, want %v", r.fields(), want)
	}
	// Extensions are shared between users and groups.
	g := valid()
	g["extension"] = "201"
	isProblem(t, e.call("POST", base, atok, g), 409)
	g["extension"] = "600"
	isProblem(t, e.call("POST", base, atok, g), 409)
	isProblem(t, e.call("POST", "/api/v1/tenants/"+a+"/users", atok, map[string]any{"first_name": "X", "last_name": "Y", "licence": "full", "extension": "600"}), 409)
	isProblem(t, e.call("PATCH", "/api/v1/tenants/"+a+"/users/"+u2, atok, map[string]any{"extension": "600"}), 409)
	// Another tenant may use the same extension.
	g["members"], g["overflow"] = []string{bob}, map[string]any{"type": "external", "number": "+3221234567"}
	e.must(201, "POST", "/api/v1/tenants/"+b+"/hunt_groups", btok, g)

	// A group without extension, overflowing to the first; a number to it.
	g = valid()
	delete(g, "extension")
	delete(g, "queue")
	g["strategy"], g["overflow"] = "ring_all", map[string]any{"type": "hunt_group", "id": sales}
	support := e.must(201, "POST", base, atok, g).str("id")
	isProblem(t, e.call("PATCH", base+"/"+support, atok, map[string]any{"overflow": map[string]any{"type": "hunt_group", "id": support}}), 422)
	num := e.must(201, "POST", "/api/v1/tenants/"+a+"/numbers", atok, map[string]any{"number": "021111111",
		"destination": map[string]any{"type": "hunt_group", "id": support}}).str("id")

	// PATCH: members, extension removed, queue removed.
	r = e.must(200, "PATCH", base+"/"+sales, atok, map[string]any{"members": []string{u2}, "extension": "", "no_queue": true, "strategy": "longest_idle"})
	if r.str("extension") != "" || r.obj["queue"] != nil || r.str("strategy") != "longest_idle" || len(r.obj["members"].([]any)) != 1 {
		t.Fatalf("patched: %s", r.raw)
	}
	isProblem(t, e.call("PATCH", base+"/"+sales, atok, map[string]any{"members": []string{lobby}}), 422)
	// The extension is free again for a user.
	e.must(201, "POST", "/api/v1/tenants/"+a+"/users", atok, map[string]any{"first_name": "X", "last_name": "Y", "licence": "full", "extension": "600"})

	// Routing state: round robin's last answer, longest idle's last call.
	ctx := context.Background()
	if err := e.st.HuntGroupAnswered(ctx, sales, u2); err != nil {
		t.Fatal(err)
	}
	if r := e.must(200, "GET", base+"/"+sales, atok, nil); r.str("last_answered_member") != u2 {
		t.Fatalf("last answered: %s", r.raw)
	}
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	if err := e.st.UserCallEnded(ctx, u1, at); err != nil {
		t.Fatal(err)
	}
	if err := e.st.UserCallEnded(ctx, u1, at.Add(-time.Hour)); err != nil { // a late report of an older call
		t.Fatal(err)
	}
	ended, err := e.st.UsersLastCallEnded(ctx, []string{u1, u2})
	if err != nil || !ended[u1].Equal(at) || !ended[u2].IsZero() {
		t.Fatalf("UsersLastCallEnded = %v, %v", ended, err)
	}

	// A group something leads to cannot be deleted.
	isProblem(t, e.call("DELETE", base+"/"+sales, atok, nil), 409)   // support overflows to it
	isProblem(t, e.call("DELETE", base+"/"+support, atok, nil), 409) // a number leads to it
	e.must(204, "DELETE", "/api/v1/tenants/"+a+"/numbers/"+num, atok, nil)
	e.must(204, "DELETE", base+"/"+support, atok, nil)
	e.must(204, "DELETE", base+"/"+sales, atok, nil)
	if r := e.must(200, "GET", base, atok, nil); len(r.arr) != 0 {
		t.Fatalf("left: %s", r.raw)
	}
}
