// Package callflow owns the call flows administrators draw for their
// numbers: a versioned JSON graph of nodes (opening hours, menus,
// announcements, destinations), its validation, and the interpreter that
// walks it, both for a real call (through call control) and for a dry run
// that says where a call at a given time with given digits would end up.
package callflow

import (
	"encoding/json"
	"fmt"
)

// Node types.
const (
	TypeSchedule  = "schedule"
	TypeMenu      = "menu"
	TypePlay      = "play"
	TypeHuntGroup = "hunt_group"
	TypeUser      = "user"
	TypeVoicemail = "voicemail"
	TypeExternal  = "external"
	TypeHangup    = "hangup"
	// TypeVoicemailAccess lets the caller listen to a box: it asks for
	// the mailbox and its PIN.
	TypeVoicemailAccess = "voicemail_access"
)

// Graph is a call flow as administrators write it.
type Graph struct {
	Name  string          `json:"name"`
	Start string          `json:"start"`
	Nodes map[string]Node `json:"nodes"`
	// Music is the tenant's music class callers of this flow hear while
	// they wait in its destinations' queues ("" the tenant's default).
	Music string `json:"music,omitempty"`
}

// Node is one step of a flow; which fields count depends on Type.
type Node struct {
	Type string `json:"type"`

	// schedule: open when the time falls in Hours (or an exception's
	// hours), closed otherwise; exceptions win over the weekly hours, and
	// Holidays "BE" closes on Belgian public holidays.
	Hours      []Hours     `json:"hours,omitempty"`
	Exceptions []Exception `json:"exceptions,omitempty"`
	Holidays   string      `json:"holidays,omitempty"`
	Timezone   string      `json:"timezone,omitempty"`
	Open       string      `json:"open,omitempty"`
	Closed     string      `json:"closed,omitempty"`

	// menu: Prompt is played, one digit is read; an option leads on.
	// Without a valid digit within Timeout seconds the menu is repeated
	// Retries more times, then the call goes to Invalid (hangs up if none).
	Prompt  string            `json:"prompt,omitempty"`
	Options map[string]string `json:"options,omitempty"`
	Timeout int               `json:"timeout,omitempty"`
	Retries int               `json:"retries,omitempty"`
	Invalid string            `json:"invalid,omitempty"`

	// play: Audio is played, then Next.
	Audio string `json:"audio,omitempty"`
	Next  string `json:"next,omitempty"`

	// hunt_group, user, voicemail: ID; external: Number.
	ID     string `json:"id,omitempty"`
	Number string `json:"number,omitempty"`
}

// Hours is a weekly opening slot, from and to as "HH:MM" local time.
type Hours struct {
	Days []string `json:"days"`
	From string   `json:"from"`
	To   string   `json:"to"`
}

// Exception overrides the weekly hours on one date ("2026-12-25"): closed
// all day, or open on its own hours.
type Exception struct {
	Date   string  `json:"date"`
	Closed bool    `json:"closed,omitempty"`
	Hours  []Hours `json:"hours,omitempty"`
}

// Destination is where a flow hands the call over.
type Destination struct {
	Type   string `json:"type"`
	ID     string `json:"id,omitempty"`
	Number string `json:"number,omitempty"`
}

// Parse decodes a flow, refusing unknown fields so that a typing mistake
// is an error rather than a silently ignored setting.
func Parse(data []byte) (Graph, error) {
	var g Graph
	dec := json.NewDecoder(bytesReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return Graph{}, fmt.Errorf("callflow: %w", err)
	}
	return g, nil
}

// next lists the nodes n leads to, with the field naming each.
func (n Node) next() []ref {
	var out []ref
	add := func(field, to string) {
		if to != "" {
			out = append(out, ref{field, to})
		}
	}
	switch n.Type {
	case TypeSchedule:
		add("open", n.Open)
		add("closed", n.Closed)
	case TypeMenu:
		for _, d := range sortedKeys(n.Options) {
			add("options."+d, n.Options[d])
		}
		add("invalid", n.Invalid)
	case TypePlay:
		add("next", n.Next)
	}
	return out
}

type ref struct{ field, to string }
