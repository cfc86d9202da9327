package api

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"pbx/store"
)

type queueJSON struct {
	MaxWait          int    `json:"max_wait" doc:"seconds a caller waits for a free member before the overflow, 10 to 3600"`
	Music            string `json:"music,omitempty" doc:"hold-music class; the tenant's default when omitted"`
	AnnouncePosition bool   `json:"announce_position,omitempty" doc:"tell waiting callers their place in the queue"`
}

type huntGroupRequest struct {
	Name          string          `json:"name"`
	Extension     string          `json:"extension,omitempty" doc:"2 to 6 digits, unique among the tenant's users and groups"`
	Strategy      string          `json:"strategy" enum:"ring_all,linear,round_robin,longest_idle,random"`
	Members       []string        `json:"members" doc:"ids of full licences of the tenant, in hunting order"`
	MemberTimeout int             `json:"member_timeout" doc:"seconds one member rings (5 to 120)"`
	Timeout       int             `json:"timeout" doc:"seconds the group rings before the overflow or the queue (5 to 3600)"`
	Queue         *queueJSON      `json:"queue,omitempty" doc:"when set, callers who find every member busy wait with music"`
	Overflow      destinationJSON `json:"overflow" doc:"where calls go that nobody answered"`
}

type updateHuntGroupRequest struct {
	Name          *string          `json:"name,omitempty"`
	Extension     *string          `json:"extension,omitempty" doc:"empty to remove"`
	Strategy      *string          `json:"strategy,omitempty" enum:"ring_all,linear,round_robin,longest_idle,random"`
	Members       *[]string        `json:"members,omitempty"`
	MemberTimeout *int             `json:"member_timeout,omitempty"`
	Timeout       *int             `json:"timeout,omitempty"`
	Queue         *queueJSON       `json:"queue,omitempty" doc:"replaces the queue settings"`
	NoQueue       bool             `json:"no_queue,omitempty" doc:"true removes the queue"`
	Overflow      *destinationJSON `json:"overflow,omitempty"`
	Recording     *string          `json:"recording,omitempty" enum:"never,always,on_demand" doc:"whether calls the group's members answer are recorded"`
}

type huntGroupJSON struct {
	ID                 string          `json:"id"`
	Name               string          `json:"name"`
	Extension          string          `json:"extension,omitempty"`
	Strategy           string          `json:"strategy" enum:"ring_all,linear,round_robin,longest_idle,random"`
	Members            []string        `json:"members"`
	MemberTimeout      int             `json:"member_timeout"`
	Timeout            int             `json:"timeout"`
	Queue              *queueJSON      `json:"queue,omitempty"`
	Overflow           destinationJSON `json:"overflow"`
	LastAnsweredMember string          `json:"last_answered_member,omitempty" doc:"round robin resumes after this member"`
	Recording          string          `json:"recording,omitempty" enum:"never,always,on_demand" doc:"call recording policy (absent when recording is not configured)"`
	CreatedAt          time.Time       `json:"created_at"`
}

func toHuntGroupJSON(g store.HuntGroup) huntGroupJSON {
	j := huntGroupJSON{ID: g.ID, Name: g.Name, Extension: g.Extension, Strategy: g.Strategy, Members: g.Members,
		MemberTimeout: int(g.MemberTimeout / time.Second), Timeout: int(g.Timeout / time.Second), Overflow: toDestinationJSON(g.Overflow),
		LastAnsweredMember: g.LastAnsweredMember, CreatedAt: g.CreatedAt}
	if j.Members == nil {
		j.Members = []string{}
	}
	if q := g.Queue; q != nil {
		j.Queue = &queueJSON{MaxWait: int(q.MaxWait / time.Second), Music: q.Music, AnnouncePosition: q.AnnouncePosition}
	}
	return j
}

var strategies = []string{store.StrategyRingAll, store.StrategyLinear, store.StrategyRoundRobin, store.StrategyLongestIdle, store.StrategyRandom}

var musicClassRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// maxMembers bounds a group: ringing more phones at once is a broadcast.
const maxMembers = 50

