package app

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/routes"
)

// Explain prints, for every service of one snapshot (read as routes reads
// it: oneSnapshot), or for those only names (STACK/SERVICE, or STACK),
// whether it is published and why, its containers and whether each gets
// traffic, the routers, services and middlewares it produced, and every
// problem Build reported for it. Label values that can be credentials never
// print: middlewares show their option names only, and server URLs lose
// any user:password.
func (a *App) Explain(ctx context.Context, metadataURL, answers, only string) error {
	snap, opts, from, err := a.oneSnapshot(ctx, metadataURL, answers)
	if err != nil {
		return err
	}
	chosen, err := selectServices(snap, only)
	if err != nil {
		return err
	}
	full := routes.Build(snap, opts)
	w := &errWriter{w: a.Stdout}
	fmt.Fprintf(w, "snapshot %s from %s: %d services\n", snap.Version, from, len(snap.Services))
	for _, s := range chosen {
		fmt.Fprintln(w)
		explainService(w, snap.Version, s, opts, full)
	}
	return w.err
}

// selectServices are the services only names: all of them when it is "",
// the one STACK/SERVICE, or every service of STACK (names compared as
// Rancher does, without case).
func selectServices(snap *rancher.Snapshot, only string) ([]*rancher.Service, error) {
	var out []*rancher.Service
	for i := range snap.Services {
		s := &snap.Services[i]
		if only == "" || strings.EqualFold(s.Key(), only) || !strings.Contains(only, "/") && strings.EqualFold(s.Stack, only) {
			out = append(out, s)
		}
	}
	if len(out) == 0 && only != "" {
		return nil, fmt.Errorf("no service %q in the snapshot (it has %d services; name one as STACK/SERVICE, or a STACK)", only, len(snap.Services))
	}
	return out, nil
}

// explainService prints one service: its verdict, containers, the
// configuration it produced and its warnings.
func explainService(w io.Writer, version string, s *rancher.Service, o routes.Options, full routes.Result) {
	own := routes.Build(&rancher.Snapshot{Version: version, Services: []rancher.Service{*s}}, o)
	var problems []routes.Warning
	for _, wn := range full.Warnings {
		if wn.Stack == s.Stack && wn.Service == s.Name {
			problems = append(problems, wn)
		}
	}
	why := routes.Exclusion(s, o)
	fmt.Fprintf(w, "%s (%s, %s labels): %s\n", s.Key(), s.Kind, routes.Dialect(s.Labels), verdict(why, s, o, own, full, problems))
	explainBackends(w, s, o)
	if why == "" {
		explainConfig(w, own.Config)
	}
	for _, p := range problems {
		fmt.Fprintf(w, "  %s%s\n", severityPrefix(p.Severity), strings.TrimPrefix(p.String(), s.Key()+": "))
	}
}

// verdict is published or not, and why.
func verdict(why string, s *rancher.Service, o routes.Options, own, full routes.Result, problems []routes.Warning) string {
	switch {
	case why != "":
		return "not published: " + why
	case len(own.Config) == 0:
		return "not published: its labels cannot be translated (warnings below)"
	case !within(own.Config, full.Config):
		return "not published: a name it needs is taken by another service (warnings below)"
	}
	empty := []string{}
	for _, r := range slices.Sorted(maps.Keys(own.Servers)) {
		if own.Servers[r] == 0 {
			empty = append(empty, r)
		}
	}
	published := "published"
	for _, p := range problems {
		if p.Severity == routes.Dropped {
			published = "published without what some labels asked for (dropped, below)"
			break
		}
	}
	if len(empty) == 0 {
		return published
	}
	reason := "no eligible container (see below)"
	if o.ServiceFilter && !rancher.ActiveServiceStates[s.State] {
		reason = fmt.Sprintf("the service's state %q is not active (TRAEFIK_RANCHER_HEALTHCHECK)", s.State)
	}
	return fmt.Sprintf("%s, but %s has no server: %s; requests get 503", published, strings.Join(empty, ", "), reason)
}

// within reports whether every router, service and middleware of frag is
// in cfg as frag has it (not another service's of the same name).
func within(frag, cfg map[string]any) bool {
	for proto, pv := range frag {
		for section, sv := range pv.(map[string]any) {
			for name, v := range sv.(map[string]any) {
				got, _ := dig(cfg, proto, section)[name]
				if !reflect.DeepEqual(got, v) {
					return false
				}
			}
		}
	}
	return true
}

// dig follows keys through nested maps; nil when one is missing.
func dig(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		m, _ = m[k].(map[string]any)
	}
	return m
}

// explainBackends prints where traffic would go: each container and
// whether it gets traffic, or an external service's addresses.
func explainBackends(w io.Writer, s *rancher.Service, o routes.Options) {
	if s.Kind == "externalService" {
		addrs := append(slices.Clone(s.ExternalIPs), s.Hostname)
		fmt.Fprintf(w, "  external: %s\n", strings.Join(slices.DeleteFunc(addrs, func(a string) bool { return a == "" }), ", "))
		return
	}
	if len(s.Containers) == 0 {
		fmt.Fprintln(w, "  containers: none")
		return
	}
	for _, c := range s.Containers {
		fmt.Fprintf(w, "  container %s %s: state %s, health %s: %s\n", or(c.Name, "(no name)"), or(c.PrimaryIP, "(no IP)"),
			or(c.State, "(not reported)"), or(c.HealthState, "(no health check)"), traffic(&c))
	}
}

// traffic says whether a container gets traffic (when its service is
// published), and why not.
func traffic(c *rancher.Container) string {
	switch {
	case c.Eligible():
		return "eligible"
	case c.PrimaryIP == "":
		return "not eligible (no IP address yet)"
	case !rancher.ServingStates[c.State]:
		return "not eligible (not running)"
	}
	return "not eligible (not healthy)"
}

func or(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

// errWriter keeps the first write error, so the printing stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	_, e.err = e.w.Write(p)
	return len(p), nil
}

// redactServer is a server's URL or address without user:password.
func redactServer(v string) string {
	if !strings.Contains(v, "@") {
		return v
	}
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return "(an address holding @, not shown)"
	}
	u.User = url.User("[redacted]")
	return u.String()
}
