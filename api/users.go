package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"pbx/store"
)

type createUserRequest struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email,omitempty"`
	Licence   string `json:"licence" enum:"full,light" doc:"full: extension and up to 5 devices; light: exactly one device, no extension"`
	Extension string `json:"extension,omitempty" doc:"2 to 6 digits; required for a full licence, forbidden for a light one"`
	Language  string `json:"language,omitempty" enum:"nl,fr,de,en" doc:"voice prompt language; nl when omitted"`
	SiteID    string `json:"site_id,omitempty"`
}

type updateUserRequest struct {
	FirstName        *string `json:"first_name,omitempty"`
	LastName         *string `json:"last_name,omitempty"`
	Email            *string `json:"email,omitempty" doc:"empty to remove"`
	Language         *string `json:"language,omitempty" enum:"nl,fr,de,en"`
	Extension        *string `json:"extension,omitempty" doc:"full licences only"`
	SiteID           *string `json:"site_id,omitempty" doc:"empty to remove"`
	DND              *bool   `json:"dnd,omitempty"`
	ForwardAlways    *string `json:"forward_always,omitempty" doc:"extension or number; empty to cancel"`
	ForwardBusy      *string `json:"forward_busy,omitempty" doc:"extension or number; empty to cancel"`
	ForwardNoAnswer  *string `json:"forward_no_answer,omitempty" doc:"extension or number; empty to cancel"`
	NoAnswerSeconds  *int    `json:"no_answer_seconds,omitempty" doc:"5 to 120"`
	CallerIDNumber   *string `json:"caller_id_number_id,omitempty" doc:"id of one of the tenant's numbers to show on outgoing calls; empty for the default"`
	CLIR             *bool   `json:"clir,omitempty" doc:"withhold the number on calls to the public network (Privacy: id); *31* before a number does it for one call"`
	RejectAnonymous  *bool   `json:"reject_anonymous,omitempty" doc:"refuse callers who withhold their number (an announcement, then 433)"`
	BarInternational *bool   `json:"bar_international,omitempty" doc:"bar this user's calls abroad; lifting it is logged"`
}

type suspendRequest struct {
	Until string `json:"until" format:"date" doc:"YYYY-MM-DD (UTC), after today and at most 3 months ahead; the licence is active again from that day"`
}

type userJSON struct {
	ID               string    `json:"id"`
	FirstName        string    `json:"first_name"`
	LastName         string    `json:"last_name"`
	Email            string    `json:"email"`
	Language         string    `json:"language"`
	Licence          string    `json:"licence" enum:"full,light"`
	Extension        string    `json:"extension,omitempty"`
	Status           string    `json:"status" enum:"active,suspended"`
	SuspendedUntil   string    `json:"suspended_until,omitempty" format:"date"`
	SiteID           string    `json:"site_id,omitempty"`
	DND              bool      `json:"dnd"`
	ForwardAlways    string    `json:"forward_always"`
	ForwardBusy      string    `json:"forward_busy"`
	ForwardNoAnswer  string    `json:"forward_no_answer"`
	NoAnswerSeconds  int       `json:"no_answer_seconds"`
	MaxDevices       int       `json:"max_devices"`
	CallerIDNumber   string    `json:"caller_id_number_id,omitempty" doc:"id of the number shown on outgoing calls, if chosen"`
	CLIR             bool      `json:"clir"`
	RejectAnonymous  bool      `json:"reject_anonymous"`
	BarInternational bool      `json:"bar_international"`
	CreatedAt        time.Time `json:"created_at"`
}

func (s *server) toUserJSON(u store.User) userJSON {
	j := userJSON{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, Language: u.Language,
		Licence: u.Licence, Extension: u.Extension, Status: "active", SiteID: u.SiteID, DND: u.DND,
		ForwardAlways: u.ForwardAlways, ForwardBusy: u.ForwardBusy, ForwardNoAnswer: u.ForwardNoAnswer,
		NoAnswerSeconds: u.NoAnswerSeconds, MaxDevices: u.MaxDevices(), CLIR: u.CLIR, RejectAnonymous: u.RejectAnonymous,
		BarInternational: u.BarInternational, CreatedAt: u.CreatedAt}
	// A suspension whose end has passed counts as lifted even before the
	// sweeper has run, as it does for the registrar.
	if !u.Active(s.now()) {
		j.Status = "suspended"
		if !u.SuspendedUntil.IsZero() {
			j.SuspendedUntil = u.SuspendedUntil.UTC().Format(time.DateOnly)
		}
	}
	return j
}

