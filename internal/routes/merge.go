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
