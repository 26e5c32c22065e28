package routes

import (
	"bytes"
	"slices"
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
// index of their names (encoded.go). Assembled in name order under their
// protocols' and sections' headers, they are byte for byte what Encode
// (and, for REST delivery, restpush.AppendRoutes) writes for Build's tree
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
	// Release lets the build clear each service of the snapshot but its
	// name and stack once it is translated (the snapshot is then the
	// build's: the publisher's, which it keeps no longer). Labels and
	// containers are about 70% of a snapshot; without them it shrinks
	// while the encodings grow. No other service's translation reads them
	// but the index of v1 backends, which is then built first
	// (buildIfPages).
	Release bool
}

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
			s := &snap.Services[i]
			*s = rancher.Service{Name: s.Name, Stack: s.Stack} // what mergeAll reads
		}
	})
	enc := newEncoded(outs, items)
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
		out[k].name, out[k].key = it.name, keyOf(it.proto, it.section)
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
			out[k].toml = tb[s.t0:s.t1:s.t1]
			if e.JSON != nil {
				out[k].more.json = jb[s.j0:s.j1:s.j1]
			}
		}
	}
	return out
}

// encode appends item val's TOML (and JSON, when asked for) to the
// scratch buffers, and notes its references and errors in it.
func (sc *encodeScratch) encode(it *EncodedItem, val map[string]any, e EncodeOptions) {
	sc.path = append(sc.path[:0], it.key.proto, it.key.section, it.name)
	if err := tomlenc.EncodeTable(&sc.toml, sc.path, val); err != nil {
		it.extra().tomlErr = err
	}
	if e.JSON != nil {
		m := it.extra()
		sc.json, m.refs, m.jsonErr = e.JSON(sc.json, it.key.section, val)
	}
}

// deferred reports whether an item keeps its map past the merge: an HTTP
// router checkErrorPages may change.
func deferred(it fragItem) bool {
	return it.proto == "http" && it.section == "routers" && mayLoseReference(it.val)
}

// merge adds a service's items, or none when one of their names is taken
// (mergeChecked's rule and message).
func (enc *Encoded) merge(items []EncodedItem) error {
	err := firstTaken(len(items), func(k int) (string, string, string) {
		it := &items[k]
		return it.key.proto, it.key.section, it.name
	}, func(proto, section, name string) bool { return enc.Defines(proto, section, name) })
	if err != nil {
		return err
	}
	for k := range items {
		it := &items[k]
		enc.index[*it.key].byName[it.name] = it
	}
	return nil
}

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
				it.toml, it.val = bytes.Clone(sc.toml.Bytes()), nil
				if e.JSON != nil {
					it.more.json = slices.Clone(sc.json)
				}
			}
			s.Items = append(s.Items, it)
		}
		slices.SortFunc(s.Items, compareNames)
	}
}

// encodedPages is an Encoded as checkErrorPages sees it.
type encodedPages struct{ enc *Encoded }

func (p encodedPages) has(section, name string) bool { return p.enc.Defines("http", section, name) }

// drop removes the middleware, and its reference from each of routers
// that kept its map: a router encoded already does not name it
// (mayLoseReference).
func (p encodedPages) drop(middleware string, routers []string) {
	if s := p.enc.index[sectionKey{"http", "middlewares"}]; s != nil {
		delete(s.byName, middleware)
	}
	s := p.enc.index[sectionKey{"http", "routers"}]
	if s == nil {
		return
	}
	for _, name := range routers {
		if it := s.byName[name]; it != nil && it.val != nil {
			dropReference(it.val, middleware)
		}
	}
}
