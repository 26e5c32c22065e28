package routes

import (
	"sort"
	"strings"

	"rancher-traefik/internal/rancher"
)

// Mixing dialects. A service's labels are read in one of three ways:
//
//   - v1 labels only: the v1 dialect (v1Service);
//   - v2 labels defining more than middlewares (routers, services, TCP,
//     UDP), or v2 labels without any v1 label: the v2 dialect (v2Service).
//     Its v1 labels, if any, are not read, and each says so in a warning;
//   - v1 labels and v2 labels that define middlewares only
//     (traefik.http.middlewares.*): both. The v1 labels route the service,
//     the v2 labels define middlewares beside it, which a v1 router uses
//     by naming them in traefik.frontend.middlewares.
//
// The labels every dialect reads (traefik.enable, traefik.tags,
// traefik.domain, traefik.docker.network) are v1 labels of neither kind.

// sharedLabels are the traefik.* labels both dialects read.
var sharedLabels = map[string]bool{"traefik.enable": true, "traefik.tags": true, "traefik.domain": true, "traefik.docker.network": true}

// dialectLabels tells a service's dialects: whether any label is v2,
// whether the v2 ones define anything but middlewares, and, when some
// are v2, the v1 labels (sorted).
func dialectLabels(labels map[string]string) (v1 []string, v2, v2Routes bool) {
	for k := range labels {
		if isV2(k) {
			v2 = true
			v2Routes = v2Routes || !strings.HasPrefix(strings.ToLower(k), "traefik.http.middlewares.")
		}
	}
	if !v2 {
		return nil, false, false // the common case: no list to build
	}
	for k := range labels {
		if lower := strings.ToLower(k); strings.HasPrefix(lower, "traefik.") && !isV2(k) && !sharedLabels[lower] {
			v1 = append(v1, k)
		}
	}
	sort.Strings(v1)
	return v1, v2, v2Routes
}

// routedByV1 reports whether a service with labels is routed by its v1
// labels (alone, or beside v2 labels that define only middlewares).
func routedByV1(labels map[string]string) bool {
	v1, v2, v2Routes := dialectLabels(labels)
	return !v2 || !v2Routes && len(v1) > 0
}

// dialects translates a service with its labels' dialect or dialects.
func dialects(s *rancher.Service, o Options) (*fragment, routerServers, []Warning, error) {
	v1, v2, v2Routes := dialectLabels(s.Labels)
	switch {
	case !v2:
		return v1Service(s, o)
	case v2Routes || len(v1) == 0:
		frag, servers, dropped, err := v2Service(s, o)
		for _, l := range v1 {
			dropped = append(dropped, Warning{Label: l, Msg: "a Traefik v1 label on a service routed by its Traefik v2 labels: not read (the dialects mix only when the v2 labels define middlewares and nothing else)", Severity: Dropped})
		}
		return frag, servers, sortedNotes(dropped), err
	}
	return mixedService(s, o)
}

// mixedService routes the service by its v1 labels, and adds the
// middlewares its v2 labels define.
func mixedService(s *rancher.Service, o Options) (*fragment, routerServers, []Warning, error) {
	frag, servers, dropped, err := v1Service(s, o)
	var p problems
	v2 := decodeV2(s, &p)
	if err == nil {
		mergeV2Middlewares(frag, v2, &p)
	}
	dropped = sortedNotes(append(dropped, p.warnings()...))
	if e := p.err(); e != nil {
		err = joinProblems(err, e)
	}
	if err != nil {
		return nil, nil, dropped, err
	}
	return frag, servers, dropped, nil
}

// mergeV2Middlewares adds the middlewares of the v2 labels (v2) to the v1
// fragment; a name the v1 labels generate already is the v2 label's
// problem.
func mergeV2Middlewares(frag *fragment, v2 *dynConfiguration, p *problems) {
	if v2.http == nil || len(v2.http.middlewares) == 0 {
		return
	}
	for _, m := range v2.http.middlewares {
		if frag.find("http", "middlewares", m.name) != nil {
			p.add(errLabel("traefik.http.middlewares."+m.name, "the v1 labels of this service generate a middleware of that name already"))
			continue
		}
		frag.add("http", "middlewares", m.name, m.val.toMap())
	}
}

// joinProblems is every label problem of a and b, ordered (each is a
// *labelError, labelErrors, or another error).
func joinProblems(a, b error) error {
	var p problems
	for _, err := range []error{a, b} {
		if les, ok := err.(labelErrors); ok {
			for _, le := range les {
				p.add(le)
			}
		} else {
			p.add(err)
		}
	}
	return p.err()
}
