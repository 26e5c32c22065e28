package routes

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"

	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/tomlenc"
)

// The publisher's build. Build's tree of a large environment (about 28 MB
// at 10,000 services) is alive beside the snapshot it comes from (about
// 13.5 MB), and its encodings are made from it once both are complete.
// BuildEncoded shares Build's stages (translateAll, mergeAll,
// checkErrorPages) but encodes each service's items in the parallel stage,
// right after its translation, and lets go of their maps at once: what
// lives on is the items' bytes (about the size of the routes file) and an
// index of their names. Assembled in name order under their protocols'
// and sections' headers, they are byte for byte what Encode (and, for REST
// delivery, restpush.AppendRoutes) writes for Build's tree
// (TestEncodedIsBuild).

// ItemJSON appends to dst one item of a protocol's section (a router,
// service or middleware) as restpush.AppendRoutes writes it, except for
// the names it refers to that its protocol may define: those are left to
// the assembly, which qualifies each that is not defined (refs, at offsets
// from the item's start). restpush.AppendItem is the one.
type ItemJSON func(dst []byte, section string, item map[string]any) ([]byte, []NameRef, error)

// NameRef is a name an item's JSON refers to, written bare as a JSON
// string whose closing quote is at At (from the item's start): the
// assembly qualifies it (name@file) unless Section of the item's protocol
// defines it.
type NameRef struct {
	At            int
	Section, Name string
}

// EncodeOptions say what BuildEncoded encodes beside the TOML.
type EncodeOptions struct {
	// JSON, if set, also encodes each item for REST delivery: file
	// delivery does not pay for it.
	JSON ItemJSON
	// Release lets the build drop each service's containers and labels
	// from the snapshot once the service is translated (the snapshot is
	// then the build's: the publisher's, which it keeps no longer). They
	// are about 70% of a snapshot; without them it shrinks while the
	// encodings grow. No other service's translation reads them but the
	// index of v1 backends, which is then built first (buildIfPages).
	Release bool
}

// Encoded is one snapshot's configuration as its items' encodings: the
// TOML (and JSON) Build's tree would give, without the tree.
type Encoded struct {
	Servers     map[string]int
	Warnings    []Warning
	Credentials Credentials
	sections    []*Section // sorted by protocol, then section
	index       map[[2]string]*Section
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
	fragItem        // its names, and its map while checkErrorPages may change it (else nil)
	toml     []byte // what tomlenc.Encode writes for it, its header included
	tomlErr  error  // encoding it failed: TOML fails, as Encode would
	JSON     []byte // restpush.AppendRoutes's bytes, references bare (Refs)
	Refs     []NameRef
	JSONErr  error // encoding it as JSON failed: so does the assembly
}

// Name is the item's name in its section.
func (it *EncodedItem) Name() string { return it.name }

// BuildEncoded is Build, encoded (see the top of this file): the same
// warnings, servers and credentials, and a configuration whose TOML
// (TOML) and JSON (restpush.AppendEncoded, when e.JSON is set) are
// Encode's and restpush.AppendRoutes's of Build's Config.
func BuildEncoded(snap *rancher.Snapshot, o Options, e EncodeOptions) *Encoded {
	o.backends = &v1Backends{snap: snap, o: o}
	if e.Release {
		o.backends.buildIfPages()
	}
	items := make([][]EncodedItem, len(snap.Services))
	outs := translateAll(snap, o, func(i int, out *serviceOut) {
		if out.published {
			items[i] = encodeService(out.frag, e)
			out.frag = nil // its maps: encoded
		}
		if e.Release {
			snap.Services[i].Containers, snap.Services[i].Labels = nil, nil
		}
	})
	enc := &Encoded{}
	enc.makeSections(outs, items)
	var merged map[serviceKey]bool
	enc.Servers, enc.Warnings, enc.Credentials, merged = mergeAll(snap, outs, func(i int) error { return enc.merge(items[i]) })
	enc.pruneSections()
	enc.Warnings = append(enc.Warnings, o.backends.checkErrorPages(encodedPages{enc}, merged)...)
	enc.finish(e)
	return enc
}

// scratch holds the buffers a service's items are encoded into, reused
// across services (the items' bytes are copied out, exactly sized).
var scratch = sync.Pool{New: func() any { return newScratch() }}

type encodeScratch struct {
	toml  bytes.Buffer
	json  []byte
	path  []string // room for the keys below an item: tomlenc appends them
	spans []span
}

// span is where one item's bytes are in the scratch buffers.
type span struct{ t0, t1, j0, j1 int }

func newScratch() *encodeScratch { return &encodeScratch{path: make([]string, 0, 16)} }

// encodeService encodes a service's items (sorted, as its merge checks
// them) into one block of TOML and one of JSON, each item a slice of them.
// A router checkErrorPages may change keeps its map, to be encoded once it
// has run (finish).
func encodeService(frag *fragment, e EncodeOptions) []EncodedItem {
	slices.SortFunc(frag.items, compareItems)
	out := make([]EncodedItem, len(frag.items))
	sc := scratch.Get().(*encodeScratch)
	defer scratch.Put(sc)
	sc.toml.Reset()
	sc.json = sc.json[:0]
	spans := slices.Grow(sc.spans[:0], len(out))[:len(out)]
	sc.spans = spans
	for k, it := range frag.items {
		out[k].fragItem = fragItem{proto: it.proto, section: it.section, name: it.name}
		if deferred(it) {
			out[k].val = it.val
			continue
		}
		s := &spans[k]
		s.t0, s.j0 = sc.toml.Len(), len(sc.json)
		sc.encode(&out[k], it.val, e)
		s.t1, s.j1 = sc.toml.Len(), len(sc.json)
	}
	tb, jb := bytes.Clone(sc.toml.Bytes()), slices.Clone(sc.json)
	for k, s := range spans {
		if out[k].val == nil {
			out[k].toml, out[k].JSON = tb[s.t0:s.t1:s.t1], jb[s.j0:s.j1:s.j1]
		}
	}
	return out
}

