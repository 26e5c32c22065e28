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
	Domain           string // default rule: Host:<service>.<stack>.<domain>
	ExposedByDefault bool   // services without traefik.enable are published
	ServiceFilter    bool   // also require an active service state
	IncludeSystem    bool   // publish services of system stacks
	Constraints      []Constraint
	HTTPS            bool // routers default to the https entry point with TLS
	ACME             bool // the acme certificate resolver exists
	// CredentialDir is where credential files go (absolute: Traefik reads
	// them); CredentialKey keys their names' digest and must be set and
	// kept secret (see credentialPath).
	CredentialDir string
	CredentialKey secrets.Secret
	// HTTPSPort is the port clients reach HTTPS on (TRAEFIK_HTTPS_PUBLIC_PORT):
	// redirects to https name it. 0 leaves the port out (the scheme's own).
	HTTPSPort int

	// backends finds the service a v1 traefik.frontend.errors.<name>.backend
	// names; Build sets it.
	backends *v1Backends
}

// Severity is what a problem cost.
type Severity int

const (
	// SeverityError: the service is left out (its routing cannot be kept:
	// a broken rule, a bad port, a bad access-control label).
	SeverityError Severity = iota
	// SeverityWarning: only the label at fault is dropped; the service is
	// published without it.
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Warning is a problem with a service's labels: the service left out
// (SeverityError), or one label dropped (SeverityWarning).
type Warning struct {
	Stack, Service string
	Label          string // the label at fault, or ""
	Msg            string
	Severity       Severity
}

func (w Warning) String() string {
	if w.Label == "" {
		return fmt.Sprintf("%s/%s: %s", w.Stack, w.Service, w.Msg)
	}
	return fmt.Sprintf("%s/%s: label %s: %s", w.Stack, w.Service, w.Label, w.Msg)
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
	label string
	err   error
	drop  bool // only the label is dropped (SeverityWarning)
}

func (e *labelError) Error() string { return e.err.Error() }

func errLabel(label, format string, args ...any) error {
	return &labelError{label: label, err: fmt.Errorf(format, args...)}
}

// warnLabel is a problem that costs the label only: it is dropped, and its
// service published without it.
func warnLabel(label, format string, args ...any) error {
	return &labelError{label: label, err: fmt.Errorf(format, args...), drop: true}
}

// Build translates every service of snap. Services are translated in
// parallel (each is independent) and merged in snapshot order, so the
// result, warnings included, is the same as a sequential build.
func Build(snap *rancher.Snapshot, o Options) Result {
	type out struct {
		frag    map[string]any
		servers map[string]int
		creds   Credentials
		dropped []*labelError
		err     error
	}
	o.backends = &v1Backends{snap: snap, o: o}
	outs := make([]out, len(snap.Services))
	parallel(len(snap.Services), func(i int) {
		s := &snap.Services[i]
		if s.System && !o.IncludeSystem {
			return
		}
		outs[i].frag, outs[i].servers, outs[i].dropped, outs[i].err = service(s, o)
		if outs[i].err == nil && outs[i].frag != nil {
			outs[i].creds, outs[i].err = extractCredentials(outs[i].frag, o)
		}
	})
	res := Result{Config: map[string]any{}, Servers: map[string]int{}, Credentials: Credentials{}}
	for i := range snap.Services {
		s, r := &snap.Services[i], outs[i]
		n := len(res.Warnings)
		res.Warnings = append(res.Warnings, labelWarnings(s.Stack, s.Name, r.dropped)...)
		err := r.err
		if err == nil && r.frag != nil {
			err = mergeChecked(res.Config, r.frag)
		}
		if err != nil {
			res.Warnings = append(res.Warnings, warnings(s.Stack, s.Name, err)...)
			sortWarnings(res.Warnings[n:])
			continue
		}
		for r, n := range r.servers {
			res.Servers[r] = n
		}
		for p, c := range r.creds {
			res.Credentials[p] = c // paths derive from middleware names, which merged unique
		}
	}
	res.Warnings = append(res.Warnings, o.backends.checkErrorPages(res.Config)...)
	return res
}

// service translates one service; a nil fragment means not published. The
// labels it dropped (SeverityWarning) come beside, published or not.
func service(s *rancher.Service, o Options) (map[string]any, map[string]int, []*labelError, error) {
	enabled, err := published(s, o)
	if !enabled || err != nil {
		return nil, nil, nil, err
	}
	if hasV2(s.Labels) {
		frag, servers, err := v2Service(s, o)
		return frag, servers, nil, err
	}
	return v1Service(s, o)
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
	return enabled && constraintsAllow(s, o.Constraints), nil
}

// hasV2 reports whether any of labels is a Traefik v2 path (isV2).
func hasV2(labels map[string]string) bool {
	for k := range labels {
		if isV2(k) {
			return true
		}
	}
	return false
}

// isV2 reports whether label is a Traefik v2 dynamic-configuration path
// (traefik.http.*, traefik.tcp.*, traefik.udp.*).
func isV2(label string) bool {
	return strings.HasPrefix(label, "traefik.http.") || strings.HasPrefix(label, "traefik.tcp.") || strings.HasPrefix(label, "traefik.udp.")
}