// checkHuntGroup validates g (its overflow is given as in) and every
// member against the tenant's licences.
func (c *call) checkHuntGroup(g *store.HuntGroup, overflow destinationJSON, queue *queueJSON) error {
	var fe fieldErrors
	g.Name = fe.text("name", g.Name, true, 100)
	if g.Extension != "" {
		fe.extension("extension", g.Extension)
	}
	fe.oneOf("strategy", g.Strategy, true, strategies...)
	if s := int(g.MemberTimeout / time.Second); s < 5 || s > 120 {
		fe.add("member_timeout", "must be between 5 and 120 seconds")
	}
	if s := int(g.Timeout / time.Second); s < 5 || s > 3600 {
		fe.add("timeout", "must be between 5 and 3600 seconds")
	}
	switch {
	case len(g.Members) == 0:
		fe.add("members", "must have at least one member")
	case len(g.Members) > maxMembers:
		fe.add("members", "must have at most %d members", maxMembers)
	}
	users, err := c.s.store.Users(c.ctx(), c.tenant.ID)
	if err != nil {
		return err
	}
	byID := make(map[string]store.User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	seen := map[string]int{}
	for i, id := range g.Members {
		field := fmt.Sprintf("members[%d]", i)
		u, ok := byID[id]
		switch {
		case !ok:
			fe.add(field, "no user %q in this tenant", id)
		case u.Licence != store.LicenceFull:
			fe.add(field, "user %q has a light licence; members are full licences", id)
		}
		if j, dup := seen[id]; dup {
			fe.add(field, "is members[%d] again", j)
		}
		seen[id] = i
	}
	g.Queue = nil
	if queue != nil {
		if queue.MaxWait < 10 || queue.MaxWait > 3600 {
			fe.add("queue.max_wait", "must be between 10 and 3600 seconds")
		}
		if queue.Music != "" && !musicClassRE.MatchString(queue.Music) {
			fe.add("queue.music", "must be a music class name: lower-case letters, digits, - and _")
		}
		g.Queue = &store.Queue{MaxWait: time.Duration(queue.MaxWait) * time.Second, Music: queue.Music, AnnouncePosition: queue.AnnouncePosition}
	}
	d, err := c.destination(&fe, "overflow", overflow, g.ID)
	if err != nil {
		return err
	}
	g.Overflow = d
	if err := fe.err(); err != nil {
		return err
	}
	if g.Extension != "" {
		if _, err := c.s.store.UserByExtension(c.ctx(), c.tenant.ID, g.Extension); err == nil {
			return conflictOn("extension", fmt.Sprintf("extension %s is already used by a user", g.Extension))
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return c.extensionOfGroup(g.Extension, g.ID)
	}
	return nil
}

// huntGroupStoreError turns what the store refused into the client's problem.
func huntGroupStoreError(err error, ext string) error {
	switch {
	case errors.Is(err, store.ErrExtensionTaken):
		return conflictOn("extension", fmt.Sprintf("extension %s is already in use", ext))
	case errors.Is(err, store.ErrNotFound):
		// A member lost their licence since it was checked.
		return invalid("members", "%v", err)
	}
	return err
}

func (s *server) createHuntGroup(c *call) error {
	var in huntGroupRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	g := store.HuntGroup{ID: store.NewID("hg"), TenantID: c.tenant.ID, Name: in.Name, Extension: in.Extension, Strategy: in.Strategy,
		Members: in.Members, MemberTimeout: time.Duration(in.MemberTimeout) * time.Second, Timeout: time.Duration(in.Timeout) * time.Second}
	if err := c.checkHuntGroup(&g, in.Overflow, in.Queue); err != nil {
		return err
	}
	g, err := s.store.CreateHuntGroup(c.ctx(), g)
	if err != nil {
		return huntGroupStoreError(err, in.Extension)
	}
	return c.created(v1+"/tenants/"+c.tenant.ID+"/hunt_groups/"+g.ID, toHuntGroupJSON(g))
}

func (c *call) huntGroup() (store.HuntGroup, error) {
	id := c.path("hunt_group")
	g, err := c.s.store.HuntGroup(c.ctx(), c.tenant.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return g, notFound("hunt group %q not found", id)
	}
	return g, err
}

func (s *server) listHuntGroups(c *call) error {
	gs, err := s.store.HuntGroups(c.ctx(), c.tenant.ID)
	if err != nil {
		return err
	}
	out := make([]huntGroupJSON, 0, len(gs))
	for _, g := range gs {
		out = append(out, toHuntGroupJSON(g))
	}
	return c.reply(200, out)
}

func (s *server) getHuntGroup(c *call) error {
	g, err := c.huntGroup()
	if err != nil {
		return err
	}
	return c.replyHuntGroup(g)
}

// replyHuntGroup answers with a group and its recording policy.
func (c *call) replyHuntGroup(g store.HuntGroup) error {
	j := toHuntGroupJSON(g)
	var err error
	if j.Recording, err = c.recordingPolicy(store.PolicyHuntGroup, g.ID); err != nil {
		return err
	}
	return c.reply(200, j)
}

func (s *server) updateHuntGroup(c *call) error {
	g, err := c.huntGroup()
	if err != nil {
		return err
	}
	var in updateHuntGroupRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	cur := toHuntGroupJSON(g)
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&g.Name, in.Name)
	set(&g.Extension, in.Extension)
	set(&g.Strategy, in.Strategy)
	if in.Members != nil {
		g.Members = *in.Members
	}
	if in.MemberTimeout != nil {
		g.MemberTimeout = time.Duration(*in.MemberTimeout) * time.Second
	}
	if in.Timeout != nil {
		g.Timeout = time.Duration(*in.Timeout) * time.Second
	}
	queue := cur.Queue
	if in.Queue != nil {
		queue = in.Queue
	}
	if in.NoQueue {
		if in.Queue != nil {
			return invalid("no_queue", "cannot be sent with queue")
		}
		queue = nil
	}
	overflow := cur.Overflow
	if in.Overflow != nil {
		overflow = *in.Overflow
	}
	var fe fieldErrors
	c.checkRecording(&fe, in.Recording)
	if err := withFieldErrors(c.checkHuntGroup(&g, overflow, queue), fe); err != nil {
		return err
	}
	if err := s.store.UpdateHuntGroup(c.ctx(), g); err != nil {
		if err == store.ErrNotFound { // the group itself (a vanished member is wrapped)
			return notFound("hunt group %q not found", g.ID)
		}
		return huntGroupStoreError(err, g.Extension)
	}
	if err := c.setRecording(store.PolicyHuntGroup, g.ID, in.Recording); err != nil {
		return err
	}
	g, err = c.huntGroup()
	if err != nil {
		return err
	}
	return c.replyHuntGroup(g)
}

func (s *server) deleteHuntGroup(c *call) error {
	id := c.path("hunt_group")
	switch err := s.store.DeleteHuntGroup(c.ctx(), c.tenant.ID, id); {
	case errors.Is(err, store.ErrConflict):
		return conflictOn("", "hunt group "+id+" is in use: "+err.Error())
	case errors.Is(err, store.ErrNotFound):
		return notFound("hunt group %q not found", id)
	case err != nil:
		return err
	}
	return c.noContent()
}
