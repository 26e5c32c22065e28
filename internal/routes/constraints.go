package routes

import (
	"fmt"
	"strings"

	"rancher-traefik/internal/rancher"
)

// Constraint is a Traefik v1 style constraint on the traefik.tags label:
// tag==api requires the tag, tag!=internal forbids it.
type Constraint struct {
	Tag    string
	Negate bool
}

// ParseConstraints reads "tag==api,tag!=internal" (space or comma separated).
func ParseConstraints(s string) ([]Constraint, error) {
	var out []Constraint
	for f := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		var c Constraint
		switch {
		case strings.HasPrefix(f, "tag=="):
			c.Tag = strings.TrimPrefix(f, "tag==")
		case strings.HasPrefix(f, "tag!="):
			c.Tag, c.Negate = strings.TrimPrefix(f, "tag!="), true
		default:
			return nil, fmt.Errorf("constraint %q is not tag==NAME or tag!=NAME", f)
		}
		if c.Tag == "" {
			return nil, fmt.Errorf("constraint %q names no tag", f)
		}
		out = append(out, c)
	}
	return out, nil
}

func constraintsAllow(s *rancher.Service, cs []Constraint) bool {
	tags := map[string]bool{}
	for t := range strings.SplitSeq(s.Labels["traefik.tags"], ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags[t] = true
		}
	}
	for _, c := range cs {
		if tags[c.Tag] == c.Negate {
			return false
		}
	}
	return true
}
