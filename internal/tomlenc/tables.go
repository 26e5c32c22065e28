package tomlenc

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Tables calls fn, in order, for every table at depth (a header of depth
// keys, such as http.routers.NAME at 3) in b, which Encode wrote: with the
// table's keys and its bytes — its header line, its values and every table
// below it. It lets a caller compare or copy the items of one encoding
// without encoding them again.
func Tables(b []byte, depth int, fn func(keys []string, table []byte)) error {
	return TableBytes(b, depth, func(keys [][]byte, table []byte) { fn(strs(keys), table) })
}

// TableBytes is Tables with the keys as bytes, in b where they are bare:
// the slice of keys is fn's only until it returns (the keys' bytes stay),
// and no string is made of them.
func TableBytes(b []byte, depth int, fn func(keys [][]byte, table []byte)) error {
	return scan(b, depth, fn, func([]byte, [][]byte) error { return nil })
}

// scan calls item for every table at depth, and other for every line
// outside them, with its keys when it is a header. The slices of keys are
// the callee's only until it returns.
func scan(b []byte, depth int, item func(keys [][]byte, table []byte), other func(line []byte, keys [][]byte) error) error {
	var cur [][]byte // the keys of the table being read; nil: none
	curBuf := make([][]byte, 0, depth)
	start := 0
	raw := make([][]byte, 0, depth+4) // a header's keys, in b when bare
	for off := 0; off < len(b); {
		end := bytes.IndexByte(b[off:], '\n')
		if end < 0 {
			end = len(b)
		} else {
			end += off + 1
		}
		line := bytes.TrimLeft(b[off:end], " ")
		header := len(line) > 0 && line[0] == '['
		if header {
			var err error
			if raw, err = headerKeys(raw[:0], line); err != nil {
				return fmt.Errorf("offset %d: %w", off, err)
			}
			if cur != nil && (len(raw) <= depth || !under(raw, cur)) {
				item(cur, b[start:off])
				cur = nil
			}
			if cur == nil && len(raw) == depth {
				cur, start = append(curBuf[:0], raw...), off
			}
		}
		if cur == nil {
			var hk [][]byte
			if header {
				hk = raw
			}
			if err := other(line, hk); err != nil {
				return fmt.Errorf("offset %d: %w", off, err)
			}
		}
		off = end
	}
	if cur != nil {
		item(cur, b[start:])
	}
	return nil
}

// under reports whether the header keys raw are below (or at) the table
// keys.
func under(raw, keys [][]byte) bool {
	for i, k := range keys {
		if !bytes.Equal(raw[i], k) {
			return false
		}
	}
	return true
}

func strs(raw [][]byte) []string {
	out := make([]string, len(raw))
	for i, k := range raw {
		out[i] = Common(k)
	}
	return out
}

// Common is string(k), without allocating for the keys every table of a
// dynamic configuration begins with (protocols and sections).
func Common(k []byte) string {
	switch string(k) {
	case "http":
		return "http"
	case "tcp":
		return "tcp"
	case "udp":
		return "udp"
	case "routers":
		return "routers"
	case "services":
		return "services"
	case "middlewares":
		return "middlewares"
	case "serversTransports":
		return "serversTransports"
	}
	return string(k)
}

// headerKeys appends the keys of a header line ([a.b] or [[a."b.c"]]) to
// keys: bare keys are slices of line.
func headerKeys(keys [][]byte, line []byte) ([][]byte, error) {
	i := 1
	if len(line) > 1 && line[1] == '[' {
		i = 2
	}
	for {
		if i >= len(line) {
			return nil, fmt.Errorf("header %q does not end", line)
		}
		var k []byte
		if line[i] == '"' {
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(line) {
				return nil, fmt.Errorf("header %q: a quoted key does not end", line)
			}
			s, err := strconv.Unquote(string(line[i : j+1]))
			if err != nil {
				return nil, fmt.Errorf("header %q: %w", line, err)
			}
			k, i = []byte(s), j+1
		} else {
			j := i
			for j < len(line) && line[j] != '.' && line[j] != ']' {
				j++
			}
			k, i = line[i:j], j
		}
		keys = append(keys, k)
		if i < len(line) && line[i] == '.' {
			i++
			continue
		}
		if i < len(line) && line[i] == ']' {
			return keys, nil
		}
		return nil, fmt.Errorf("header %q is not a list of keys", line)
	}
}

// ErrNotTables is MergeTables' answer for an encoding that holds more than
// tables above depth (values, arrays of tables).
var ErrNotTables = errors.New("not only tables above the depth merged")

// span is a table at the depth merged, with its bytes.
type span struct {
	keys  []string
	bytes []byte
}

// MergeTables merges two encodings of Encode whose levels above depth hold
// only tables: the result is what Encode writes for answer's tree plus the
// tables at depth of kept that answer lacks (answer's lines before its
// first header, a comment, come first). It fails with ErrNotTables when
// either holds anything else above depth.
func MergeTables(kept, answer []byte, depth int) ([]byte, error) {
	var prefix []byte
	ks, err := tablesOnly(kept, depth, nil)
	if err != nil {
		return nil, err
	}
	as, err := tablesOnly(answer, depth, &prefix)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(len(kept) + len(answer))
	out.Write(prefix)
	var last []string // the keys of the table last written
	write := func(t span) {
		if out.Len() > 0 && last == nil && !bytes.HasSuffix(out.Bytes(), []byte("\n\n")) {
			out.WriteByte('\n') // as Encode's callers separate a comment from the tree
		}
		for l := range depth - 1 {
			if last == nil || !slices.Equal(last[:l+1], t.keys[:l+1]) {
				header(&out, t.keys[:l+1], false)
			}
		}
		out.Write(t.bytes)
		last = t.keys
	}
	for len(ks) > 0 || len(as) > 0 {
		switch c := compareHeads(ks, as); {
		case c < 0:
			write(ks[0])
			ks = ks[1:]
		case c > 0:
			write(as[0])
			as = as[1:]
		default: // in both: the answer's
			write(as[0])
			ks, as = ks[1:], as[1:]
		}
	}
	return out.Bytes(), nil
}

// compareHeads orders the heads of two lists of tables (an empty list last).
func compareHeads(a, b []span) int {
	switch {
	case len(a) == 0:
		return 1
	case len(b) == 0:
		return -1
	}
	return slices.Compare(a[0].keys, b[0].keys)
}

// tablesOnly lists the tables at depth of b, checking that they are in
// Encode's order and that nothing but headers of tables stands above them;
// prefix, when given, gets the lines
// before the first header.
func tablesOnly(b []byte, depth int, prefix *[]byte) ([]span, error) {
	var out []span
	seenHeader, arrays, sorted := false, false, true
	err := scan(b, depth, func(raw [][]byte, t []byte) {
		keys := strs(raw)
		// Out of Encode's order (another writer's), a merge would open a
		// table twice.
		sorted = sorted && (len(out) == 0 || slices.Compare(out[len(out)-1].keys, keys) < 0)
		out = append(out, span{keys, t})
		seenHeader = true
		arrays = arrays || bytes.HasPrefix(bytes.TrimLeft(t, " "), []byte("[["))
	}, func(line []byte, keys [][]byte) error {
		switch {
		case keys != nil:
			seenHeader = true
			if len(keys) > depth || line[1] == '[' {
				return ErrNotTables
			}
		case !seenHeader:
			if prefix != nil {
				*prefix = append(*prefix, line...)
			}
		case len(bytes.TrimSpace(line)) > 0:
			return ErrNotTables
		}
		return nil
	})
	if err == nil && (arrays || !sorted) {
		err = ErrNotTables
	}
	return out, err
}