// user loads the {user} of the path within the tenant.
func (c *call) user() (store.User, error) {
	id := c.path("user")
	u, err := c.s.store.User(c.ctx(), c.tenant.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return u, notFound("user %q not found", id)
	}
	return u, err
}

// checkSiteRef adds an error when siteID names no site of the tenant.
func (c *call) checkSiteRef(fe *fieldErrors, field, siteID string) error {
	if siteID == "" {
		return nil
	}
	_, err := c.s.store.Site(c.ctx(), c.tenant.ID, siteID)
	if errors.Is(err, store.ErrNotFound) {
		fe.add(field, "no site %q in this tenant", siteID)
		return nil
	}
	return err
}

// extensionTaken returns a 409 when another licence of the tenant has ext.
func (c *call) extensionTaken(ext, self string) error {
	other, err := c.s.store.UserByExtension(c.ctx(), c.tenant.ID, ext)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return c.extensionOfGroup(ext, "")
	case err != nil:
		return err
	case other.ID != self:
		return conflictOn("extension", fmt.Sprintf("extension %s is already used by user %s", ext, other.ID))
	}
	return c.extensionOfGroup(ext, "")
}

// extensionOfGroup returns a 409 when a hunt group of the tenant other
// than self has ext: users and groups share the tenant's extensions.
func (c *call) extensionOfGroup(ext, self string) error {
	g, err := c.s.store.HuntGroupByExtension(c.ctx(), c.tenant.ID, ext)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return err
	case g.ID != self:
		return conflictOn("extension", fmt.Sprintf("extension %s is already used by hunt group %s", ext, g.ID))
	}
	return nil
}

// withCallerID answers with the user and the caller id they chose.
func (c *call) withCallerID(u store.User) (userJSON, error) {
	j := c.s.toUserJSON(u)
	ids, err := c.s.store.UserCallerIDs(c.ctx(), c.tenant.ID)
	j.CallerIDNumber = ids[u.ID]
	return j, err
}

func (s *server) createUser(c *call) error {
	var in createUserRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	var fe fieldErrors
	u := store.User{TenantID: c.tenant.ID, Licence: in.Licence, Extension: in.Extension, Language: in.Language, SiteID: in.SiteID}
	u.FirstName = fe.text("first_name", in.FirstName, true, 100)
	u.LastName = fe.text("last_name", in.LastName, true, 100)
	u.Email = fe.email("email", in.Email)
	fe.oneOf("licence", in.Licence, true, store.LicenceFull, store.LicenceLight)
	switch {
	case in.Licence == store.LicenceFull && in.Extension == "":
		fe.add("extension", "is required for a full licence (2 to 6 digits)")
	case in.Licence == store.LicenceFull:
		fe.extension("extension", in.Extension)
	case in.Licence == store.LicenceLight && in.Extension != "":
		fe.add("extension", "a light licence has no extension")
	}
	if u.Language == "" {
		u.Language = languages[0]
	}
	fe.oneOf("language", u.Language, false, languages...)
	if err := c.checkSiteRef(&fe, "site_id", in.SiteID); err != nil {
		return err
	}
	if err := fe.err(); err != nil {
		return err
	}
	if u.Extension != "" {
		if err := c.extensionTaken(u.Extension, ""); err != nil {
			return err
		}
	}
	u, err := s.store.CreateUser(c.ctx(), u)
	if errors.Is(err, store.ErrConflict) {
		return conflictOn("extension", fmt.Sprintf("extension %s is already in use", in.Extension))
	}
	if err != nil {
		return err
	}
	return c.created(v1+"/tenants/"+c.tenant.ID+"/users/"+u.ID, s.toUserJSON(u))
}

func (s *server) listUsers(c *call) error {
	us, err := s.store.Users(c.ctx(), c.tenant.ID)
	if err != nil {
		return err
	}
	ids, err := s.store.UserCallerIDs(c.ctx(), c.tenant.ID)
	if err != nil {
		return err
	}
	out := make([]userJSON, 0, len(us))
	for _, u := range us {
		j := s.toUserJSON(u)
		j.CallerIDNumber = ids[u.ID]
		out = append(out, j)
	}
	return c.reply(200, out)
}

func (s *server) getUser(c *call) error {
	u, err := c.user()
	if err != nil {
		return err
	}
	j, err := c.withCallerID(u)
	if err != nil {
		return err
	}
	return c.reply(200, j)
}

