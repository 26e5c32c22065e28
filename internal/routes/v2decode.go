package routes

import (
	"sort"
	"strconv"
	"strings"

	"rancher-traefik/internal/rancher"
)

// decodeV2 is the v2 dialect's parse step: each traefik.http/tcp/udp.*
// label, in sorted order (the last of two spellings of one setting wins),
// set in a typed configuration through the schema. A bad label is
// recorded in p and the others go on.
func decodeV2(s *rancher.Service, p *problems) *dynConfiguration {
	c := &dynConfiguration{}
	var buf [16]string // a service's labels, usually: on the stack
	keys := buf[:0]
	for k := range s.Labels {
		if isV2(k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var droppedHeaders []string
	var a labelArgs // one for every label: the setters' indirect calls make it escape
	for _, label := range keys {
		if isV2HeaderLabel(label) && p.add(checkHeaderValue(label, s.Labels[label])) {
			droppedHeaders = append(droppedHeaders, strings.Split(label, ".")[3])
			continue
		}
		a = labelArgs{label: label, value: s.Labels[label]}
		p.add(decodeLabel(c, &a))
	}
	pruneEmptyHeaders(c, droppedHeaders)
	return c
}

// decodeLabel checks one label (a.label, a.value) against Traefik's schema
// and sets its value.
func decodeLabel(c *dynConfiguration, a *labelArgs) error {
	n, err := schemaNode(a)
	if err != nil {
		return err
	}
	a.ref = n.ref
	switch {
	case n.kind != 0:
		return n.set(c, a)
	case n.enable != nil:
		on, err := parseBool(a.value)
		if err != nil {
			return errLabel(a.label, "set it to true to enable the section, or set its options")
		}
		if !on {
			return nil
		}
		return n.enable(c, a)
	}
	return errLabel(a.label, "is a section, not a setting (known: %s)", known(n))
}

// schemaNode walks a's label down the schema trie, recording the names and
// list indexes of its path in a, and returns the node it names.
func schemaNode(a *labelArgs) (*node, error) {
	label := a.label
	path := strings.TrimPrefix(label, "traefik.")
	n, names, idxs := schema, 0, 0
	for {
		seg, rest, more := strings.Cut(path, ".")
		if seg == "" {
			return nil, errLabel(label, "empty segment in the label name")
		}
		if n.kind == kindAny {
			// Plugin settings: free-form below this point.
			a.rest = strings.Split(path, ".")
			for _, r := range a.rest {
				if r == "" {
					return nil, errLabel(label, "empty segment in the label name")
				}
			}
			return n, nil
		}
		name, idx, _ := indexSeg(seg)
		if idx > 1000 {
			return nil, errLabel(label, "list index %d is too large", idx)
		}
		if c, ok := n.children[strings.ToLower(name)]; ok {
			n = c
		} else if n.name != nil {
			if strings.ContainsAny(name, "@`\"") {
				return nil, errLabel(label, "name %q holds a character Traefik does not allow", name)
			}
			a.names[names] = name
			n, names = n.name, names+1
		} else {
			return nil, errLabel(label, "Traefik has no setting %q here (known: %s)", seg, known(n))
		}
		if idx >= 0 {
			if n.list == nil {
				return nil, errLabel(label, "%s is not a list of sections", name)
			}
			a.idx[idxs] = idx
			n, idxs = n.list, idxs+1
		}
		if !more {
			return n, nil
		}
		path = rest
	}
}

// indexSeg splits "domains[0]" into "domains" and 0.
func indexSeg(seg string) (string, int, bool) {
	if !strings.HasSuffix(seg, "]") {
		return seg, -1, false
	}
	open := strings.LastIndexByte(seg, '[')
	if open <= 0 {
		return seg, -1, false
	}
	n, err := strconv.Atoi(seg[open+1 : len(seg)-1])
	if err != nil || n < 0 {
		return seg, -1, false
	}
	return seg[:open], n, true
}

// known lists the settings of a section, for messages.
func known(n *node) string {
	ks := make([]string, 0, len(n.children))
	for k := range n.children {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	if len(ks) > 8 {
		ks = append(ks[:8], "…")
	}
	if len(ks) == 0 {
		return "a name"
	}
	return strings.Join(ks, ", ")
}

// pruneEmptyHeaders removes the headers middlewares named in names that
// dropped labels left without any option (Traefik refuses an empty one:
// "headers configuration not valid", and would disable the routers that use
// it), and the routers' references to them: only the bad settings go.
func pruneEmptyHeaders(c *dynConfiguration, names []string) {
	if len(names) == 0 || c.http == nil {
		return
	}
	h := c.http
	gone := map[string]bool{}
	for _, name := range names {
		if m := h.middlewares.get(name); m == nil || m.headersOnlyEmpty() {
			gone[name] = true
		}
	}
	h.middlewares.keep(func(name string, _ *dynMiddleware) bool { return !gone[name] })
	for _, e := range h.routers {
		r := e.val
		if !r.middlewares.set {
			continue
		}
		kept := r.middlewares.val[:0:0]
		for _, m := range r.middlewares.val {
			if !gone[strings.TrimSuffix(m, "@rancher")] {
				kept = append(kept, m)
			}
		}
		r.middlewares = some(kept)
		if len(kept) == 0 {
			r.middlewares = optional[[]string]{}
		}
	}
}

// headersOnlyEmpty reports whether m is nothing, or no more than one
// kind of middleware besides a headers section without any option (a
// setter makes the headers section with its first option).
func (m *dynMiddleware) headersOnlyEmpty() bool {
	return m.headers == nil && m.count() <= 1
}
