package routes

import (
	"sort"
	"strings"
	"sync"

	"rancher-traefik/internal/rancher"
)

// v1Value is one label's decoded value, or its problem. The problem is
// reported when the builder reads the value (read): Traefik v1 read some
// labels only when others asked for them (the first of two alternatives,
// auth options beside users), and a label it never read does not cost a
// service here either.
type v1Value[T any] struct {
	label string // the label that gave the value; "" when not set
	val   T
	err   error
}

// read returns v's value and whether it is set and good; a problem is
// recorded in p.
func read[T any](p *problems, v v1Value[T]) (T, bool) {
	if v.label == "" {
		return v.val, false
	}
	if v.err != nil {
		p.add(v.err)
		return v.val, false
	}
	return v.val, true
}

// v1Frontend is one frontend's labels decoded (the root labels, or a
// segment's over them), each field set by one row of v1Labels.
type v1Frontend struct {
	port, protocol                     v1Value[string]
	weight                             v1Value[int64]
	acme                               v1Value[bool]
	rule                               v1Value[*v1Rule]
	entryPoints                        v1Value[[]string]
	middlewares                        v1Value[[]string]
	priority                           v1Value[int64]
	passHostHeader                     v1Value[bool]
	redirectEntryPoint                 v1Value[string]
	redirectRegex, redirectReplacement v1Value[string]
	redirectPermanent                  v1Value[bool]
	sslRedirect, sslTemporaryRedirect  v1Value[bool]
	auth                               v1AuthLabels
	whiteList, whiteListOld            v1Value[[]string]
	headers                            []v1Value[func(*headers)]
	lbMethod                           v1Value[string]
	sticky, stickiness                 v1Value[bool]
	cookieName                         v1Value[string]
	hcPath, hcInterval                 v1Value[string]
	hcPort                             v1Value[int64]
	x                                  *v1More // the rarer labels, when any is set
}

// v1AuthLabels are the traefik.frontend.auth.* labels.
type v1AuthLabels struct {
	basicLegacy, basicUsers, basicFile, realm v1Value[string]
	digestUsers, digestFile                   v1Value[string]
	headerField                               v1Value[string]
	removeHeader                              v1Value[bool] // basic or digest
	basicRemoveHeader, digestRemoveHeader     v1Value[bool]
}

// v1Raw is the labels of the root or of one segment: key (lower case,
// without traefik.[segment.]) → the row, the label's name and its value.
type v1Raw map[string]v1RawLabel

type v1RawLabel struct {
	row          *v1Label
	label, value string
}

// decode runs each label's handler into f, which it clears first.
func (r v1Raw) decode(f *v1Frontend) *v1Frontend {
	*f = v1Frontend{}
	for _, l := range r {
		if l.row.decode != nil {
			l.row.decode(f, l.label, l.value)
		}
	}
	return f
}

// v1Frontends recycles decoded frontends: one is about 1.5 kB, and the
// handlers, called through the table, make it escape to the heap.
var v1Frontends = sync.Pool{New: func() any { return new(v1Frontend) }}

// splitV1 sorts a service's traefik.* labels into the root's and each
// segment's (traefik.<segment>.port, traefik.<segment>.frontend.rule, …),
// and records the labels that are not Traefik v1 labels rancher-traefik
// translates.
func splitV1(s *rancher.Service, p *problems) (root v1Raw, segments map[string]v1Raw) {
	root = v1Raw{}
	var buf [16]string // a service's labels, usually: on the stack
	keys := buf[:0]
	for k := range s.Labels {
		if strings.HasPrefix(k, "traefik.") && !isV2(k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys) // of two labels differing in case, the last wins
	for _, label := range keys {
		rest := strings.ToLower(strings.TrimPrefix(label, "traefik."))
		first, after, _ := strings.Cut(rest, ".")
		if v1Roots[first] {
			row := v1Row(label, rest, p)
			if row != nil && !row.rootOnly {
				root[rest] = v1RawLabel{row, label, s.Labels[label]}
			}
			continue
		}
		row := v1Row(label, after, p)
		if row == nil {
			continue
		}
		if row.rootOnly {
			p.add(errDrop(label, "is read on the service only, not in a segment: ignored"))
			continue
		}
		if segments == nil {
			segments = map[string]v1Raw{}
		}
		if segments[first] == nil {
			segments[first] = v1Raw{}
		}
		segments[first][after] = v1RawLabel{row, label, s.Labels[label]}
	}
	return root, segments
}

// v1Roots are the label names directly under traefik. that are not segments.
var v1Roots = map[string]bool{"enable": true, "tags": true, "port": true, "protocol": true, "weight": true, "domain": true, "acme": true, "frontend": true, "backend": true, "docker": true}

// v1Row is the row of v1Labels for key, or nil with the label's problem
// recorded. A label that is not Traefik v1.7's is dropped with a warning
// (Traefik v1.7 ignored it) and its service stays.
func v1Row(label, key string, p *problems) *v1Label {
	if row, ok := v1LabelIndex[key]; ok {
		return row
	}
	if row, ok := v1LabelIndex[v1PatternKey(key)]; ok {
		return row
	}
	if strings.HasPrefix(key, "frontend.headers.") {
		p.add(errDrop(label, "is not a Traefik v1 header option: ignored"))
	} else {
		p.add(errDrop(label, "is not a Traefik v1 label: ignored"))
	}
	return nil
}

// v1PatternKey is the table key of a label with a name of the user's in
// it: frontend.errors.<name>.<option>, frontend.ratelimit.rateset.<name>.<option>;
// "" for other keys.
func v1PatternKey(key string) string {
	for _, prefix := range []string{"frontend.errors.", "frontend.ratelimit.rateset."} {
		rest, ok := strings.CutPrefix(key, prefix)
		if !ok {
			continue
		}
		name, option, ok := strings.Cut(rest, ".")
		if !ok || name == "" || strings.Contains(option, ".") {
			return ""
		}
		return prefix + "<name>." + option
	}
	return ""
}

// over is the segment's labels over the root's.
func (r v1Raw) over(root v1Raw) v1Raw {
	f := make(v1Raw, len(root)+len(r))
	for k, v := range root {
		f[k] = v
	}
	for k, v := range r {
		f[k] = v
	}
	return f
}
