package restpush

import "rancher-traefik/internal/routes"

// The JSON of routes.BuildEncoded: each item is encoded on its own while
// the build has its map (AppendItem, routes.ItemJSON), and the items are
// assembled once every name is known (AppendEncoded) into exactly what
// AppendRoutes writes for Build's tree. Only qualifying a reference
// (qualifier) needs the whole configuration: whether the protocol defines
// the name. AppendItem writes such a name bare and notes where it ends;
// the assembly adds "@file" there unless the protocol defines it. A
// qualified name is its bare JSON string with "@file" before the closing
// quote: "@file" is written as it is (appendString).

// AppendItem appends to dst what AppendRoutes writes for item, one table
// of a protocol's section (routers, middlewares, services, …), with the
// references its protocol may define left to AppendEncoded (refs, at
// offsets from the item's start). On error dst is returned as it was.
func AppendItem(dst []byte, section string, item map[string]any) ([]byte, []routes.NameRef, error) {
	// At the depth AppendRoutes writes items (protocol, section, item):
	// the same nesting before handing a subtree to json.Marshal.
	e := encoder{buf: dst, base: len(dst), depth: 3}
	v := any(item)
	if f := deferredQualifier.of(section); f != nil {
		v = f(item)
	}
	if err := e.value(v); err != nil {
		return dst, nil, err
	}
	return e.buf, e.refs, nil
}

var _ routes.ItemJSON = AppendItem

// AppendEncoded appends enc's configuration to dst as AppendRoutes writes
// Build's: its sections in order, their items sorted by name (each
// AppendItem's bytes, its references qualified against enc's names). It
// fails with the first item's (in that order) that could not be encoded.
func AppendEncoded(dst []byte, enc *routes.Encoded) ([]byte, error) {
	start := len(dst)
	secs := enc.Sections()
	dst = append(dst, '{')
	for i, s := range secs {
		switch {
		case i == 0:
			dst = append(appendString(dst, s.Proto), ':', '{')
		case s.Proto != secs[i-1].Proto:
			dst = append(appendString(append(dst, '}', ','), s.Proto), ':', '{')
		default:
			dst = append(dst, ',')
		}
		dst = append(appendString(dst, s.Name), ':', '{')
		for k, it := range s.Items {
			js, refs, err := it.JSON()
			if err != nil {
				return dst[:start], err
			}
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = append(appendString(dst, it.Name()), ':')
			dst = appendQualified(dst, enc, s.Proto, js, refs)
		}
		dst = append(dst, '}')
	}
	if len(secs) > 0 {
		dst = append(dst, '}')
	}
	return append(dst, '}'), nil
}

// appendQualified appends an item's JSON with each reference its protocol
// does not define qualified.
func appendQualified(dst []byte, enc *routes.Encoded, proto string, js []byte, refs []routes.NameRef) []byte {
	from := 0
	for _, r := range refs {
		dst = append(dst, js[from:r.At]...)
		if !enc.Defines(proto, r.Section, r.Name) {
			dst = append(dst, FileProvider...)
		}
		from = r.At
	}
	return append(dst, js[from:]...)
}

// EncodedSize is about the size of enc's JSON: a buffer of it holds
// AppendEncoded's bytes, in most cases without growing.
func EncodedSize(enc *routes.Encoded) int {
	n := 64
	for _, s := range enc.Sections() {
		n += len(s.Proto) + len(s.Name) + 8
		for _, it := range s.Items {
			js, refs, _ := it.JSON()
			n += len(js) + len(FileProvider)*len(refs) + len(it.Name()) + 4
		}
	}
	return n
}
