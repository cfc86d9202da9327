package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"pbx/features/callflow"
	"pbx/store"
)

type callFlowJSON struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Version   int            `json:"version" doc:"the current version; calls already in the flow finish on the version they started with"`
	Graph     callflow.Graph `json:"graph"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at" doc:"when the current version was published"`
}

type callFlowSummaryJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

type callFlowVersionJSON struct {
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
}

type restoreRequest struct {
	Version int `json:"version" doc:"the version to publish again (as a new version)"`
}

type dryRunRequest struct {
	At     string `json:"at" format:"date-time" doc:"RFC 3339 time of the imagined call"`
	Digits string `json:"digits,omitempty" doc:"keys the caller presses, one per menu in order (0-9, *, #); a menu finding none left times out"`
}

// flowEndJSON is where a dry run ends.
type flowEndJSON struct {
	Type   string `json:"type" enum:"user,hunt_group,voicemail,external,hangup"`
	ID     string `json:"id,omitempty"`
	Number string `json:"number,omitempty"`
}

type dryRunJSON struct {
	Path        []string    `json:"path" doc:"node names in the order the call goes through them"`
	Destination flowEndJSON `json:"destination"`
}

func toCallFlowJSON(f store.CallFlow) (callFlowJSON, error) {
	g, err := callflow.Parse(f.Graph)
	if err != nil {
		return callFlowJSON{}, fmt.Errorf("stored flow %s v%d: %w", f.ID, f.Version, err)
	}
	return callFlowJSON{ID: f.ID, Name: f.Name, Version: f.Version, Graph: g, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt}, nil
}

// flowDirectory answers callflow.Validate about one tenant from the store.
// Voicemail boxes do not exist yet: a box is named by its owner, a full
// licence (the user's own box). A store failure is kept apart so that it
// answers 500, not a validation problem.
type flowDirectory struct {
	c   *call
	err error
}

func (d *flowDirectory) lookup(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return callflow.ErrNotFound
	}
	if err != nil && d.err == nil {
		d.err = err
	}
	return err
}

func (d *flowDirectory) User(ctx context.Context, id string) error {
	u, err := d.c.s.store.User(ctx, d.c.tenant.ID, id)
	if err != nil {
		return d.lookup(err)
	}
	if u.Licence != store.LicenceFull {
		return callflow.ErrLight
	}
	return nil
}

func (d *flowDirectory) Voicemail(ctx context.Context, id string) error { return d.User(ctx, id) }

func (d *flowDirectory) HuntGroup(ctx context.Context, id string) error {
	_, err := d.c.s.store.HuntGroup(ctx, d.c.tenant.ID, id)
	return d.lookup(err)
}

func (d *flowDirectory) Audio(ctx context.Context, id string) error {
	_, err := d.c.s.store.Audio(ctx, d.c.tenant.ID, id)
	return d.lookup(err)
}

// checkFlow validates g against the tenant and returns it in the store's
// form with what it refers to; every problem is one entry of a 422.
func (c *call) checkFlow(g callflow.Graph) ([]byte, []store.FlowRef, error) {
	dir := &flowDirectory{c: c}
	err := callflow.Validate(c.ctx(), g, dir)
	if dir.err != nil {
		return nil, nil, dir.err
	}
	var ps callflow.Problems
	if errors.As(err, &ps) {
		fe := make(fieldErrors, 0, len(ps))
		for _, p := range ps {
			fe = append(fe, fieldError{Field: p.Field, Node: p.Node, Detail: p.Detail})
		}
		return nil, nil, fe.err()
	}
	if err != nil {
		return nil, nil, err
	}
	raw, err := json.Marshal(g)
	if err != nil {
		return nil, nil, err
	}
	return raw, flowRefs(g), nil
}

// flowRefs lists what a valid graph leads to or plays.
func flowRefs(g callflow.Graph) []store.FlowRef {
	var refs []store.FlowRef
	add := func(kind, id string) {
		r := store.FlowRef{Kind: kind, ID: id}
		if id != "" && !slices.Contains(refs, r) {
			refs = append(refs, r)
		}
	}
	for _, n := range g.Nodes {
		switch n.Type {
		case callflow.TypeUser:
			add(store.DestUser, n.ID)
		case callflow.TypeVoicemail:
			add(store.DestVoicemail, n.ID)
		case callflow.TypeHuntGroup:
			add(store.DestHuntGroup, n.ID)
		case callflow.TypePlay:
			add(store.RefAudio, n.Audio)
		case callflow.TypeMenu:
			add(store.RefAudio, n.Prompt)
		}
	}
	slices.SortFunc(refs, func(a, b store.FlowRef) int {
		return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.ID, b.ID))
	})
	return refs
}

// flowStoreError: something the flow refers to vanished between its
// validation and its publication.
func flowStoreError(err error) error {
	if errors.Is(err, store.ErrNotFound) && err != store.ErrNotFound {
		return invalid("nodes", "%v (deleted meanwhile)", err)
	}
	return err
}

