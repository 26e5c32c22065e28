package routes

import (
	"strings"

	"rancher-traefik/internal/rancher"
)

// v2Build is the v2 dialect's build step for one service: what Traefik's
// Docker and Rancher providers filled in around the labels.
type v2Build struct {
	s     *rancher.Service
	o     Options
	c     *dynConfiguration
	addrs []string // the hosts that get traffic
	p     *problems
}

// http fills in the HTTP part the way Traefik's Docker provider does: a
// service named for the Rancher service, a router with the default rule
// (without TCP or UDP labels), the containers as servers, routers linked
// to the single service. It returns the servers of each router.
func (b *v2Build) http() routerServers {
	streams := b.c.tcp != nil || b.c.udp != nil
	var routers, services int
	if h := b.c.http; h != nil {
		routers, services = len(h.routers), len(h.services)
	}
	base := baseName(b.s)
	if services == 0 && (routers > 0 || !streams) {
		b.c.httpSec().servicesAt(base).loadBalancerSec()
	}
	if routers == 0 && !streams {
		rule, err := defaultRule(b.s, &b.o)
		if !b.p.at("traefik.http.routers."+base+".rule", err) {
			b.c.httpSec().routersAt(base).rule = some(rule)
		}
	}
	var servers routerServers
	h := b.c.http
	if h == nil {
		return servers
	}
	count := make([]int, len(h.services)) // h.services[i]'s servers
	for i, svc := range h.services {
		lb := svc.val.loadBalancerSec() // the only kind of service labels reach
		n, err := fillServers(b, &lb.servers, "http", svc.name)
		b.p.add(err)
		count[i] = n
	}
	h.routers.keep(func(name string, r *dynRouter) bool {
		if !httpEntryPoints(&r.entryPoints, b.o, name, b.p) {
			return false
		}
		if n, linked := b.router(r, h.services, count, name); linked {
			servers.set(name, n)
		}
		return true
	})
	return servers
}

// router links an HTTP router to its service and fills its rule, entry
// points and TLS; it returns the service's server count, when linked.
func (b *v2Build) router(r *dynRouter, services namedList[dynService], count []int, name string) (int, bool) {
	linked := !b.p.add(linkService(&r.service, services, "http", name))
	if !r.rule.set {
		if rule, err := defaultRule(b.s, &b.o); err != nil {
			b.p.at("traefik.http.routers."+name+".rule", err)
		} else {
			r.rule = some(rule)
		}
	}
	if r.tls != nil && r.tls.certResolver.set && r.tls.certResolver.val == "acme" && !b.o.ACME {
		b.p.add(errLabel("traefik.http.routers."+name+".tls.certresolver", "asks for acme, but TRAEFIK_ACME_ENABLE is false"))
	}
	v2RouterDefaults(r, b.o)
	if !linked {
		return 0, false
	}
	for i, svc := range services {
		if svc.name == r.service.val {
			return count[i], true
		}
	}
	return 0, true
}

// v2RouterDefaults fills an HTTP router's entry points and TLS the way the
// options say: the https entry point (or http without HTTPS), and TLS on
// https.
func v2RouterDefaults(r *dynRouter, o Options) {
	if len(r.entryPoints.val) == 0 {
		eps := []string{"http"}
		if o.HTTPS {
			eps = []string{"https"}
		}
		r.entryPoints = some(eps)
	}
	for _, ep := range r.entryPoints.val {
		if ep == "https" {
			r.tlsSec()
		}
	}
}

