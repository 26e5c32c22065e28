package routes

import (
	"rancher-traefik/internal/rancher"
)

// The v2 dialect: traefik.http.*, traefik.tcp.* and traefik.udp.* labels,
// as Traefik v2's Rancher provider read them, in three steps over typed
// values:
//
//   - parse (v2decode.go): each label is walked down the schema trie
//     generated from Traefik's own types (schema_gen.go) and set, through
//     its generated setter, in the typed configuration (dynamic_gen.go);
//     a bad label is recorded, naming it, and the others go on;
//   - build (v2build.go): what the provider filled in: a service from the
//     port, its servers from the containers, a router with the default
//     rule, routers linked to the single service, entry points and TLS;
//   - merge: the typed configuration's toMap, the encoding boundary, gives
//     each router, service and middleware as the tree that merge, the
//     credential files and tomlenc work on (fragment.go).
//
// Why generated types rather than a tree of maps guided by the schema, or
// Traefik's own types: the generator walks the same Traefik types Traefik
// decodes labels into, so a label's path, its value's type and its TOML key
// cannot drift apart; the build reads and sets fields the compiler checks
// (r.rule, lb.servers) instead of asserting map entries; and the product
// does not link Traefik (its dynamic package would pull in much of
// Traefik). Untyped maps remain where they belong: toMap's output, and a
// plugin's settings, which are free-form in Traefik too.

// v2Service reads traefik.http.*, traefik.tcp.* and traefik.udp.* labels as
// dynamic-configuration paths, checked against Traefik's schema, and fills
// in what Traefik's Docker provider would: a router with the default rule,
// a service with the containers as servers, a router linked to the single
// service, the port from the single exposed port. Every bad label of the
// service is reported, not only the first.
func v2Service(s *rancher.Service, o Options) (*fragment, routerServers, []Warning, error) {
	var p problems
	c := decodeV2(s, &p)
	b := v2Build{s: s, o: o, c: c, addrs: addresses(s, o), p: &p}
	servers := b.http()
	b.streams()
	notes := p.warnings()
	if err := p.err(); err != nil {
		return nil, nil, notes, err
	}
	return c.fragment(), servers, notes, nil
}
