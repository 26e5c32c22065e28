package routes

import (
	"fmt"
	"slices"
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
// fragment, so one service cannot change another's routes (firstTaken).
func mergeChecked(dst map[string]any, frag *fragment) error {
	items := frag.items
	slices.SortFunc(items, compareItems)
	err := firstTaken(len(items), func(i int) (string, string, string) {
		return items[i].proto, items[i].section, items[i].name
	}, func(proto, section, name string) bool {
		d, _ := dst[proto].(map[string]any)
		ds, _ := d[section].(map[string]any)
		_, taken := ds[name]
		return taken
	})
	if err != nil {
		return err
	}
	for _, it := range items {
		sub(dst, it.proto, it.section)[it.name] = it.val
	}
	return nil
}

// firstTaken is the error for the first of a fragment's n items (item(i):
// protocol, section, name; sorted by compareItems) whose name taken says
// is already another service's: the first in sorted order, so the same
// snapshot always gives the same warning. Both builds check names with it
// (mergeChecked, and BuildEncoded's merge of names).
func firstTaken(n int, item func(i int) (proto, section, name string), taken func(proto, section, name string) bool) error {
	for i := range n {
		if proto, section, name := item(i); taken(proto, section, name) {
			return fmt.Errorf("%s %s %q is already defined by another service", proto, section, name)
		}
	}
	return nil
}

// sizedSections makes in dst, before any merge, each section (http
// routers, …) the services to merge have items in, with room for all of
// them: a section of 10,000 routers is allocated once, not grown and
// rehashed step by step. It returns the sections made, for pruneSections.
func sizedSections(dst map[string]any, outs []serviceOut) [][2]string {
	counts := map[[2]string]int{}
	for _, out := range outs {
		if !out.published {
			continue
		}
		for _, it := range out.frag.items {
			counts[[2]string{it.proto, it.section}]++
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