// streams gives TCP and UDP services the containers and links their
// routers to the single service. Routers alone get a service named for the
// Rancher service, as Traefik v2's Rancher provider gave them
// (buildTCPServiceConfiguration, buildUDPServiceConfiguration).
func (b *v2Build) streams() {
	if t := b.c.tcp; t != nil {
		if len(t.services) == 0 {
			t.servicesAt(baseName(b.s)).loadBalancerSec()
		}
		for _, svc := range t.services {
			_, err := fillServers(b, &svc.val.loadBalancerSec().servers, "tcp", svc.name)
			b.p.add(err)
		}
		t.routers.keep(func(name string, r *dynTCPRouter) bool {
			if !r.rule.set {
				b.p.add(errLabel("traefik.tcp.routers."+name+".rule", "a TCP router needs a rule (e.g. HostSNI(`*`))"))
				return true
			}
			if !streamEntryPoints(&r.entryPoints, sniRouter(r), b.o, "tcp", name, b.p) {
				return false
			}
			b.p.add(linkService(&r.service, t.services, "tcp", name))
			return true
		})
	}
	if u := b.c.udp; u != nil {
		if len(u.services) == 0 {
			u.servicesAt(baseName(b.s)).loadBalancerSec()
		}
		for _, svc := range u.services {
			_, err := fillServers(b, &svc.val.loadBalancerSec().servers, "udp", svc.name)
			b.p.add(err)
		}
		u.routers.keep(func(name string, r *dynUDPRouter) bool {
			if !streamEntryPoints(&r.entryPoints, false, b.o, "udp", name, b.p) {
				return false
			}
			b.p.add(linkService(&r.service, u.services, "udp", name))
			return true
		})
	}
}

// linkService names the single service of the labels when a router names
// none.
func linkService[S any](svc *optional[string], services namedList[S], proto, name string) error {
	if svc.set {
		svc.val = strings.TrimSuffix(strings.TrimSuffix(svc.val, "@rancher"), "@docker")
		return nil
	}
	only, ok := services.only()
	if !ok {
		return errLabel("traefik."+proto+".routers."+name+".service", "not set, and the labels define %d services: say which", len(services))
	}
	*svc = some(only)
	return nil
}

// lbServer is a server of a generated load balancer: an HTTP server (its
// url) or a TCP or UDP one (its address), with the port and scheme labels
// the provider reads.
type lbServer[T any] interface {
	*T
	target() *optional[string]
	labelPort() (port, label string)
	labelScheme() string
}

func (s *dynServer) target() *optional[string]    { return &s.url }
func (s *dynTCPServer) target() *optional[string] { return &s.address }
func (s *dynUDPServer) target() *optional[string] { return &s.address }

func (s *dynServer) labelPort() (string, string)    { return s.port, s.portLabel }
func (s *dynTCPServer) labelPort() (string, string) { return s.port, s.portLabel }
func (s *dynUDPServer) labelPort() (string, string) { return s.port, s.portLabel }

func (s *dynServer) labelScheme() string  { return s.scheme }
func (*dynTCPServer) labelScheme() string { return "" }
func (*dynUDPServer) labelScheme() string { return "" }

// fillServers makes the containers the servers of a load balancer, unless
// the labels give a server's url (or address). A weight or other server
// option given once applies to every server. It returns the servers'
// count.
func fillServers[T any, P lbServer[T]](b *v2Build, servers *[]T, proto, name string) (int, error) {
	list := *servers
	if len(list) > 1 || len(list) == 1 && P(&list[0]).target().set {
		return len(list), nil
	}
	// The one server the labels describe (its port, scheme, weight, …) is
	// the template of every server; read through list, not a copy, which
	// the generic calls would move to the heap.
	var portValue, portLabel, scheme string
	if len(list) == 1 {
		portValue, portLabel = P(&list[0]).labelPort()
		scheme = P(&list[0]).labelScheme()
	}
	var port string
	var err error
	if portValue != "" {
		port, err = checkPort(portLabel, portValue)
	} else {
		port, err = v2DefaultPort(b.s, "traefik."+proto+".services."+name+".loadbalancer.server.port", b.p)
	}
	if err != nil {
		return 0, err
	}
	if scheme == "" {
		scheme = "http"
	}
	out := make([]T, len(b.addrs))
	for i, a := range b.addrs {
		if len(list) == 1 {
			out[i] = list[0]
		}
		var addr string
		if proto == "http" {
			addr = serverURL(scheme, a, port)
		} else {
			addr = hostPort(a, port)
		}
		*P(&out[i]).target() = some(addr)
	}
	*servers = out
	return len(out), nil
}