// encode appends item val's TOML (and JSON, when asked for) to the
// scratch buffers, and sets it's references and errors.
func (sc *encodeScratch) encode(it *EncodedItem, val map[string]any, e EncodeOptions) {
	sc.path = append(sc.path[:0], it.proto, it.section, it.name)
	it.tomlErr = tomlenc.EncodeTable(&sc.toml, sc.path, val)
	if e.JSON != nil {
		sc.json, it.Refs, it.JSONErr = e.JSON(sc.json, it.section, val)
	}
}

// deferred reports whether an item keeps its map past the merge: an HTTP
// router checkErrorPages may change.
func deferred(it fragItem) bool {
	return it.proto == "http" && it.section == "routers" && mayLoseReference(it.val)
}

// makeSections makes, before any merge, each section the services to
// merge have items in, with room for all of them (as sizedSections).
func (enc *Encoded) makeSections(outs []serviceOut, items [][]EncodedItem) {
	counts := map[[2]string]int{}
	for i := range outs {
		for _, it := range items[i] { // none for a service not to merge
			counts[[2]string{it.proto, it.section}]++
		}
	}
	enc.index = make(map[[2]string]*Section, len(counts))
	for ps, n := range counts {
		s := &Section{Proto: ps[0], Name: ps[1], byName: make(map[string]*EncodedItem, n)}
		enc.index[ps], enc.sections = s, append(enc.sections, s)
	}
	slices.SortFunc(enc.sections, func(a, b *Section) int {
		return cmp.Or(strings.Compare(a.Proto, b.Proto), strings.Compare(a.Name, b.Name))
	})
}

// merge adds a service's items, or none when one of their names is taken
// (mergeChecked's rule and message).
func (enc *Encoded) merge(items []EncodedItem) error {
	err := firstTaken(len(items), func(k int) *fragItem { return &items[k].fragItem }, func(it *fragItem) bool {
		return enc.Defines(it.proto, it.section, it.name)
	})
	if err != nil {
		return err
	}
	for k := range items {
		it := &items[k]
		enc.index[[2]string{it.proto, it.section}].byName[it.name] = it
	}
	return nil
}

// pruneSections removes the sections no service merged into, as Build's
// pruneSections (before the error pages: a section they empty stays).
func (enc *Encoded) pruneSections() {
	enc.sections = slices.DeleteFunc(enc.sections, func(s *Section) bool {
		if len(s.byName) == 0 {
			delete(enc.index, [2]string{s.Proto, s.Name})
			return true
		}
		return false
	})
}

// Defines reports whether the configuration has the item proto, section,
// name.
func (enc *Encoded) Defines(proto, section, name string) bool {
	s := enc.index[[2]string{proto, section}]
	if s == nil {
		return false
	}
	_, ok := s.byName[name]
	return ok
}

// Count is the number of items of a protocol's section.
func (enc *Encoded) Count(proto, section string) int {
	if s := enc.index[[2]string{proto, section}]; s != nil {
		return len(s.byName)
	}
	return 0
}

// Sections are the configuration's sections, in order, each with its
// items sorted by name.
func (enc *Encoded) Sections() []*Section { return enc.sections }

// finish encodes the items that kept their maps for checkErrorPages, and
// sorts every section's items by name.
func (enc *Encoded) finish(e EncodeOptions) {
	sc := newScratch()
	for _, s := range enc.sections {
		s.Items = make([]*EncodedItem, 0, len(s.byName))
		for _, it := range s.byName {
			if it.val != nil {
				sc.toml.Reset()
				sc.json = sc.json[:0]
				sc.encode(it, it.val, e)
				it.toml, it.JSON, it.val = bytes.Clone(sc.toml.Bytes()), slices.Clone(sc.json), nil
			}
			s.Items = append(s.Items, it)
		}
		slices.SortFunc(s.Items, func(a, b *EncodedItem) int { return strings.Compare(a.name, b.name) })
	}
}

// encodedPages is an Encoded as checkErrorPages sees it.
type encodedPages struct{ enc *Encoded }

func (p encodedPages) has(section, name string) bool { return p.enc.Defines("http", section, name) }

// drop removes the middleware, and its reference from the router when the
// router kept its map: a router encoded already does not name it
// (mayLoseReference).
func (p encodedPages) drop(middleware, router string) {
	if s := p.enc.index[[2]string{"http", "middlewares"}]; s != nil {
		delete(s.byName, middleware)
	}
	if s := p.enc.index[[2]string{"http", "routers"}]; s != nil {
		if it := s.byName[router]; it != nil && it.val != nil {
			dropReference(it.val, middleware)
		}
	}
}

// ReleaseJSON lets go of the items' JSON, once assembled: the TOML is
// assembled after it.
func (enc *Encoded) ReleaseJSON() {
	for _, s := range enc.sections {
		for _, it := range s.Items {
			it.JSON, it.Refs = nil, nil
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
			if it.tomlErr != nil {
				return nil, fmt.Errorf("encoding routes: %w", it.tomlErr)
			}
			b.Write(it.toml)
		}
	}
	return b.Bytes(), nil
}
