package routes

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"rancher-traefik/internal/rancher"
)

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

// labelOnly are values the provider reads (a server's port and scheme),
// per protocol and service name.
type labelOnly struct {
	port, scheme string
	portLabel    string
}

// v2Service reads traefik.http.*, traefik.tcp.* and traefik.udp.* labels as
// dynamic-configuration paths, checked against Traefik's schema, and fills
// in what Traefik's Docker provider would: a router with the default rule,
// a service with the containers as servers, a router linked to the single
// service, the port from the single exposed port. Every bad label of the
// service is reported, not only the first.
func v2Service(s *rancher.Service, o Options) (map[string]any, map[string]int, []Warning, error) {
	var p problems
	frag, extra := decodeV2(s, &p)
	addrs := addresses(s, o)
	servers := buildV2HTTP(s, o, frag, extra, addrs, &p)
	buildV2Streams(s, o, frag, extra, addrs, &p)
	notes := p.warnings()
	if err := p.err(); err != nil {
		return nil, nil, notes, err
	}
	return frag, servers, notes, nil
}

// decodeV2 sets each traefik.http/tcp/udp.* label at its path, checked
// against Traefik's schema; label-only values (a server's port and scheme)
// go to extra: proto → service → values.
func decodeV2(s *rancher.Service, p *problems) (frag map[string]any, extra map[string]map[string]*labelOnly) {
	frag = map[string]any{}
	extra = map[string]map[string]*labelOnly{}
	keys := make([]string, 0, len(s.Labels))
	for k := range s.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var droppedHeaders []string
	defer func() { pruneEmptyHeaders(frag, droppedHeaders) }()
	for _, label := range keys {
		if !isV2(label) {
			continue
		}
		if isV2HeaderLabel(label) && p.add(checkHeaderValue(label, s.Labels[label])) {
			droppedHeaders = append(droppedHeaders, strings.Split(label, ".")[3])
			continue
		}
		p.add(setLabel(frag, extra, label, s.Labels[label]))
	}
	return frag, extra
}

// buildV2HTTP fills in the HTTP part the way Traefik's Docker provider
// does, and returns the servers of each router.
func buildV2HTTP(s *rancher.Service, o Options, frag map[string]any, extra map[string]map[string]*labelOnly, addrs []string, p *problems) map[string]int {
	base := baseName(s)
	servers := map[string]int{}
	// Docker provider defaults.
	httpCfg := sub(frag, "http")
	routers := sub(httpCfg, "routers")
	services := sub(httpCfg, "services")
	_, tcpUsed := frag["tcp"]
	_, udpUsed := frag["udp"]
	if len(services) == 0 && (len(routers) > 0 || (!tcpUsed && !udpUsed)) {
		services[base] = map[string]any{"loadBalancer": map[string]any{}}
	}
	if len(routers) == 0 && !tcpUsed && !udpUsed {
		rule, err := defaultRule(s, &o)
		if !p.at("traefik.http.routers."+base+".rule", err) {
			routers[base] = map[string]any{"rule": rule}
		}
	}
	count := map[string]int{}
	for name, sv := range services {
		svc := sv.(map[string]any)
		lb, ok := svc["loadBalancer"].(map[string]any)
		if !ok {
			if len(svc) == 0 {
				lb = map[string]any{}
				svc["loadBalancer"] = lb
			} else {
				continue // weighted, mirroring…: not filled from containers
			}
		}
		n, err := fillServers(s, lb, extra["http"][name], addrs, "http", name, p)
		p.add(err)
		count[name] = n
	}
	for name, rv := range routers {
		if !httpEntryPoints(rv.(map[string]any), o, name, p) {
			delete(routers, name)
			continue
		}
		if n, linked := v2Router(s, o, rv.(map[string]any), services, count, name, p); linked {
			servers[name] = n
		}
	}
	if len(routers) == 0 {
		delete(httpCfg, "routers")
	}
	if len(services) == 0 {
		delete(httpCfg, "services")
	}
	if len(httpCfg) == 0 {
		delete(frag, "http")
	}

	return servers
}

// v2Router links a router to its service and fills its rule, entry points
// and TLS; it returns the service's server count, when linked.
func v2Router(s *rancher.Service, o Options, r map[string]any, services map[string]any, count map[string]int, name string, p *problems) (int, bool) {
	linked := !p.add(linkService(r, services, "http", name))
	if _, ok := r["rule"]; !ok {
		if rule, err := defaultRule(s, &o); err != nil {
			p.at("traefik.http.routers."+name+".rule", err)
		} else {
			r["rule"] = rule
		}
	}
	if tls, ok := r["tls"].(map[string]any); ok {
		if cr, ok := tls["certResolver"].(string); ok && cr == "acme" && !o.ACME {
			p.add(errLabel("traefik.http.routers."+name+".tls.certresolver", "asks for acme, but TRAEFIK_ACME_ENABLE is false"))
		}
	}
	routerDefaults(r, o)
	if !linked {
		return 0, false
	}
	return count[r["service"].(string)], true
}

