package routes

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// sub returns the map at key in m, creating it.
func sub(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	return m
}

// mergeChecked adds a service's fragment to the whole configuration. A
// router, service or middleware name that is already taken fails the whole
// fragment, so one service cannot change another's routes. The first taken
// name in sorted order is the one reported, so the same snapshot always
// gives the same warning.
func mergeChecked(dst, frag map[string]any) error {
	type item struct{ proto, section, name string }
	var buf [8]item // a service has a few routers, services and middlewares
	items := buf[:0]
	for proto, pv := range frag {
		for section, sv := range pv.(map[string]any) {
			for name := range sv.(map[string]any) {
				items = append(items, item{proto, section, name})
			}
		}
	}
	slices.SortFunc(items, func(a, b item) int {
		return cmp.Or(strings.Compare(a.proto, b.proto), strings.Compare(a.section, b.section), strings.Compare(a.name, b.name))
	})
	for _, it := range items {
		if d, ok := dst[it.proto].(map[string]any); ok {
			if ds, ok := d[it.section].(map[string]any); ok {
				if _, taken := ds[it.name]; taken {
					return fmt.Errorf("%s %s %q is already defined by another service", it.proto, it.section, it.name)
				}
			}
		}
	}
	for _, it := range items {
		sub(dst, it.proto, it.section)[it.name] = frag[it.proto].(map[string]any)[it.section].(map[string]any)[it.name]
	}
	return nil
}

// sizedSections makes in dst, before any merge, each section (http
// routers, …) the fragments have items in, with room for all of them: a
// section of 10,000 routers is allocated once, not grown and rehashed step
// by step. It returns the sections made, for pruneSections.
func sizedSections(dst map[string]any, frags []map[string]any) [][2]string {
	counts := map[[2]string]int{}
	for _, frag := range frags {
		for proto, pv := range frag {
			for section, sv := range pv.(map[string]any) {
				counts[[2]string{proto, section}] += len(sv.(map[string]any))
			}
		}
	}
	made := make([][2]string, 0, len(counts))
	for ps, n := range counts {
		if n > 0 {
			sub(dst, ps[0])[ps[1]] = make(map[string]any, n)
			made = append(made, ps)
		}
	}
	return made
}

// pruneSections removes the sections sizedSections made that no fragment
// merged into (every fragment with items there failed), and a protocol
// left without sections: the configuration is the one merging alone gives.
func pruneSections(dst map[string]any, made [][2]string) {
	for _, ps := range made {
		p := dst[ps[0]].(map[string]any)
		if len(p[ps[1]].(map[string]any)) == 0 {
			delete(p, ps[1])
		}
		if len(p) == 0 {
			delete(dst, ps[0])
		}
	}
}