func (s *server) updateUser(c *call) error {
	u, err := c.user()
	if err != nil {
		return err
	}
	var in updateUserRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	var fe fieldErrors
	if in.FirstName != nil {
		u.FirstName = fe.text("first_name", *in.FirstName, true, 100)
	}
	if in.LastName != nil {
		u.LastName = fe.text("last_name", *in.LastName, true, 100)
	}
	if in.Email != nil {
		u.Email = fe.email("email", *in.Email)
	}
	if in.Language != nil {
		u.Language = *in.Language
		fe.oneOf("language", u.Language, true, languages...)
	}
	oldExt := u.Extension
	if in.Extension != nil {
		switch {
		case u.Licence == store.LicenceLight && *in.Extension != "":
			fe.add("extension", "a light licence has no extension")
		case u.Licence == store.LicenceFull:
			u.Extension = *in.Extension
			fe.extension("extension", u.Extension)
		}
	}
	if in.SiteID != nil {
		u.SiteID = *in.SiteID
		if err := c.checkSiteRef(&fe, "site_id", u.SiteID); err != nil {
			return err
		}
	}
	if in.DND != nil {
		u.DND = *in.DND
	}
	if in.CLIR != nil {
		u.CLIR = *in.CLIR
	}
	if in.RejectAnonymous != nil {
		u.RejectAnonymous = *in.RejectAnonymous
	}
	lifted := in.BarInternational != nil && u.BarInternational && !*in.BarInternational
	if in.BarInternational != nil {
		u.BarInternational = *in.BarInternational
	}
	for _, f := range []struct {
		name string
		in   *string
		dst  *string
	}{
		{"forward_always", in.ForwardAlways, &u.ForwardAlways},
		{"forward_busy", in.ForwardBusy, &u.ForwardBusy},
		{"forward_no_answer", in.ForwardNoAnswer, &u.ForwardNoAnswer},
	} {
		if f.in == nil {
			continue
		}
		*f.dst = fe.forward(f.name, *f.in)
		if *f.dst != "" && *f.dst == u.Extension {
			fe.add(f.name, "must not be the user's own extension")
		}
	}
	if in.NoAnswerSeconds != nil {
		u.NoAnswerSeconds = *in.NoAnswerSeconds
		if u.NoAnswerSeconds < 5 || u.NoAnswerSeconds > 120 {
			fe.add("no_answer_seconds", "must be between 5 and 120")
		}
	}
	if in.CallerIDNumber != nil && *in.CallerIDNumber != "" {
		_, err := s.store.Number(c.ctx(), c.tenant.ID, *in.CallerIDNumber)
		if errors.Is(err, store.ErrNotFound) {
			fe.add("caller_id_number_id", "no number %q in this tenant", *in.CallerIDNumber)
		} else if err != nil {
			return err
		}
	}
	if err := fe.err(); err != nil {
		return err
	}
	if u.Extension != oldExt {
		if err := c.extensionTaken(u.Extension, u.ID); err != nil {
			return err
		}
	}
	err = s.store.UpdateUser(c.ctx(), u)
	switch {
	case errors.Is(err, store.ErrConflict):
		return conflictOn("extension", fmt.Sprintf("extension %s is already in use", u.Extension))
	case errors.Is(err, store.ErrNotFound):
		return notFound("user %q not found", u.ID)
	case err != nil:
		return err
	}
	if lifted {
		s.barringLifted(c, "international", "user_id", u.ID)
	}
	if in.CallerIDNumber != nil {
		err := s.store.SetUserCallerID(c.ctx(), c.tenant.ID, u.ID, *in.CallerIDNumber)
		if errors.Is(err, store.ErrNotFound) {
			// The number was released since it was checked.
			return invalid("caller_id_number_id", "no number %q in this tenant", *in.CallerIDNumber)
		}
		if err != nil {
			return err
		}
	}
	j, err := c.withCallerID(u)
	if err != nil {
		return err
	}
	return c.reply(200, j)
}

// userAfter answers with the user as stored after a state change.
func (c *call) userAfter(id string) error {
	u, err := c.s.store.User(c.ctx(), c.tenant.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("user %q not found", id)
	}
	if err != nil {
		return err
	}
	j, err := c.withCallerID(u)
	if err != nil {
		return err
	}
	return c.reply(200, j)
}

func (s *server) suspendUser(c *call) error {
	u, err := c.user()
	if err != nil {
		return err
	}
	var in suspendRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	until, err := parseSuspendUntil(in.Until, s.now())
	if err != nil {
		return invalid("until", "%v", err)
	}
	switch err := s.store.SuspendUser(c.ctx(), c.tenant.ID, u.ID, until); {
	case errors.Is(err, store.ErrLastActive):
		return lastActive()
	case errors.Is(err, store.ErrNotFound):
		return notFound("user %q not found", u.ID)
	case err != nil:
		return err
	}
	return c.userAfter(u.ID)
}

