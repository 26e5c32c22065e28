// Package routes turns Rancher services and their labels (Traefik v1 and
// v2/v3 dialects) into Traefik v3's dynamic configuration. It is pure: a
// snapshot and options in, a configuration tree and warnings out.
package routes

import (
	"fmt"
	"strconv"
	"strings"

	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/secrets"
)

// Options are the settings that shape every service's routes.
type Options struct {
	Domain           string       // default rule: Host:<service>.<stack>.<domain>
	ExposedByDefault bool         // services without traefik.enable are published
	ServiceFilter    bool         // also require an active service state
	IncludeSystem    bool         // publish services of system stacks
	Constraints      *Constraints // nil admits every service
	// DefaultRule is TRAEFIK_RANCHER_DEFAULT_RULE; nil is the default,
	// Host(`<service>.<stack>.<domain>`).
	DefaultRule *RuleTemplate
	// EntryPoints are the entry points of TRAEFIK_ENTRYPOINTS, beside http
	// and https: name → "tcp" or "udp".
	EntryPoints map[string]string
	HTTPS       bool // routers default to the https entry point with TLS
	ACME        bool // the acme certificate resolver exists
	// CredentialDir is where credential files go (absolute: Traefik reads
	// them); CredentialKey keys their names' digest and must be set and
	// kept secret (see credentialPath).
	CredentialDir string
	CredentialKey secrets.Secret
	// HTTPSPort is the port clients reach HTTPS on (TRAEFIK_HTTPS_PUBLIC_PORT):
	// redirects to https name it. 0 leaves the port out (the scheme's own).
	HTTPSPort int
	// DropResolver, if set, is a certificate resolver every HTTP and TCP
	// router loses (tls.certResolver=it), keeping its TLS: the publisher
	// sets it when the running Traefik lacks that resolver (resolver.go).
	DropResolver string

	// backends finds the service a v1 traefik.frontend.errors.<name>.backend
	// names; Build sets it.
	backends *v1Backends
}

// Severity says what a warning cost its service.
type Severity int

// Severities. The zero value is a service left out, so a Warning made
// without one means what it always has.
const (
	// LeftOut: the service is not published.
	LeftOut Severity = iota
	// Dropped: the service is published without what the label asked for
	// (an entry point that does not exist, a router that can use none).
	Dropped
	// Note: the service is published as the message says (a default the
	// provider chose): worth an info line, not a warning.
	Note
)

// Warning is something one of a service's labels cost it: the whole
// service (LeftOut), part of it (Dropped), or nothing (Note).
type Warning struct {
	Stack, Service string
	Label          string // the label at fault, or ""
	Msg            string
	Severity       Severity
}

func (w Warning) String() string {
	s := fmt.Sprintf("%s/%s: %s", w.Stack, w.Service, w.Msg)
	if w.Label != "" {
		s = fmt.Sprintf("%s/%s: label %s: %s", w.Stack, w.Service, w.Label, w.Msg)
	}
	return s
}

// Result is the dynamic configuration for one snapshot.
type Result struct {
	// Config is the configuration tree: nested map[string]any, lists as
	// []map[string]any or []string, ready for Encode.
	Config map[string]any
	// Servers counts, per router, the servers of its service.
	Servers  map[string]int
	Warnings []Warning
	// Credentials are the files Config refers to (label credentials moved
	// out of it): write them before publishing Config.
	Credentials Credentials
}

// labelError is a failure attributed to one label.
type labelError struct {
	label    string
	err      error
	dropOnly bool // the setting is left out, the service published (errDrop)
}

func (e *labelError) Error() string { return e.err.Error() }

func errLabel(label, format string, args ...any) error {
	return &labelError{label: label, err: fmt.Errorf(format, args...)}
}

// errDrop is a label whose setting is left out, with a warning, while its
// service stays published: a label whose loss does not change where
// traffic goes.
func errDrop(label, format string, args ...any) error {
	return &labelError{label: label, err: fmt.Errorf(format, args...), dropOnly: true}
}

// Build translates every service of snap. Services are translated in
// parallel (each is independent) and merged in snapshot order, so the
// result, warnings included, is the same as a sequential build.
func Build(snap *rancher.Snapshot, o Options) Result {
	o.backends = &v1Backends{snap: snap, o: o}
	outs := translateAll(snap, o, nil)
	res := Result{Config: map[string]any{}}
	made := sizedSections(res.Config, outs)
	var merged map[serviceKey]bool // checkErrorPages: whose references count
	res.Servers, res.Warnings, res.Credentials, merged = mergeAll(snap, outs, func(i int) error {
		return mergeChecked(res.Config, outs[i].frag)
	})
	pruneSections(res.Config, made)
	res.Warnings = append(res.Warnings, o.backends.checkErrorPages(treePages{res.Config}, merged)...)
	return res
}

