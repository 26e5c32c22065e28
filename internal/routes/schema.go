package routes

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:generate go run -C ../../tools/traefik ./labelschema -dir ../../internal/routes

// kind is the type of a label's value.
type kind int

const (
	kindString   kind = iota + 1
	kindBool          // true/false
	kindInt           // a whole number
	kindUint          // a whole number ≥ 0
	kindFloat         // a number
	kindDuration      // 10s, 1m, or seconds
	kindList          // comma-separated strings
	kindEmpty         // a section that may be enabled with "true" alone
	kindAny           // free-form (plugin settings)
)

// schemaEntry is one label path Traefik accepts, with its setter (for a
// kindEmpty section, the setter that enables it).
type schemaEntry struct {
	label string // lower case; * is a name, [] a list index
	kind  kind
	set   setter
}

// setter sets one label's value (a.value) in the typed configuration c, at
// the names and list indexes of a; its errors name the label.
type setter func(c *dynConfiguration, a *labelArgs) error

// node is one segment of the schema trie.
type node struct {
	children map[string]*node // literal segments, lower case
	name     *node            // a name (*): routers.<name>
	list     *node            // a list index ([]): domains[0]
	kind     kind             // of a setting; 0 for a section
	set      setter           // of a setting
	enable   setter           // of a section "true" alone enables
	ref      bool             // its value names routers' services or middlewares (see localRefs)
}

var schema = buildSchema()

func buildSchema() *node {
	root := &node{children: map[string]*node{}}
	for _, e := range schemaEntries {
		n := root
		for s := range strings.SplitSeq(e.label, ".") {
			var slot **node
			switch s {
			case "*":
				slot = &n.name
			case "[]":
				slot = &n.list
			default:
				c := n.children[s]
				if c == nil {
					c = &node{children: map[string]*node{}}
					n.children[s] = c
				}
				n = c
				continue
			}
			if *slot == nil {
				*slot = &node{children: map[string]*node{}}
			}
			n = *slot
		}
		n.ref = slices.Contains(referenceLabels, e.label)
		if e.kind == kindEmpty {
			n.enable = e.set
		} else {
			n.kind, n.set = e.kind, e.set
		}
	}
	return root
}

// labelArgs is one label on its way to its setter: its name and value,
// the names (*) and list indexes ([]) of its path, and the free-form rest
// of a plugin's settings.
type labelArgs struct {
	label, value string
	names        [maxLabelNames]string
	idx          [maxLabelIndexes]int
	rest         []string
	ref          bool // the value names services or middlewares (localRefs)
}

// The conversions of a label's value to its field's type. Their errors
// name the label and never show the value: a misplaced credential must
// not reach the logs.

func (a *labelArgs) str() string {
	if a.ref {
		return localRef(a.value)
	}
	return a.value
}

func (a *labelArgs) list() []string {
	l := parseList(a.value)
	if a.ref {
		return localRefs(l)
	}
	return l
}

// No label path of Traefik v3.6 takes an unsigned or a float (the
// generator calls a.uint() and a.float() for those, should one come).

func (a *labelArgs) boolean() (bool, error)    { return labelled(a, parseBool) }
func (a *labelArgs) int() (int64, error)       { return labelled(a, parseInt) }
func (a *labelArgs) duration() (string, error) { return labelled(a, parseDuration) }

// scheme is a server's scheme, which the provider reads (Traefik's
// Server.Scheme, a label-only setting).
func (a *labelArgs) scheme() (string, error) {
	sch := strings.ToLower(strings.TrimSpace(a.value))
	if sch != "http" && sch != "https" && sch != "h2c" {
		return "", errLabel(a.label, "%q is not http, https or h2c", a.value)
	}
	return sch, nil
}

func labelled[T any](a *labelArgs, parse func(string) (T, error)) (T, error) {
	v, err := parse(a.value)
	if err != nil {
		return v, errLabel(a.label, "%v", err)
	}
	return v, nil
}

// free sets a plugin's free-form setting: name, then the rest of the
// label's segments as nested sections, the value a string (Traefik's
// PluginConf is a map[string]any; the plugin decodes it).
func (a *labelArgs) free(dst *map[string]any, name string) error {
	if *dst == nil {
		*dst = map[string]any{}
	}
	cur, key := *dst, name
	for _, k := range a.rest {
		next, ok := cur[key].(map[string]any)
		if !ok {
			if cur[key] != nil {
				return errLabel(a.label, "%s is both a setting and a section", key)
			}
			next = map[string]any{}
			cur[key] = next
		}
		cur, key = next, k
	}
	cur[key] = a.value
	return nil
}

// convert parses a label value of kind k into what the TOML encoder writes.
// Its errors never show the value: a misplaced credential must not reach
// the logs.
func convert(k kind, v string) (any, error) {
	switch k {
	case kindString, kindAny:
		return v, nil
	case kindBool:
		return boxed(parseBool(v))
	case kindInt:
		return boxed(parseInt(v))
	case kindUint:
		return boxed(parseUint(v))
	case kindFloat:
		return boxed(parseFloat(v))
	case kindDuration:
		return boxed(parseDuration(v))
	case kindList:
		return parseList(v), nil
	}
	return nil, fmt.Errorf("unsupported value kind %d", k)
}

func boxed[T any](v T, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

func parseBool(v string) (bool, error) {
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return false, errors.New("the value is not true or false")
	}
	return b, nil
}

func parseInt(v string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, errors.New("the value is not a whole number")
	}
	return n, nil
}

func parseUint(v string) (int64, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, errors.New("the value is not a whole number ≥ 0")
	}
	return int64(n), nil
}

func parseFloat(v string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return 0, errors.New("the value is not a number")
	}
	return f, nil
}

// parseDuration gives a duration as Traefik reads it: 10s, 1m, or seconds.
func parseDuration(v string) (string, error) {
	s := strings.TrimSpace(v)
	if _, err := time.ParseDuration(s); err == nil {
		return s, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return (time.Duration(n) * time.Second).String(), nil
	}
	return "", errors.New("the value is not a duration (10s, 1m, or seconds)")
}

// parseList splits comma-separated strings; "" is an empty (nil) list.
func parseList(v string) []string {
	var out []string
	for p := range strings.SplitSeq(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
