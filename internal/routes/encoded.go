package routes

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"

	"rancher-traefik/internal/tomlenc"
)

// Encoded is one snapshot's configuration as its items' encodings
// (BuildEncoded): the TOML (and JSON) Build's tree would give, without the
// tree. At 10,000 services it holds a few tens of thousands of items,
// which is why an item is kept small.
type Encoded struct {
	Servers     map[string]int
	Warnings    []Warning
	Credentials Credentials
	sections    []*Section // sorted by protocol, then section
	index       map[sectionKey]*Section
}

// sectionKey is a protocol's section: http routers, tcp services, …
type sectionKey struct{ proto, section string }

// sectionKeys are the sections a fragment has items in (its
// dynConfiguration): an item points at one of them rather than holding
// the two strings.
var sectionKeys = []sectionKey{
	{"http", "routers"}, {"http", "services"}, {"http", "middlewares"}, {"http", "models"},
	{"tcp", "routers"}, {"tcp", "services"}, {"tcp", "middlewares"},
	{"udp", "routers"}, {"udp", "services"},
}

// keyOf is the section key of proto and section.
func keyOf(proto, section string) *sectionKey {
	for i := range sectionKeys {
		if k := &sectionKeys[i]; k.proto == proto && k.section == section {
			return k
		}
	}
	return &sectionKey{proto, section} // a section fragments do not make yet
}

// Section is one protocol's section (http routers, …) with its items
// sorted by name.
type Section struct {
	Proto, Name string
	Items       []*EncodedItem
	byName      map[string]*EncodedItem // merged, less those an error page drop removed
}

// EncodedItem is one router, service or middleware, encoded.
type EncodedItem struct {
	name string
	key  *sectionKey
	val  map[string]any // while checkErrorPages may change it; nil once encoded
	toml []byte         // what tomlenc.Encode writes for it, its header included
	more *itemExtra     // its JSON, and what failed; nil without either
}

// itemExtra is what few items have: their JSON (REST delivery only) and
// an encoding that failed.
type itemExtra struct {
	json             []byte // restpush.AppendRoutes's bytes, references bare (refs)
	refs             []NameRef
	tomlErr, jsonErr error // the TOML fails, as Encode would; so does the JSON
}

// extra is it.more, made on first use.
func (it *EncodedItem) extra() *itemExtra {
	if it.more == nil {
		it.more = &itemExtra{}
	}
	return it.more
}

// Name is the item's name in its section.
func (it *EncodedItem) Name() string { return it.name }

// TOML is the item as the routes file has it: its header line and
// everything below it (what tomlenc.TableBytes reads back).
func (it *EncodedItem) TOML() []byte { return it.toml }

// JSON is the item as restpush.AppendRoutes writes it, its references
// bare (Refs), and the error encoding it gave.
func (it *EncodedItem) JSON() ([]byte, []NameRef, error) {
	if it.more == nil {
		return nil, nil, nil
	}
	return it.more.json, it.more.refs, it.more.jsonErr
}

func compareNames(a, b *EncodedItem) int { return strings.Compare(a.name, b.name) }

// newEncoded makes, before any merge, each section the services to merge
// have items in, with room for all of them (as sizedSections).
func newEncoded(outs []serviceOut, items [][]EncodedItem) *Encoded {
	counts := map[sectionKey]int{}
	for i := range outs {
		for _, it := range items[i] { // none for a service not to merge
			counts[*it.key]++
		}
	}
	enc := &Encoded{index: make(map[sectionKey]*Section, len(counts))}
	for k, n := range counts {
		s := &Section{Proto: k.proto, Name: k.section, byName: make(map[string]*EncodedItem, n)}
		enc.index[k], enc.sections = s, append(enc.sections, s)
	}
	slices.SortFunc(enc.sections, func(a, b *Section) int {
		return cmp.Or(strings.Compare(a.Proto, b.Proto), strings.Compare(a.Name, b.Name))
	})
	return enc
}

// pruneSections removes the sections no service merged into, as Build's
// pruneSections (before the error pages: a section they empty stays).
func (enc *Encoded) pruneSections() {
	enc.sections = slices.DeleteFunc(enc.sections, func(s *Section) bool {
		if len(s.byName) == 0 {
			delete(enc.index, sectionKey{s.Proto, s.Name})
			return true
		}
		return false
	})
}

// Defines reports whether the configuration has the item proto, section,
// name.
func (enc *Encoded) Defines(proto, section, name string) bool {
	s := enc.index[sectionKey{proto, section}]
	if s == nil {
		return false
	}
	_, ok := s.byName[name]
	return ok
}

// Item is the item proto, section, name, or nil.
func (enc *Encoded) Item(proto, section, name string) *EncodedItem {
	if s := enc.index[sectionKey{proto, section}]; s != nil {
		return s.byName[name]
	}
	return nil
}

// Count is the number of items of a protocol's section.
func (enc *Encoded) Count(proto, section string) int {
	if s := enc.index[sectionKey{proto, section}]; s != nil {
		return len(s.byName)
	}
	return 0
}

// Sections are the configuration's sections, in order, each with its
// items sorted by name.
func (enc *Encoded) Sections() []*Section { return enc.sections }

// ReleaseJSON lets go of the items' JSON, once assembled: the TOML is
// assembled after it.
func (enc *Encoded) ReleaseJSON() {
	for _, s := range enc.sections {
		for _, it := range s.Items {
			if it.more != nil {
				it.more.json, it.more.refs = nil, nil
			}
		}
	}
}

// TOML is the configuration's routes file: what Encode writes for Build's
// Config.
func (enc *Encoded) TOML() ([]byte, error) {
	size := len(preamble) + 1
	for _, s := range enc.sections {
		size += 2*len(s.Proto) + len(s.Name) + 9 // the headers above its items, at most
		for _, it := range s.Items {
			size += len(it.toml)
		}
	}
	var b bytes.Buffer
	b.Grow(size)
	b.WriteString(preamble)
	if len(enc.sections) == 0 {
		return b.Bytes(), nil
	}
	b.WriteString("\n")
	for i, s := range enc.sections {
		if i == 0 || s.Proto != enc.sections[i-1].Proto {
			tomlenc.Header(&b, []string{s.Proto})
		}
		tomlenc.Header(&b, []string{s.Proto, s.Name})
		for _, it := range s.Items {
			if it.more != nil && it.more.tomlErr != nil {
				return nil, fmt.Errorf("encoding routes: %w", it.more.tomlErr)
			}
			b.Write(it.toml)
		}
	}
	return b.Bytes(), nil
}
