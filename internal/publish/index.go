package publish

import (
	"hash/maphash"
	"slices"
	"strings"

	"rancher-traefik/internal/tomlenc"
)

// routerIndex is every router of a configuration ("http/NAME") with a
// fingerprint of its TOML and its service's, taken from the one encoding
// of the configuration that is written: comparing two configurations is a
// map lookup per router, and each publish keeps the index it made for the
// next one to compare with.
type routerIndex map[string]uint64

var fingerprintSeed = maphash.MakeSeed()

// indexRouters indexes cfg, whose encoding is encoded.
func indexRouters(cfg map[string]any, encoded []byte) (routerIndex, error) {
	type router struct{ proto, name string }
	services := map[string][]byte{} // proto/name → its TOML
	routers := map[router][]byte{}
	err := tomlenc.Tables(encoded, 3, func(keys []string, table []byte) {
		switch keys[1] {
		case "routers":
			routers[router{keys[0], keys[2]}] = table
		case "services":
			services[keys[0]+"/"+keys[2]] = table
		}
	})
	if err != nil {
		return nil, err
	}
	idx := make(routerIndex, len(routers))
	var h maphash.Hash
	h.SetSeed(fingerprintSeed)
	for r, table := range routers {
		h.Reset()
		_, _ = h.Write(table)
		_, _ = h.Write(services[r.proto+"/"+routerService(cfg, r.proto, r.name)])
		idx[r.proto+"/"+r.name] = h.Sum64()
	}
	return idx, nil
}

// routerService is the service a router names.
func routerService(cfg map[string]any, proto, name string) string {
	r, _ := item(cfg, proto, "routers", name).(map[string]any)
	s, _ := r["service"].(string)
	return s
}

// item is cfg[proto][section][name], or nil.
func item(cfg map[string]any, proto, section, name string) any {
	p, _ := cfg[proto].(map[string]any)
	s, _ := p[section].(map[string]any)
	return s[name]
}

// hasRouter reports whether cfg holds router ("http/NAME").
func hasRouter(cfg map[string]any, router string) bool {
	proto, name, _ := strings.Cut(router, "/")
	return item(cfg, proto, "routers", name) != nil
}

// missing lists the routers of idx that cfg lacks, sorted.
func (idx routerIndex) missing(cfg map[string]any) []string {
	var out []string
	for r := range idx {
		if !hasRouter(cfg, r) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}

// compare lists the routers of now that old lacks, those of old that now
// lacks, and those of both whose fingerprints differ; each sorted.
func compare(old, now routerIndex) (added, removed, changed []string) {
	for r, fp := range now {
		switch ofp, ok := old[r]; {
		case !ok:
			added = append(added, r)
		case ofp != fp:
			changed = append(changed, r)
		}
	}
	for r := range old {
		if _, ok := now[r]; !ok {
			removed = append(removed, r)
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	slices.Sort(changed)
	return added, removed, changed
}
