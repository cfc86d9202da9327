package format

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// node is an element of a document whose data is element text (Grandstream
// and directory files): an element has either children or text, never both.
type node struct {
	name     string
	attrs    map[string]string
	children []*node
	text     string
	hasText  bool
}

// parseTree reads a UTF-8 document into a tree, rejecting directives,
// mixed content and attributes outside allowed (element name -> names).
func parseTree(data []byte, allowed map[string][]string) (*node, error) {
	d, err := startDoc(data, "UTF-8")
	if err != nil {
		return nil, err
	}
	var root *node
	var stack []*node
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			a, err := attrs(t, allowed[t.Name.Local]...)
			if err != nil {
				return nil, err
			}
			n := &node{name: t.Name.Local, attrs: a}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("two root elements")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				if p.hasText {
					return nil, fmt.Errorf("<%s> mixes text and elements", p.name)
				}
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) != 0 {
					return nil, errors.New("text outside the root element")
				}
				continue
			}
			n := stack[len(stack)-1]
			if len(bytes.TrimSpace(t)) == 0 && !n.hasText {
				continue
			}
			if len(n.children) > 0 {
				return nil, fmt.Errorf("<%s> mixes text and elements", n.name)
			}
			n.text += string(t)
			n.hasText = true
		case xml.Directive:
			return nil, errors.New("DOCTYPE or other directive not allowed")
		}
	}
	if root == nil || len(stack) != 0 {
		return nil, errors.New("no complete root element")
	}
	return root, nil
}

// only checks that n's children are all named one of names.
func (n *node) only(names ...string) error {
	for _, c := range n.children {
		ok := false
		for _, x := range names {
			ok = ok || c.name == x
		}
		if !ok {
			return fmt.Errorf("<%s> inside <%s>", c.name, n.name)
		}
	}
	return nil
}

// all returns the children named name.
func (n *node) all(name string) []*node {
	var out []*node
	for _, c := range n.children {
		if c.name == name {
			out = append(out, c)
		}
	}
	return out
}

// leafText returns the text of the single child named name; required says
// whether it must exist.
func (n *node) leafText(name string, required bool) (string, error) {
	cs := n.all(name)
	switch {
	case len(cs) == 0 && required:
		return "", fmt.Errorf("<%s> lacks <%s>", n.name, name)
	case len(cs) == 0:
		return "", nil
	case len(cs) > 1:
		return "", fmt.Errorf("<%s> has <%s> twice", n.name, name)
	case len(cs[0].children) > 0:
		return "", fmt.Errorf("<%s> is not text", name)
	}
	t := strings.TrimSpace(cs[0].text)
	if err := text(t); err != nil {
		return "", fmt.Errorf("<%s>: %v", name, err)
	}
	return t, nil
}