// buildV2Streams gives TCP and UDP services the containers and links their
// routers to the single service.
func buildV2Streams(s *rancher.Service, o Options, frag map[string]any, extra map[string]map[string]*labelOnly, addrs []string, p *problems) {
	for _, proto := range []string{"tcp", "udp"} {
		pc, ok := frag[proto].(map[string]any)
		if !ok {
			continue
		}
		psvcs, _ := pc["services"].(map[string]any)
		if len(psvcs) == 0 {
			// Routers alone get a service named for the Rancher service,
			// as Traefik v2's Rancher provider gave them
			// (buildTCPServiceConfiguration, buildUDPServiceConfiguration).
			psvcs = map[string]any{baseName(s): map[string]any{"loadBalancer": map[string]any{}}}
			pc["services"] = psvcs
		}
		for name, sv := range psvcs {
			lb, ok := sv.(map[string]any)["loadBalancer"].(map[string]any)
			if !ok {
				continue
			}
			_, err := fillServers(s, lb, extra[proto][name], addrs, proto, name, p)
			p.add(err)
		}
		if prs, ok := pc["routers"].(map[string]any); ok {
			for name, rv := range prs {
				r := rv.(map[string]any)
				if proto == "tcp" {
					if _, ok := r["rule"]; !ok {
						p.add(errLabel("traefik.tcp.routers."+name+".rule", "a TCP router needs a rule (e.g. HostSNI(`*`))"))
						continue
					}
				}
				if !streamEntryPoints(r, o, proto, name, p) {
					delete(prs, name)
					continue
				}
				p.add(linkService(r, psvcs, proto, name))
			}
			if len(prs) == 0 {
				delete(pc, "routers")
			}
		}
	}
}

// linkService names the single service of the labels when a router names none.
func linkService(r map[string]any, services map[string]any, proto, name string) error {
	if svc, ok := r["service"].(string); ok {
		r["service"] = strings.TrimSuffix(strings.TrimSuffix(svc, "@rancher"), "@docker")
		return nil
	}
	if len(services) != 1 {
		return errLabel("traefik."+proto+".routers."+name+".service", "not set, and the labels define %d services: say which", len(services))
	}
	for s := range services {
		r["service"] = s
	}
	return nil
}

// fillServers adds the containers as servers of a load balancer, unless the
// labels already list servers.
func fillServers(s *rancher.Service, lb map[string]any, lo *labelOnly, addrs []string, proto, name string, p *problems) (int, error) {
	if existing, ok := lb["servers"].([]map[string]any); ok {
		if len(existing) > 1 || (len(existing) == 1 && (existing[0]["url"] != nil || existing[0]["address"] != nil)) {
			return len(existing), nil
		}
	}
	var port, scheme string
	var err error
	if lo != nil && lo.port != "" {
		if port, err = checkPort(lo.portLabel, lo.port); err != nil {
			return 0, err
		}
	} else if port, err = v2DefaultPort(s, "traefik."+proto+".services."+name+".loadbalancer.server.port", p); err != nil {
		return 0, err
	}
	scheme = "http"
	if lo != nil && lo.scheme != "" {
		scheme = lo.scheme
	}
	// A weight or other server option given once applies to every server.
	var template map[string]any
	if existing, ok := lb["servers"].([]map[string]any); ok && len(existing) == 1 {
		template = existing[0]
	}
	list := make([]map[string]any, 0, len(addrs))
	for _, a := range addrs {
		srv := map[string]any{}
		for k, v := range template {
			srv[k] = v
		}
		if proto == "http" {
			srv["url"] = scheme + "://" + hostPort(a, port)
		} else {
			srv["address"] = hostPort(a, port)
		}
		list = append(list, srv)
	}
	lb["servers"] = list
	return len(list), nil
}