// serviceOut is one service's translation, made in parallel and merged in
// snapshot order: by Build into a tree, by BuildEncoded as encoded items.
type serviceOut struct {
	frag      *fragment
	published bool // translated without error into a fragment: to merge
	servers   routerServers
	notes     []Warning
	creds     Credentials
	err       error
}

// translateAll translates every service of snap in parallel: each is
// translated (service), its credentials moved into files and o's resolver
// dropped; then then (if set) is called with its index and translation,
// on the same goroutine: what BuildEncoded does with a service's items
// while it has them.
func translateAll(snap *rancher.Snapshot, o Options, then func(i int, out *serviceOut)) []serviceOut {
	outs := make([]serviceOut, len(snap.Services))
	parallel(len(snap.Services), func(i int) {
		s, out := &snap.Services[i], &outs[i]
		if !s.System || o.IncludeSystem {
			translate(s, o, out)
		}
		if then != nil {
			then(i, out)
		}
	})
	return outs
}

// translate translates one service into out.
func translate(s *rancher.Service, o Options, out *serviceOut) {
	out.frag, out.servers, out.notes, out.err = service(s, o)
	if out.err == nil && out.frag != nil {
		out.creds, out.err = extractCredentials(out.frag, o)
	}
	if out.published = out.err == nil && out.frag != nil; out.published && o.DropResolver != "" {
		out.frag.dropResolver(o.DropResolver)
	}
}

// mergeAll merges the services' translations in snapshot order with merge
// (which adds service i's items, or fails when one of their names is
// taken) and gathers what a build returns beside them: the router's server
// counts, the warnings (a service's own sorted by label) and the
// credentials of the services merged, and which services merged.
func mergeAll(snap *rancher.Snapshot, outs []serviceOut, merge func(i int) error) (servers map[string]int, ws []Warning, creds Credentials, merged map[serviceKey]bool) {
	n := 0
	for _, r := range outs {
		if r.published {
			n += len(r.servers)
		}
	}
	servers, creds, merged = make(map[string]int, n), Credentials{}, make(map[serviceKey]bool, len(outs))
	for i := range snap.Services {
		s, r := &snap.Services[i], &outs[i]
		first := len(ws)
		for _, w := range r.notes {
			w.Stack, w.Service = s.Stack, s.Name
			ws = append(ws, w)
		}
		err := r.err
		if err == nil && r.published {
			err = merge(i)
		}
		if err != nil {
			ws = append(ws, warnings(s.Stack, s.Name, err)...)
		}
		sortedNotes(ws[first:]) // one service's, by label whatever their kind
		if err != nil {
			continue
		}
		merged[serviceKey{s.Stack, s.Name}] = true
		for _, rs := range r.servers {
			servers[rs.router] = rs.n
		}
		for p, c := range r.creds {
			creds[p] = c // paths derive from middleware names, which merged unique
		}
	}
	return servers, ws, creds, merged
}

// routerServers counts, per router of one service, the servers of its
// service (Result.Servers, once merged): a service has a router or two,
// for which a list is leaner than a map. A router named twice counts as
// the later.
type routerServers []routerCount

type routerCount struct {
	router string
	n      int
}

// set records router's count.
func (rs *routerServers) set(router string, n int) { *rs = append(*rs, routerCount{router, n}) }

// service translates one service; a nil fragment means not published.
// notes are what its labels cost it short of leaving it out.
func service(s *rancher.Service, o Options) (frag *fragment, servers routerServers, notes []Warning, err error) {
	if s.Kind != "service" && s.Kind != "externalService" {
		return nil, nil, nil, nil // load balancers, DNS services, … carry no backends of their own
	}
	if isRawmind(s.Labels) && !anyV2(s.Labels) {
		return rawmindService(s, o) // rawmind.go: translated into v1 labels, then back here
	}
	if ok, err := published(s, o); !ok || err != nil {
		return nil, nil, nil, err
	}
	return dialects(s, o)
}

// published reports whether s is to be published: a kind with backends of
// its own, traefik.enable (or ExposedByDefault), the constraints.
func published(s *rancher.Service, o Options) (bool, error) {
	switch s.Kind {
	case "service", "externalService":
	default:
		return false, nil // load balancers, DNS services, … carry no backends of their own
	}
	enabled := o.ExposedByDefault
	if v, ok := s.Labels["traefik.enable"]; ok {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return false, errLabel("traefik.enable", "%q is not true or false", v)
		}
		enabled = b
	}
	return enabled && o.Constraints.Allow(s), nil
}

// isV2 reports whether label is a Traefik v2 dynamic-configuration path
// (traefik.http.*, traefik.tcp.*, traefik.udp.*).
func isV2(label string) bool {
	return strings.HasPrefix(label, "traefik.http.") || strings.HasPrefix(label, "traefik.tcp.") || strings.HasPrefix(label, "traefik.udp.")
}
