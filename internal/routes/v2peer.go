package routes

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"rancher-traefik/internal/rancher"
)

// What Traefik v2.11's Rancher provider did with traefik.http/tcp/udp.*
// labels that rancher-traefik, publishing through Traefik v3's file
// provider, must do itself (pkg/provider/rancher/{rancher,config}.go;
// docs: providers/rancher.md, routing/providers/rancher.md).

// referenceLabels are the schema paths whose values name routers' services
// or middlewares: their name@rancher references are rewritten (localRefs).
var referenceLabels = []string{
	"http.routers.*.service", "http.routers.*.middlewares",
	"http.middlewares.*.chain.middlewares", "http.middlewares.*.errors.service",
	"tcp.routers.*.service", "tcp.routers.*.middlewares", "udp.routers.*.service",
}

// localRefs rewrites references to what rancher-traefik publishes. Traefik
// v2's Rancher provider published every service's routers, services and
// middlewares in one namespace, name@rancher from elsewhere; rancher-traefik
// publishes them under the same names through the file provider, where the
// bare name is the same object (name@file would be too). name@docker,
// which users of Traefik's Docker labels write, is read the same way; other
// providers' names (api@internal, own@file) are left as they are.
func localRefs(names []string) []string {
	out := make([]string, len(names))
	for i, r := range names {
		out[i] = localRef(r)
	}
	return out
}

func localRef(name string) string {
	if base, ok := strings.CutSuffix(name, "@rancher"); ok {
		return base
	}
	if base, ok := strings.CutSuffix(name, "@docker"); ok {
		return base
	}
	return name
}

// entryPoint resolves an entry point name a label gives. web and websecure,
// the names of Traefik v2's documentation and of its users' labels, are
// http and https. proto is "http" for http and https, else the protocol of
// a TRAEFIK_ENTRYPOINTS entry point ("tcp" or "udp"); ok is false when the
// entry point does not exist (https without TRAEFIK_HTTPS_ENABLE; traefik,
// the admin entry point, is not one routers may use).
func (o *Options) entryPoint(name string) (canonical, proto string, ok bool) {
	switch name {
	case "web":
		name = "http"
	case "websecure":
		name = "https"
	}
	switch name {
	case "http":
		return name, "http", true
	case "https":
		return name, "http", o.HTTPS
	}
	proto, ok = o.EntryPoints[name]
	return name, proto, ok
}

// entryPointNames lists the entry points routers of proto may use, for
// messages.
func (o *Options) entryPointNames(proto string) string {
	var names []string
	if proto == "http" {
		names = append(names, "http (web)")
		if o.HTTPS {
			names = append(names, "https (websecure)")
		}
	}
	var extra []string
	for n, p := range o.EntryPoints {
		if p == proto || proto == "http" && p == "tcp" {
			extra = append(extra, n)
		}
	}
	sort.Strings(extra)
	names = append(names, extra...)
	return strings.Join(names, ", ")
}

// httpEntryPoints resolves an HTTP router's entry points: aliases become
// http and https, and one that does not exist (or serves UDP) is left out
// of the router with a warning, as Traefik v1.7 skipped an unknown entry
// point. It reports false when none is left: the router is dropped, the
// service's other routers stay. No entry points label: the defaults
// (v2RouterDefaults).
func httpEntryPoints(eps *optional[[]string], o Options, router string, p *problems) bool {
	if len(eps.val) == 0 {
		return true
	}
	label := "traefik.http.routers." + router + ".entrypoints"
	kept := make([]string, 0, len(eps.val))
	var reasons []string
	for _, ep := range eps.val {
		name, proto, ok := o.entryPoint(ep)
		switch {
		case !ok:
			reasons = append(reasons, fmt.Sprintf("entry point %q does not exist", ep))
		case proto == "udp":
			reasons = append(reasons, fmt.Sprintf("entry point %q serves UDP", ep))
		case !slices.Contains(kept, name):
			kept = append(kept, name)
		}
	}
	return keepEntryPoints(eps, kept, reasons, label, router, o.entryPointNames("http"), p)
}

// keepEntryPoints sets the entry points kept, with a warning for each
// left out, or reports false, with one warning, when none is left.
func keepEntryPoints(eps *optional[[]string], kept, reasons []string, label, router, usable string, p *problems) bool {
	if len(kept) == 0 {
		p.note(Dropped, label, "%s (usable: %s): router %s is not published", strings.Join(reasons, "; "), usable, router)
		return false
	}
	for _, why := range reasons {
		p.note(Dropped, label, "%s, and is left out of the router (usable: %s)", why, usable)
	}
	*eps = some(kept)
	return true
}