// setLabel checks one label against Traefik's schema and sets its value.
func setLabel(frag map[string]any, extra map[string]map[string]*labelOnly, label, value string) error {
	segs := strings.Split(strings.TrimPrefix(label, "traefik."), ".")
	n := schema
	var path []any // string keys and int list indexes
	var names []string
	for i, seg := range segs {
		if seg == "" {
			return errLabel(label, "empty segment in the label name")
		}
		if n.kind == kindAny {
			// Plugin settings: free-form below this point.
			for _, rest := range segs[i:] {
				path = append(path, rest)
			}
			break
		}
		name, idx, _ := indexSeg(seg)
		if idx > 1000 {
			return errLabel(label, "list index %d is too large", idx)
		}
		lower := strings.ToLower(name)
		if c, ok := n.children[lower]; ok {
			n = c
			if t, isList := strings.CutSuffix(c.tomlName, "[0]"); isList {
				path = append(path, t, 0) // loadbalancer.server → servers[0]
			} else {
				path = append(path, c.tomlName)
			}
		} else if c, ok := n.children["*"]; ok {
			if strings.ContainsAny(name, "@`\"") {
				return errLabel(label, "name %q holds a character Traefik does not allow", name)
			}
			n = c
			path = append(path, name)
			names = append(names, name)
		} else {
			return errLabel(label, "Traefik has no setting %q here (known: %s)", seg, known(n))
		}
		if idx >= 0 {
			c, ok := n.children["[]"]
			if !ok {
				return errLabel(label, "%s is not a list of sections", name)
			}
			n = c
			path = append(path, idx)
		}
	}
	if n.labelOK {
		return setLabelOnly(frag, extra, path[0].(string), names[len(names)-1], segs[len(segs)-1], label, value)
	}
	var v any
	switch {
	case n.kind != 0:
		var err error
		if v, err = convert(n.kind, value); err != nil {
			return errLabel(label, "%v", err)
		}
	case n.empty:
		b, err := convert(kindBool, value)
		if err != nil {
			return errLabel(label, "set it to true to enable the section, or set its options")
		}
		if !b.(bool) {
			return nil
		}
		v = map[string]any{}
	default:
		return errLabel(label, "is a section, not a setting (known: %s)", known(n))
	}
	if n.ref {
		v = localRefs(v)
	}
	return setPath(frag, path, v, label)
}

// setLabelOnly records a value the provider reads rather than Traefik (a
// server's port or scheme, last) for service svc of proto.
func setLabelOnly(frag map[string]any, extra map[string]map[string]*labelOnly, proto, svc, last, label, value string) error {
	if extra[proto] == nil {
		extra[proto] = map[string]*labelOnly{}
	}
	// The service exists even when only its port is given.
	if _, ok := sub(frag, proto, "services", svc)["loadBalancer"]; !ok {
		sub(frag, proto, "services", svc)["loadBalancer"] = map[string]any{}
	}
	lo := extra[proto][svc]
	if lo == nil {
		lo = &labelOnly{}
		extra[proto][svc] = lo
	}
	switch strings.ToLower(last) {
	case "port":
		lo.port, lo.portLabel = value, label
	case "scheme":
		sch := strings.ToLower(strings.TrimSpace(value))
		if sch != "http" && sch != "https" && sch != "h2c" {
			return errLabel(label, "%q is not http, https or h2c", value)
		}
		lo.scheme = sch
	}
	return nil
}

func known(n *node) string {
	var ks []string
	for k := range n.children {
		if k != "*" && k != "[]" {
			ks = append(ks, k)
		}
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

// setPath sets v at path (string keys, int list indexes) in m.
func setPath(m map[string]any, path []any, v any, label string) error {
	cur := m
	for i, p := range path {
		last := i == len(path)-1
		key := p.(string)
		if i+1 < len(path) {
			if idx, ok := path[i+1].(int); ok {
				list, _ := cur[key].([]map[string]any)
				for len(list) <= idx {
					list = append(list, map[string]any{})
				}
				cur[key] = list
				if i+2 == len(path) {
					return errLabel(label, "a list element needs a setting after [%d]", idx)
				}
				cur = list[idx]
				path[i+1] = "" // consumed
				continue
			}
		}
		if key == "" {
			continue
		}
		if last {
			if existing, ok := cur[key].(map[string]any); ok && len(existing) > 0 {
				if _, isMap := v.(map[string]any); isMap {
					return nil // "tls=true" next to tls options: the options win
				}
			}
			cur[key] = v
			return nil
		}
		next, ok := cur[key].(map[string]any)
		if !ok {
			if cur[key] != nil {
				return errLabel(label, "%s is both a setting and a section", key)
			}
			next = map[string]any{}
			cur[key] = next
		}
		cur = next
	}
	return fmt.Errorf("empty label path")
}

// pruneEmptyHeaders removes the headers middlewares named in names that
// dropped labels left without any option (Traefik refuses an empty one:
// "headers configuration not valid", and would disable the routers that use
// it), and the routers' references to them: only the bad settings go.
func pruneEmptyHeaders(frag map[string]any, names []string) {
	if len(names) == 0 {
		return
	}
	h, _ := frag["http"].(map[string]any)
	mws, _ := h["middlewares"].(map[string]any)
	gone := map[string]bool{}
	for _, name := range names {
		m, _ := mws[name].(map[string]any)
		if hs, _ := m["headers"].(map[string]any); len(hs) == 0 && len(m) <= 1 {
			delete(mws, name)
			gone[name] = true
		}
	}
	if len(mws) == 0 {
		delete(h, "middlewares")
	}
	routers, _ := h["routers"].(map[string]any)
	for _, rv := range routers {
		r := rv.(map[string]any)
		list, ok := r["middlewares"].([]string)
		if !ok {
			continue
		}
		kept := list[:0:0]
		for _, m := range list {
			if !gone[strings.TrimSuffix(m, "@rancher")] {
				kept = append(kept, m)
			}
		}
		r["middlewares"] = kept
		if len(kept) == 0 {
			delete(r, "middlewares")
		}
	}
}
