// Package routes turns Rancher services and their labels (Traefik v1 and
// v2/v3 dialects) into Traefik v3's dynamic configuration. It is pure: a
// snapshot and options in, a configuration tree and warnings out.
package routes

import (
	"fmt"
	"sort"
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
}

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

// Warning is a service left out because of one of its labels.
type Warning struct {
	Stack, Service string
	Label          string // the label at fault, or ""
	Msg            string
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
}

func (e *labelError) Error() string { return e.err.Error() }

func errLabel(label, format string, args ...any) error {
	return &labelError{label: label, err: fmt.Errorf(format, args...)}
}

// Build translates every service of snap. Services are translated in
// parallel (each is independent) and merged in snapshot order, so the
// result, warnings included, is the same as a sequential build.
func Build(snap *rancher.Snapshot, o Options) Result {
	type out struct {
		frag    map[string]any
		servers map[string]int
		creds   Credentials
		err     error
	}
	outs := make([]out, len(snap.Services))
	parallel(len(snap.Services), func(i int) {
		s := &snap.Services[i]
		if s.System && !o.IncludeSystem {
			return
		}
		outs[i].frag, outs[i].servers, outs[i].err = service(s, o)
		if outs[i].err == nil && outs[i].frag != nil {
			outs[i].creds, outs[i].err = extractCredentials(outs[i].frag, o)
		}
	})
	res := Result{Config: map[string]any{}, Servers: map[string]int{}, Credentials: Credentials{}}
	for i := range snap.Services {
		s, r := &snap.Services[i], outs[i]
		err := r.err
		if err == nil && r.frag != nil {
			err = mergeChecked(res.Config, r.frag)
		}
		if err != nil {
			res.Warnings = append(res.Warnings, warnings(s.Stack, s.Name, err)...)
			continue
		}
		for r, n := range r.servers {
			res.Servers[r] = n
		}
		for p, c := range r.creds {
			res.Credentials[p] = c // paths derive from middleware names, which merged unique
		}
	}
	return res
}

// service translates one service; a nil fragment means not published.
func service(s *rancher.Service, o Options) (map[string]any, map[string]int, error) {
	switch s.Kind {
	case "service", "externalService":
	default:
		return nil, nil, nil // load balancers, DNS services, … carry no backends of their own
	}
	enabled := o.ExposedByDefault
	if v, ok := s.Labels["traefik.enable"]; ok {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return nil, nil, errLabel("traefik.enable", "%q is not true or false", v)
		}
		enabled = b
	}
	if !enabled || !constraintsAllow(s, o.Constraints) {
		return nil, nil, nil
	}
	if hasV2(s.Labels) {
		return v2Service(s, o)
	}
	return v1Service(s, o)
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

// safeName replaces every run of characters other than letters, digits, _
// and - with one -.
func safeName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	dash := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') {
			b.WriteByte(c)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return b.String()
}

// baseName is <service>-<stack>, unique across stacks.
func baseName(s *rancher.Service) string { return safeName(s.Name + "-" + s.Stack) }

// addresses are the hosts that get traffic: eligible containers' primary
// IPs, or an external service's IPs or hostname.
func addresses(s *rancher.Service, o Options) []string {
	if o.ServiceFilter && !rancher.ActiveServiceStates[s.State] {
		return nil
	}
	if s.Kind == "externalService" {
		if len(s.ExternalIPs) > 0 {
			return s.ExternalIPs
		}
		if s.Hostname != "" {
			return []string{s.Hostname}
		}
		return nil
	}
	var out []string
	for _, c := range s.Containers {
		if c.Eligible() {
			out = append(out, c.PrimaryIP)
		}
	}
	return out
}

// exposedPorts are the distinct private ports of the service (or of its
// containers): "8080:80/tcp", "0.0.0.0:8080:80/tcp" and "80/tcp" all give 80.
func exposedPorts(s *rancher.Service) []string {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		p, _, _ = strings.Cut(p, "/")
		if i := strings.LastIndex(p, ":"); i >= 0 {
			p = p[i+1:]
		}
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, p := range s.Ports {
		add(p)
	}
	if len(out) == 0 {
		for _, c := range s.Containers {
			for _, p := range c.Ports {
				add(p)
			}
		}
	}
	sort.Strings(out)
	return out
}

// checkPort validates a port label value.
func checkPort(label, v string) (string, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > 65535 {
		return "", errLabel(label, "%q is not a port number (1-65535)", v)
	}
	return strconv.Itoa(n), nil
}

// defaultPort is the single exposed port, when there is exactly one.
func defaultPort(s *rancher.Service, label string) (string, error) {
	ps := exposedPorts(s)
	if len(ps) == 1 {
		return ps[0], nil
	}
	if len(ps) == 0 {
		return "", errLabel(label, "not set, and the service exposes no port to default to")
	}
	return "", errLabel(label, "not set, and the service exposes %d ports (%s): say which", len(ps), strings.Join(ps, ", "))
}

// defaultRule is Host(`<service>.<stack>.<domain>`).
func defaultRule(s *rancher.Service, domain string) (string, error) {
	if d, ok := s.Labels["traefik.domain"]; ok && strings.TrimSpace(d) != "" {
		domain = strings.Trim(strings.TrimSpace(d), ".")
	}
	if domain == "" {
		return "", errLabel("traefik.frontend.rule", "no rule, and no domain (TRAEFIK_RANCHER_DOMAIN or traefik.domain) to make the default Host:<service>.<stack>.<domain>")
	}
	host := strings.ToLower(s.Name + "." + s.Stack + "." + domain)
	if strings.ContainsAny(host, "`") {
		return "", errLabel("traefik.domain", "the default host %q holds a backtick", host)
	}
	return "Host(`" + host + "`)", nil
}

// routerDefaults fills entry points and TLS the way the options say.
func routerDefaults(router map[string]any, o Options) {
	eps, ok := router["entryPoints"].([]string)
	if !ok || len(eps) == 0 {
		eps = []string{"http"}
		if o.HTTPS {
			eps = []string{"https"}
		}
		router["entryPoints"] = eps
	}
	for _, ep := range eps {
		if ep == "https" {
			if _, ok := router["tls"]; !ok {
				router["tls"] = map[string]any{}
			}
		}
	}
}