// streamEntryPoints resolves a TCP or UDP router's entry points. A UDP
// router uses TRAEFIK_ENTRYPOINTS' /udp entry points; a TCP router their
// /tcp ones, and https when it has TLS and matches names (a HostSNI other
// than *): on http, or with HostSNI(`*`), it would take every connection
// from the HTTP routers of all services. Without the label, a router gets
// every entry point of its protocol from TRAEFIK_ENTRYPOINTS (Traefik's
// default is all entry points, http and https included), or, when there is
// none, a TCP router that can share https gets https. It reports false
// when none is left: the router is dropped with a warning.
func streamEntryPoints(r *optional[[]string], sni bool, o Options, proto, router string, p *problems) bool {
	label := "traefik." + proto + ".routers." + router + ".entrypoints"
	eps := r.val
	if len(eps) == 0 {
		eps = nil
		for n, ep := range o.EntryPoints {
			if ep == proto {
				eps = append(eps, n)
			}
		}
		if len(eps) == 0 && proto == "tcp" && o.HTTPS && sni {
			eps = []string{"https"} // where Traefik's default, every entry point, served it
		}
		if len(eps) == 0 {
			p.note(Dropped, label, "not set, and TRAEFIK_ENTRYPOINTS declares no %s entry point: router %s is not published (declare one with TRAEFIK_ENTRYPOINTS=name:port/%s)", strings.ToUpper(proto), router, proto)
			return false
		}
		sort.Strings(eps)
		*r = some(eps)
		return true
	}
	kept := make([]string, 0, len(eps))
	var reasons []string
	for _, ep := range eps {
		name, epProto, ok := o.entryPoint(ep)
		switch {
		case !ok:
			reasons = append(reasons, fmt.Sprintf("entry point %q does not exist", ep))
		case epProto == proto || proto == "tcp" && name == "https" && sni:
			if !slices.Contains(kept, name) {
				kept = append(kept, name)
			}
		default:
			reasons = append(reasons, fmt.Sprintf("entry point %q is not one a %s router can use", ep, strings.ToUpper(proto)))
		}
	}
	return keepEntryPoints(r, kept, reasons, label, router, o.streamEntryPointNames(proto), p)
}

// streamEntryPointNames says which entry points routers of proto can use.
func (o *Options) streamEntryPointNames(proto string) string {
	var names []string
	for n, p := range o.EntryPoints {
		if p == proto {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	s := "none: declare one with TRAEFIK_ENTRYPOINTS=name:port/" + proto
	if len(names) > 0 {
		s = strings.Join(names, ", ")
	}
	if proto == "tcp" && o.HTTPS {
		s += "; https for a router with TLS and a HostSNI other than *"
	}
	return s
}

// sniRouter reports whether a TCP router terminates or passes TLS and
// matches server names, so it can share https with the HTTP routers.
func sniRouter(r *dynTCPRouter) bool {
	if r.tls == nil {
		return false
	}
	compact := strings.Join(strings.Fields(r.rule.val), "")
	return strings.Contains(compact, "HostSNI(") && !strings.Contains(compact, "HostSNI(`*`)") && !strings.Contains(compact, `HostSNI("*")`)
}

// declaredPorts are the service's private ports in the order Rancher lists
// them (the service's, else its first container's that has any).
func declaredPorts(s *rancher.Service) []string {
	list := s.Ports
	if len(list) == 0 {
		for _, c := range s.Containers {
			if len(c.Ports) > 0 {
				list = c.Ports
				break
			}
		}
	}
	var out []string
	for _, p := range list {
		p, _, _ = strings.Cut(p, "/")
		if i := strings.LastIndex(p, ":"); i >= 0 {
			p = p[i+1:]
		}
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// v2DefaultPort is the port of a v2 service without a port label: the
// single exposed port, or, when the service exposes several, the first
// declared, as Traefik v2's Rancher provider took service.Ports[0]
// (parseMetadataSourcedRancherData), said at info level.
func v2DefaultPort(s *rancher.Service, label string, p *problems) (string, error) {
	port, err := defaultPort(s, label)
	if err == nil {
		return port, nil
	}
	ps := declaredPorts(s)
	if len(ps) < 2 {
		return "", err
	}
	if _, err := checkPort(label, ps[0]); err != nil {
		return "", err
	}
	p.note(Note, label, "not set, and the service exposes %d ports (%s): using the first declared, %s, as Traefik v2's Rancher provider did; set the label to choose another", len(ps), strings.Join(ps, ", "), ps[0])
	return ps[0], nil
}
