package callflow

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"pbx/numbering"
)

// Problem is one thing wrong with a flow: Field names it as
// "nodes.<node>.<field>" (or "name", "start").
type Problem struct {
	Node   string `json:"node,omitempty"`
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// Problems are every problem of a flow, found at once.
type Problems []Problem

func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s %s", p.Field, p.Detail)
	}
	return b.String()
}

// Errors a Directory returns.
var (
	ErrNotFound = errors.New("not found")     // no such object in the tenant
	ErrLight    = errors.New("light licence") // a light licence cannot take calls of a flow
)

// Directory tells what a tenant has; it answers for one tenant only, so
// another tenant's objects are ErrNotFound.
type Directory interface {
	User(ctx context.Context, id string) error // nil, ErrNotFound or ErrLight
	HuntGroup(ctx context.Context, id string) error
	Voicemail(ctx context.Context, id string) error
	Audio(ctx context.Context, id string) error
}

var nodeNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// musicClassRE is the form of a tenant's music class names.
var musicClassRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// MaxNodes bounds a flow's size.
const MaxNodes = 200

// Validate checks g and returns every problem at once (nil when valid).
func Validate(ctx context.Context, g Graph, dir Directory) error {
	var ps Problems
	add := func(node, field, format string, args ...any) {
		f := field
		if node != "" {
			f = "nodes." + node + "." + field
		}
		ps = append(ps, Problem{Node: node, Field: f, Detail: fmt.Sprintf(format, args...)})
	}
	if strings.TrimSpace(g.Name) == "" {
		add("", "name", "is required")
	} else if len(g.Name) > 100 {
		add("", "name", "must be at most 100 characters")
	}
	if g.Music != "" && !musicClassRE.MatchString(g.Music) {
		add("", "music", "must be a music class: 1 to 32 lower-case letters, digits, - or _, starting with a letter or digit")
	}
	switch {
	case len(g.Nodes) == 0:
		add("", "nodes", "must have at least one node")
	case len(g.Nodes) > MaxNodes:
		add("", "nodes", "must have at most %d nodes", MaxNodes)
	}
	if g.Start == "" {
		add("", "start", "is required")
	} else if _, ok := g.Nodes[g.Start]; !ok {
		add("", "start", "names no node (%q)", g.Start)
	}
	for _, name := range sortedKeys(g.Nodes) {
		if !nodeNameRE.MatchString(name) {
			// Problems name fields "nodes.<node>.<field>": a dot or a
			// bracket in a node's name would make them ambiguous.
			add("", "nodes", "node name %q must be 1 to 64 letters, digits, - or _", name)
			continue
		}
		n := g.Nodes[name]
		checkNode(ctx, name, n, g, dir, add)
	}
	if len(ps) == 0 {
		for _, name := range unreachable(g) {
			add(name, "type", "is not reachable from start %q", g.Start)
		}
		for _, cycle := range silentLoops(g) {
			add(cycle[0], "type", "is in a loop that never waits for the caller: %s", strings.Join(append(cycle, cycle[0]), " → "))
		}
	}
	if len(ps) == 0 {
		return nil
	}
	return ps
}

