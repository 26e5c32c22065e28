package routes

import (
	"cmp"
	"slices"
	"strings"
)

// fragment is one service's part of the configuration: its items (a
// router, a service, a middleware, …), each under its protocol and
// section, as a list rather than a tree of maps. A service has a few
// items, and its tree's inner maps (protocol, sections) would be garbage as
// soon as merged: at 10,000 services, five maps a service. A nil
// *fragment is a service not published.
type fragment struct {
	items []fragItem
}

// fragItem is cfg[proto][section][name] = val.
type fragItem struct {
	proto, section, name string
	val                  map[string]any
}

// add sets an item, replacing one of the same name (as a map assignment).
func (f *fragment) add(proto, section, name string, val map[string]any) {
	if it := f.find(proto, section, name); it != nil {
		it.val = val
		return
	}
	f.items = append(f.items, fragItem{proto, section, name, val})
}

// find is the item of that name, or nil.
func (f *fragment) find(proto, section, name string) *fragItem {
	for i := range f.items {
		if it := &f.items[i]; it.name == name && it.section == section && it.proto == proto {
			return it
		}
	}
	return nil
}

// sorted lists the items of one section, sorted by name (copies: their
// values are the maps themselves).
func (f *fragment) sorted(proto, section string) []fragItem {
	var out []fragItem
	for _, it := range f.items {
		if it.section == section && it.proto == proto {
			out = append(out, it)
		}
	}
	slices.SortFunc(out, func(a, b fragItem) int { return strings.Compare(a.name, b.name) })
	return out
}

// appendNamed adds the named sections of l (a typed configuration's
// routers, services, …) as items.
func appendNamed[T any, P interface {
	*T
	mapper
}](f *fragment, proto, section string, l namedList[T]) {
	for _, e := range l {
		f.add(proto, section, e.name, P(e.val).toMap())
	}
}

// fragment gives the typed configuration's items: what toMap gives, without
// the maps of its protocols and sections.
func (x *dynConfiguration) fragment() *fragment {
	f := &fragment{}
	if h := x.http; h != nil {
		appendNamed(f, "http", "routers", h.routers)
		appendNamed(f, "http", "services", h.services)
		appendNamed(f, "http", "middlewares", h.middlewares)
		appendNamed(f, "http", "models", h.models)
	}
	if t := x.tcp; t != nil {
		appendNamed(f, "tcp", "routers", t.routers)
		appendNamed(f, "tcp", "services", t.services)
		appendNamed(f, "tcp", "middlewares", t.middlewares)
	}
	if u := x.udp; u != nil {
		appendNamed(f, "udp", "routers", u.routers)
		appendNamed(f, "udp", "services", u.services)
	}
	return f
}

// compareItems orders items by protocol, section and name.
func compareItems(a, b fragItem) int {
	return cmp.Or(strings.Compare(a.proto, b.proto), strings.Compare(a.section, b.section), strings.Compare(a.name, b.name))
}
