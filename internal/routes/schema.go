package routes

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:generate go run -C ../../tools/traefik ./labelschema -o ../../internal/routes/schema_gen.go

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

// schemaEntry is one label path Traefik accepts.
type schemaEntry struct {
	label string // lower case; * is a name, [] a list index
	toml  string // the TOML path; "" for label-only settings (a server's port)
	kind  kind
}

// node is one segment of the schema trie.
type node struct {
	children map[string]*node // by lower-case segment; "*" and "[]" are wildcards
	tomlName string
	kind     kind // 0 for a section
	empty    bool // the section can be enabled by "true"
	labelOK  bool // label-only leaf (no TOML output)
	ref      bool // its value names routers' services or middlewares (see localRefs)
}

var schema = buildSchema()

func buildSchema() *node {
	root := &node{children: map[string]*node{}}
	for _, e := range schemaEntries {
		segs := strings.Split(e.label, ".")
		var tsegs []string
		if e.toml != "" {
			tsegs = strings.Split(e.toml, ".")
		}
		n := root
		for i, s := range segs {
			c, ok := n.children[s]
			if !ok {
				c = &node{children: map[string]*node{}}
				n.children[s] = c
			}
			if i < len(tsegs) {
				c.tomlName = tsegs[i]
			} else {
				c.tomlName = s
			}
			n = c
		}
		n.ref = slices.Contains(referenceLabels, e.label)
		switch {
		case e.kind == kindEmpty:
			n.empty = true
		case e.toml == "":
			n.kind, n.labelOK = e.kind, true
		default:
			n.kind = e.kind
		}
	}
	return root
}

// convert parses a label value of kind k into what the TOML encoder writes.
// Its errors never show the value: a misplaced credential must not reach
// the logs.
func convert(k kind, v string) (any, error) {
	switch k {
	case kindString:
		return v, nil
	case kindBool:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return nil, errors.New("the value is not true or false")
		}
		return b, nil
	case kindInt:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, errors.New("the value is not a whole number")
		}
		return n, nil
	case kindUint:
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, errors.New("the value is not a whole number ≥ 0")
		}
		return int64(n), nil
	case kindFloat:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return nil, errors.New("the value is not a number")
		}
		return f, nil
	case kindDuration:
		s := strings.TrimSpace(v)
		if _, err := time.ParseDuration(s); err == nil {
			return s, nil
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
			return (time.Duration(n) * time.Second).String(), nil
		}
		return nil, errors.New("the value is not a duration (10s, 1m, or seconds)")
	case kindList:
		var out []string
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out, nil
	case kindAny:
		return v, nil
	}
	return nil, fmt.Errorf("unsupported value kind %d", k)
}