func (s *server) createCallFlow(c *call) error {
	var g callflow.Graph
	if err := c.decode(&g); err != nil {
		return err
	}
	raw, refs, err := c.checkFlow(g)
	if err != nil {
		return err
	}
	f, err := s.store.CreateCallFlow(c.ctx(), c.tenant.ID, g.Name, raw, refs)
	if err != nil {
		return flowStoreError(err)
	}
	j, err := toCallFlowJSON(f)
	if err != nil {
		return err
	}
	return c.created(v1+"/tenants/"+c.tenant.ID+"/call_flows/"+f.ID, j)
}

func (c *call) callFlow() (store.CallFlow, error) {
	id := c.path("call_flow")
	f, err := c.s.store.CallFlow(c.ctx(), c.tenant.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return f, notFound("call flow %q not found", id)
	}
	return f, err
}

// publish makes g the flow's new version and answers with it.
func (c *call) publish(id string, g callflow.Graph) error {
	raw, refs, err := c.checkFlow(g)
	if err != nil {
		return err
	}
	f, err := c.s.store.PublishCallFlow(c.ctx(), c.tenant.ID, id, g.Name, raw, refs)
	if err == store.ErrNotFound {
		return notFound("call flow %q not found", id)
	}
	if err != nil {
		return flowStoreError(err)
	}
	j, err := toCallFlowJSON(f)
	if err != nil {
		return err
	}
	return c.reply(200, j)
}

func (s *server) putCallFlow(c *call) error {
	f, err := c.callFlow()
	if err != nil {
		return err
	}
	var g callflow.Graph
	if err := c.decode(&g); err != nil {
		return err
	}
	return c.publish(f.ID, g)
}

func (s *server) restoreCallFlow(c *call) error {
	f, err := c.callFlow()
	if err != nil {
		return err
	}
	var in restoreRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	old, err := s.store.CallFlowVersion(c.ctx(), c.tenant.ID, f.ID, in.Version)
	if errors.Is(err, store.ErrNotFound) {
		return invalid("version", "flow %s has no version %d (1 to %d)", f.ID, in.Version, f.Version)
	}
	if err != nil {
		return err
	}
	g, err := callflow.Parse(old.Graph)
	if err != nil {
		return err
	}
	// What the old version refers to may be gone: it is validated again.
	return c.publish(f.ID, g)
}

func (s *server) getCallFlow(c *call) error {
	f, err := c.callFlow()
	if err != nil {
		return err
	}
	j, err := toCallFlowJSON(f)
	if err != nil {
		return err
	}
	return c.reply(200, j)
}

func (s *server) listCallFlows(c *call) error {
	fs, err := s.store.CallFlows(c.ctx(), c.tenant.ID)
	if err != nil {
		return err
	}
	out := make([]callFlowSummaryJSON, 0, len(fs))
	for _, f := range fs {
		out = append(out, callFlowSummaryJSON{ID: f.ID, Name: f.Name, Version: f.Version, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt})
	}
	return c.reply(200, out)
}

func (s *server) listCallFlowVersions(c *call) error {
	id := c.path("call_flow")
	vs, err := s.store.CallFlowVersions(c.ctx(), c.tenant.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("call flow %q not found", id)
	}
	if err != nil {
		return err
	}
	out := make([]callFlowVersionJSON, 0, len(vs))
	for _, v := range vs {
		out = append(out, callFlowVersionJSON{Version: v.Version, CreatedAt: v.CreatedAt})
	}
	return c.reply(200, out)
}

func (s *server) deleteCallFlow(c *call) error {
	id := c.path("call_flow")
	switch err := s.store.DeleteCallFlow(c.ctx(), c.tenant.ID, id); {
	case errors.Is(err, store.ErrConflict):
		return conflictOn("", "call flow "+id+" is in use: "+err.Error())
	case errors.Is(err, store.ErrNotFound):
		return notFound("call flow %q not found", id)
	case err != nil:
		return err
	}
	return c.noContent()
}

// maxDryRunDigits bounds the scripted keys of a dry run.
const maxDryRunDigits = 32

func (s *server) dryRunCallFlow(c *call) error {
	f, err := c.callFlow()
	if err != nil {
		return err
	}
	var in dryRunRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	var fe fieldErrors
	at, err := time.Parse(time.RFC3339, in.At)
	if err != nil {
		fe.add("at", "must be an RFC 3339 time such as 2026-12-04T09:30:00+01:00")
	}
	if len(in.Digits) > maxDryRunDigits {
		fe.add("digits", "must be at most %d keys", maxDryRunDigits)
	}
	for _, r := range in.Digits {
		if !(r >= '0' && r <= '9' || r == '*' || r == '#') {
			fe.add("digits", "must be keys 0-9, * or #")
			break
		}
	}
	if err := fe.err(); err != nil {
		return err
	}
	g, err := callflow.Parse(f.Graph)
	if err != nil {
		return err
	}
	path, dest, err := callflow.DryRun(c.ctx(), g, tenantTimezone(c.tenant), at, in.Digits)
	if err != nil {
		return err
	}
	return c.reply(200, dryRunJSON{Path: path, Destination: flowEndJSON{Type: dest.Type, ID: dest.ID, Number: dest.Number}})
}
