package restpush

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"rancher-traefik/internal/routes"
)

// AppendJSON appends v, a routes tree, to dst as JSON: exactly the bytes
// json.Marshal(v) gives (keys sorted, < > & U+2028 U+2029 escaped,
// invalid UTF-8 as \ufffd, numbers as encoding/json writes them), and its
// error when it has one. The types a routes tree holds (map[string]any,
// []any, []string, []map[string]any, string, bool, the integer and float
// kinds, nil) are written without reflection; any other value is given
// to json.Marshal, so the result never differs from it.
func AppendJSON(dst []byte, v any) ([]byte, error) {
	e := encoder{buf: dst}
	if err := e.value(v); err != nil {
		return dst, err
	}
	return e.buf, nil
}

// AppendRoutes appends cfg, a routes tree, to dst as the REST provider
// takes it: cfg with the references it does not define qualified
// (qualifier) — exactly json.Marshal of Qualify's copy (the tests'
// reference, qualify_ref_test.go) — without copying the tree
// (each router, middleware and service is qualified as it is written).
func AppendRoutes(dst []byte, cfg map[string]any) ([]byte, error) {
	e := encoder{buf: dst}
	if err := e.routes(cfg); err != nil {
		return dst, err
	}
	return e.buf, nil
}

// routes writes Qualify(cfg): the tables of a protocol's routers,
// middlewares and services go through its qualifier. As in Qualify, a
// protocol's nil section stays null, and a nil routers, middlewares or
// services table becomes empty.
func (e *encoder) routes(cfg map[string]any) error {
	if cfg == nil {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	return e.sorted(cfg, func(proto string, v any) error {
		sec, ok := v.(map[string]any)
		if !ok || sec == nil || !isProtocol(proto) {
			return e.value(v)
		}
		q := newQualifier(sec)
		return e.sorted(sec, func(key string, v any) error {
			f := q.of(key)
			objects, ok := v.(map[string]any)
			if f == nil || !ok {
				return e.value(v)
			}
			return e.sorted(objects, func(_ string, v any) error {
				if t, ok := v.(map[string]any); ok {
					v = f(t)
				}
				return e.value(v)
			})
		})
	})
}

// encoder writes one tree into buf.
type encoder struct {
	buf []byte
	// refs are the references written for the assembly (nameRef), at
	// offsets from base (AppendItem).
	refs []routes.NameRef
	base int
	// items[d] is the reused key list of the table at depth d.
	items [][]item
	depth int
}

// item is a key of a table with its value.
type item struct {
	k string
	v any
}

// maxDepth is how deep the encoder nests before it hands the subtree to
// json.Marshal, which detects a cycle (a routes tree has none, and is a
// few levels deep).
const maxDepth = 64

func (e *encoder) value(v any) error {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case string:
		e.buf = appendString(e.buf, x)
	case bool:
		e.buf = strconv.AppendBool(e.buf, x)
	case map[string]any:
		return e.table(x)
	case []any:
		return e.list(x)
	case []string:
		e.strings(x)
	case []map[string]any:
		return e.tables(x)
	case nameRef:
		e.buf = appendString(e.buf, x.name)
		e.refs = append(e.refs, routes.NameRef{At: len(e.buf) - 1 - e.base, Section: x.table, Name: x.name})
	default:
		return e.number(v)
	}
	return nil
}

// number writes the integer and float kinds, and hands anything else to
// json.Marshal.
func (e *encoder) number(v any) error {
	switch x := v.(type) {
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, x, 10)
	case int32:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int16:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int8:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case uint:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case uint64:
		e.buf = strconv.AppendUint(e.buf, x, 10)
	case uint32:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case uint16:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case uint8:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return e.marshal(v)
		}
		e.buf = appendFloat(e.buf, x, 64)
	case float32:
		if f := float64(x); math.IsInf(f, 0) || math.IsNaN(f) {
			return e.marshal(v)
		}
		e.buf = appendFloat(e.buf, float64(x), 32)
	default:
		return e.marshal(v)
	}
	return nil
}

// marshal writes what json.Marshal gives for v.
func (e *encoder) marshal(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	e.buf = append(e.buf, b...)
	return nil
}

// table writes m with its keys sorted by their bytes, as encoding/json
// sorts them.
func (e *encoder) table(m map[string]any) error {
	if m == nil {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	if e.depth >= maxDepth {
		return e.marshal(m)
	}
	return e.sorted(m, func(_ string, v any) error { return e.value(v) })
}

// sorted writes m as table does (a nil m as {}), each value by f.
func (e *encoder) sorted(m map[string]any, f func(key string, v any) error) error {
	its := e.sortedItems(m)
	e.depth++
	defer func() { e.depth-- }()
	e.buf = append(e.buf, '{')
	for i, it := range its {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendString(e.buf, it.k)
		e.buf = append(e.buf, ':')
		if err := f(it.k, it.v); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	clear(its)
	return nil
}

// sortedItems are m's items sorted by key, in the list kept for the
// current depth.
func (e *encoder) sortedItems(m map[string]any) []item {
	for len(e.items) <= e.depth {
		e.items = append(e.items, nil)
	}
	its := e.items[e.depth][:0]
	if cap(its) < len(m) { // a large table (10,000 routers): allocated once
		its = make([]item, 0, len(m))
	}
	for k, v := range m {
		its = append(its, item{k, v})
	}
	slices.SortFunc(its, func(a, b item) int { return strings.Compare(a.k, b.k) })
	e.items[e.depth] = its // kept, grown, for the next table at this depth
	return its
}

func (e *encoder) list(l []any) error {
	if l == nil {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	if e.depth >= maxDepth {
		return e.marshal(l)
	}
	e.depth++
	defer func() { e.depth-- }()
	e.buf = append(e.buf, '[')
	for i, v := range l {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.value(v); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

func (e *encoder) tables(l []map[string]any) error {
	if l == nil {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	e.buf = append(e.buf, '[')
	for i, m := range l {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.table(m); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

func (e *encoder) strings(l []string) {
	if l == nil {
		e.buf = append(e.buf, "null"...)
		return
	}
	e.buf = append(e.buf, '[')
	for i, s := range l {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendString(e.buf, s)
	}
	e.buf = append(e.buf, ']')
}

// appendFloat writes f as encoding/json does (ES6 number to string):
// exponent form below 1e-6 and from 1e21, the exponent not padded.
func appendFloat(b []byte, f float64, bits int) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' { // e-07 → e-7
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString writes s quoted as encoding/json does with its HTML
// escaping: " and \ escaped, control characters as \b \f \n \r \t or
// \u00XX, < > & as \u003c \u003e \u0026, U+2028 and U+2029 as \u2028
// and \u2029, and each byte of invalid UTF-8 as \ufffd.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default: // other control characters, < > &
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// safe are the ASCII bytes written as they are: printable, except " \ < > &.
var safe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()