func checkNode(ctx context.Context, name string, n Node, g Graph, dir Directory, add func(node, field, format string, args ...any)) {
	refTo := func(field, to string, required bool) {
		switch {
		case to == "" && required:
			add(name, field, "is required")
		case to == "":
		case to == name && n.Type != TypeMenu:
			add(name, field, "leads back to its own node")
		default:
			if _, ok := g.Nodes[to]; !ok {
				add(name, field, "names no node (%q)", to)
			}
		}
	}
	exists := func(field, kind, id string, lookup func(context.Context, string) error) {
		if id == "" {
			add(name, field, "is required")
			return
		}
		switch err := lookup(ctx, id); {
		case err == nil:
		case errors.Is(err, ErrLight):
			add(name, field, "is a light licence, which cannot be a destination")
		case errors.Is(err, ErrNotFound):
			add(name, field, "names no %s of this tenant (%q)", kind, id)
		default:
			add(name, field, "could not be checked: %v", err)
		}
	}
	switch n.Type {
	case TypeSchedule:
		if len(n.Hours) == 0 && len(n.Exceptions) == 0 && n.Holidays == "" {
			add(name, "hours", "is required (at least one opening slot)")
		}
		checkHours(name, "hours", n.Hours, true, add)
		for i, ex := range n.Exceptions {
			f := fmt.Sprintf("exceptions[%d]", i)
			if _, err := time.Parse(time.DateOnly, ex.Date); err != nil {
				add(name, f+".date", "must be a date YYYY-MM-DD")
			}
			if ex.Closed && len(ex.Hours) > 0 {
				add(name, f+".hours", "must be empty when the day is closed")
			}
			if !ex.Closed && len(ex.Hours) == 0 {
				add(name, f, "must be closed or have hours")
			}
			checkHours(name, f+".hours", ex.Hours, false, add)
		}
		if n.Holidays != "" && !strings.EqualFold(n.Holidays, "BE") {
			add(name, "holidays", "must be BE (Belgian public holidays) or empty")
		}
		if n.Timezone != "" {
			if _, err := time.LoadLocation(n.Timezone); err != nil {
				add(name, "timezone", "is not a time zone (such as Europe/Brussels)")
			}
		}
		refTo("open", n.Open, true)
		refTo("closed", n.Closed, true)
	case TypeMenu:
		if n.Prompt != "" {
			exists("prompt", "audio", n.Prompt, dir.Audio)
		}
		if len(n.Options) == 0 {
			add(name, "options", "must have at least one option")
		}
		for _, d := range sortedKeys(n.Options) {
			if len(d) != 1 || !strings.Contains("0123456789*#", d) {
				add(name, "options."+d, "must be one key: 0-9, * or #")
			}
			refTo("options."+d, n.Options[d], true)
		}
		if n.Timeout < 0 || n.Timeout > 60 {
			add(name, "timeout", "must be between 1 and 60 seconds (0 means 5)")
		}
		if n.Retries < 0 || n.Retries > 10 {
			add(name, "retries", "must be between 0 and 10")
		}
		refTo("invalid", n.Invalid, false)
	case TypePlay:
		exists("audio", "audio", n.Audio, dir.Audio)
		refTo("next", n.Next, true)
	case TypeHuntGroup:
		exists("id", "hunt group", n.ID, dir.HuntGroup)
	case TypeUser:
		exists("id", "user", n.ID, dir.User)
	case TypeVoicemail:
		exists("id", "voicemail box", n.ID, dir.Voicemail)
	case TypeExternal:
		if n.Number == "" {
			add(name, "number", "is required")
		} else if _, err := numbering.Normalize(n.Number); err != nil && !numbering.Short(n.Number) {
			add(name, "number", "must be a phone number (E.164 such as +3221234567, or national)")
		}
	case TypeHangup, TypeVoicemailAccess:
	case "":
		add(name, "type", "is required")
	default:
		add(name, "type", "must be one of schedule, menu, play, hunt_group, user, voicemail, voicemail_access, external, hangup")
	}
}

func checkHours(node, field string, hours []Hours, needDays bool, add func(node, field, format string, args ...any)) {
	for i, h := range hours {
		f := fmt.Sprintf("%s[%d]", field, i)
		if needDays && len(h.Days) == 0 {
			add(node, f+".days", "is required (mon, tue, wed, thu, fri, sat, sun)")
		}
		for _, d := range h.Days {
			if _, ok := dayNames[strings.ToLower(d)]; !ok {
				add(node, f+".days", "has %q, not one of mon, tue, wed, thu, fri, sat, sun", d)
			}
		}
		from, err1 := clock(h.From)
		to, err2 := clock(h.To)
		if err1 != nil {
			add(node, f+".from", "%v", err1)
		}
		if err2 != nil {
			add(node, f+".to", "%v", err2)
		}
		if err1 == nil && err2 == nil && from >= to {
			add(node, f+".to", "must be after from")
		}
	}
}

// unreachable lists the nodes start does not lead to.
func unreachable(g Graph) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		for _, r := range g.Nodes[name].next() {
			walk(r.to)
		}
	}
	walk(g.Start)
	var out []string
	for _, name := range sortedKeys(g.Nodes) {
		if !seen[name] {
			out = append(out, name)
		}
	}
	return out
}

// silentLoops finds cycles through nodes that never wait for the caller
// (schedules and announcements): a call would spin in them forever. A
// cycle through a menu is fine: the menu waits, and gives up after its
// retries.
func silentLoops(g Graph) [][]string {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var cycles [][]string
	var visit func(string)
	visit = func(name string) {
		color[name] = grey
		stack = append(stack, name)
		for _, r := range g.Nodes[name].next() {
			if g.Nodes[r.to].Type == TypeMenu {
				continue
			}
			switch color[r.to] {
			case grey:
				for i := len(stack) - 1; i >= 0; i-- {
					if stack[i] == r.to {
						cycles = append(cycles, append([]string(nil), stack[i:]...))
						break
					}
				}
			case white:
				visit(r.to)
			}
		}
		stack = stack[:len(stack)-1]
		color[name] = black
	}
	for _, name := range sortedKeys(g.Nodes) {
		if g.Nodes[name].Type != TypeMenu && color[name] == white {
			visit(name)
		}
	}
	return cycles
}