func (s *server) reactivateUser(c *call) error {
	u, err := c.user()
	if err != nil {
		return err
	}
	if err := s.store.ReactivateUser(c.ctx(), c.tenant.ID, u.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("user %q not found", u.ID)
		}
		return err
	}
	return c.userAfter(u.ID)
}

func (s *server) terminateUser(c *call) error {
	id := c.path("user")
	switch err := s.store.TerminateUser(c.ctx(), c.tenant.ID, id); {
	case errors.Is(err, store.ErrLastActive):
		return lastActive()
	case errors.Is(err, store.ErrNotFound):
		return notFound("user %q not found", id)
	case err != nil:
		return err
	}
	return c.noContent()
}

// BLF keys.

type blfKeyRequest struct {
	Position     int    `json:"position" doc:"key number on the phone, 1 to 100"`
	TargetUserID string `json:"target_user_id" doc:"a full licence of the same tenant"`
	Label        string `json:"label,omitempty" doc:"at most 32 characters; the target's name when empty"`
}

type blfKeyJSON struct {
	Position        int    `json:"position"`
	TargetUserID    string `json:"target_user_id"`
	TargetExtension string `json:"target_extension,omitempty"`
	Label           string `json:"label"`
}

const maxBLFKeys = 100

func (s *server) getBLF(c *call) error {
	u, err := c.user()
	if err != nil {
		return err
	}
	return s.replyBLF(c, u.ID)
}

func (s *server) replyBLF(c *call, userID string) error {
	keys, err := s.store.BLFKeys(c.ctx(), userID)
	if err != nil {
		return err
	}
	users, err := s.store.Users(c.ctx(), c.tenant.ID)
	if err != nil {
		return err
	}
	ext := make(map[string]string, len(users))
	for _, u := range users {
		ext[u.ID] = u.Extension
	}
	out := make([]blfKeyJSON, 0, len(keys))
	for _, k := range keys {
		out = append(out, blfKeyJSON{Position: k.Position, TargetUserID: k.TargetUserID, TargetExtension: ext[k.TargetUserID], Label: k.Label})
	}
	return c.reply(200, out)
}

func (s *server) putBLF(c *call) error {
	u, err := c.user()
	if err != nil {
		return err
	}
	var in *[]blfKeyRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	if in == nil {
		return malformed("", "request body must be a JSON array of keys ([] removes them all)")
	}
	if len(*in) > maxBLFKeys {
		return &problem{Type: typeValidation, Title: "Invalid request", Status: http.StatusUnprocessableEntity,
			Detail: fmt.Sprintf("at most %d keys", maxBLFKeys)}
	}
	users, err := s.store.Users(c.ctx(), c.tenant.ID)
	if err != nil {
		return err
	}
	byID := make(map[string]store.User, len(users))
	for _, x := range users {
		byID[x.ID] = x
	}
	var fe fieldErrors
	seen := map[int]bool{}
	keys := make([]store.BLFKey, 0, len(*in))
	for i, k := range *in {
		at := func(f string) string { return fmt.Sprintf("[%d].%s", i, f) }
		switch {
		case k.Position < 1 || k.Position > maxBLFKeys:
			fe.add(at("position"), "must be between 1 and %d", maxBLFKeys)
		case seen[k.Position]:
			fe.add(at("position"), "position %d is given twice", k.Position)
		}
		seen[k.Position] = true
		target, ok := byID[k.TargetUserID]
		switch {
		case k.TargetUserID == "":
			fe.add(at("target_user_id"), "is required")
		case !ok:
			fe.add(at("target_user_id"), "no user %q in this tenant", k.TargetUserID)
		case target.Licence != store.LicenceFull:
			fe.add(at("target_user_id"), "user %q has a light licence, which cannot be watched", k.TargetUserID)
		}
		label := fe.text(at("label"), k.Label, false, 32)
		if label == "" && ok {
			label = target.FirstName + " " + target.LastName
			if r := []rune(label); len(r) > 32 {
				label = string(r[:32])
			}
		}
		keys = append(keys, store.BLFKey{Position: k.Position, TargetUserID: k.TargetUserID, Label: label})
	}
	if err := fe.err(); err != nil {
		return err
	}
	if err := s.store.SetBLFKeys(c.ctx(), c.tenant.ID, u.ID, keys); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			// A user or target vanished since we looked.
			return notFound("%v", err)
		}
		return err
	}
	return s.replyBLF(c, u.ID)
}
