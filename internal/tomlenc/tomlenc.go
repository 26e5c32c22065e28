// Package tomlenc writes TOML by hand for the two shapes rancher-traefik
// produces: quoted string literals for templates, and configuration trees
// (nested maps) with sorted keys, fast enough for 10,000 services.
package tomlenc

import (
	"bytes"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Quote marshals s as a TOML basic string: printing it cannot inject
// configuration, whatever s holds.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	quoteTo(&b, s)
	return b.String()
}

type writer interface {
	WriteByte(byte) error
	WriteString(string) (int, error)
	WriteRune(rune) (int, error)
}

func quoteTo(b writer, s string) {
	if plain(s) {
		_ = b.WriteByte('"')
		_, _ = b.WriteString(s)
		_ = b.WriteByte('"')
		return
	}
	_ = b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			_, _ = b.WriteString(`\"`)
		case '\\':
			_, _ = b.WriteString(`\\`)
		case '\n':
			_, _ = b.WriteString(`\n`)
		case '\r':
			_, _ = b.WriteString(`\r`)
		case '\t':
			_, _ = b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f {
				_, _ = b.WriteString(fmt.Sprintf(`\u%04X`, r))
			} else {
				_, _ = b.WriteRune(r)
			}
		}
	}
	_ = b.WriteByte('"')
}

// plain reports whether s is printable ASCII without " or \\ (most values):
// it is written as it is.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// key writes a bare key when it can, else a quoted one.
func key(b *bytes.Buffer, k string) {
	bare := k != ""
	for i := 0; i < len(k) && bare; i++ {
		c := k[i]
		bare = c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
	}
	if bare {
		b.WriteString(k)
		return
	}
	quoteTo(b, k)
}

// Encode writes a tree: map[string]any of string, bool, int, int64, float64,
// []string, []any of scalars, map[string]any and []map[string]any. Keys are
// sorted, so the same tree gives the same bytes.
func Encode(b *bytes.Buffer, tree map[string]any) error {
	return table(b, make([]string, 0, 8), tree)
}

// item is a key of a table with its value.
type item struct {
	k string
	v any
}

// sortedItems appends m's items to buf, sorted by key: the table is then
// walked without looking each key up again.
func sortedItems(buf []item, m map[string]any) []item {
	its := buf[:0]
	if len(m) > cap(its) { // a large table (10,000 routers): allocated once
		its = make([]item, 0, len(m))
	}
	for k, v := range m {
		its = append(its, item{k, v})
	}
	slices.SortFunc(its, func(a, b item) int { return strings.Compare(a.k, b.k) })
	return its
}

func header(b *bytes.Buffer, path []string, array bool) {
	indent(b, len(path)-1)
	if array {
		b.WriteString("[[")
	} else {
		b.WriteByte('[')
	}
	for i, p := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		key(b, p)
	}
	if array {
		b.WriteString("]]\n")
	} else {
		b.WriteString("]\n")
	}
}

const spaces = "                                                                "

func indent(b *bytes.Buffer, n int) {
	if 2*n <= len(spaces) {
		b.WriteString(spaces[:2*n])
		return
	}
	b.WriteString(strings.Repeat("  ", n))
}

func table(b *bytes.Buffer, path []string, m map[string]any) error {
	var buf [16]item
	items := sortedItems(buf[:], m)
	// Plain values first: after a sub-table header they would belong to it.
	// An empty array of tables is one of them (servers = []).
	for _, it := range items {
		switch v := it.v.(type) {
		case map[string]any:
			continue
		case []map[string]any:
			if len(v) > 0 {
				continue
			}
		}
		indent(b, len(path))
		key(b, it.k)
		b.WriteString(" = ")
		if err := value(b, it.v); err != nil {
			return fmt.Errorf("%s.%s: %w", strings.Join(path, "."), it.k, err)
		}
		b.WriteByte('\n')
	}
	if len(items) >= parallelMin {
		return subTablesParallel(b, path, items)
	}
	return subTables(b, path, items)
}

// subTables writes the sub-tables and arrays of tables among items, in
// order.
func subTables(b *bytes.Buffer, path []string, items []item) error {
	for _, it := range items {
		p := append(path, it.k) // table does not keep p past this call
		switch v := it.v.(type) {
		case map[string]any:
			header(b, p, false)
			if err := table(b, p, v); err != nil {
				return err
			}
		case []map[string]any:
			for _, el := range v { // none when empty: written as a value
				header(b, p, true)
				if err := table(b, p, el); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// parallelMin is the fewest keys of one table (10,000 routers, say) that are
// written by several goroutines, each into its own buffer, joined in order.
const parallelMin = 512

func subTablesParallel(b *bytes.Buffer, path []string, items []item) error {
	workers := min(runtime.GOMAXPROCS(0), len(items)/(parallelMin/2))
	if workers <= 1 {
		return subTables(b, path, items)
	}
	ks := slices.Clone(items) // the caller's items may live on its stack
	per := (len(ks) + workers - 1) / workers
	bufs := make([]*bytes.Buffer, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := min(w*per, len(ks)), min((w+1)*per, len(ks))
		bufs[w] = getChunk()
		wg.Go(func() {
			// Each goroutine has its own path: subTables appends to it.
			p := make([]string, len(path), len(path)+8)
			copy(p, path)
			errs[w] = subTables(bufs[w], p, ks[lo:hi])
		})
	}
	wg.Wait()
	var err error
	for w := range workers {
		if err == nil {
			if err = errs[w]; err == nil {
				b.Write(bufs[w].Bytes())
			}
		}
		putChunk(bufs[w])
	}
	return err
}

// chunks keeps the chunk buffers of subTablesParallel between calls: a
// publisher writes the same large tables at every change. They are held
// until Release, not in a sync.Pool: a pool lets go of its buffers only
// at the second collection after their use, and an idle process may not
// collect for minutes, so a large environment's buffers (about its whole
// encoding) would stay resident while it idles.
var chunks struct {
	sync.Mutex
	free []*bytes.Buffer
}

// getChunk returns an empty chunk buffer, kept or new.
func getChunk() *bytes.Buffer {
	chunks.Lock()
	defer chunks.Unlock()
	if n := len(chunks.free); n > 0 {
		b := chunks.free[n-1]
		chunks.free = chunks.free[:n-1]
		return b
	}
	return new(bytes.Buffer)
}

// putChunk keeps b for the next encoding.
func putChunk(b *bytes.Buffer) {
	b.Reset()
	chunks.Lock()
	defer chunks.Unlock()
	chunks.free = append(chunks.free, b)
}

// Release lets go of the buffers kept between encodings, for their memory
// to be returned to the system while the process idles; the next large
// encoding makes new ones.
func Release() {
	chunks.Lock()
	defer chunks.Unlock()
	clear(chunks.free)
	chunks.free = nil
}

func value(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case string:
		quoteTo(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eE") && !strings.Contains(s, "Inf") && !strings.Contains(s, "NaN") {
			s += ".0"
		}
		b.WriteString(s)
	case []map[string]any: // only empty ones are values
		if len(x) > 0 {
			return fmt.Errorf("an array of tables as a value")
		}
		b.WriteString("[]")
	case []string:
		b.WriteByte('[')
		for i, s := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			quoteTo(b, s)
		}
		b.WriteByte(']')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := value(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	default:
		return fmt.Errorf("cannot encode %T", v)
	}
	return nil
}

// Header writes the header of the table at path as Encode writes it
// (indented by depth): the levels above the items a caller encoded one by
// one with EncodeTable.
func Header(b *bytes.Buffer, path []string) { header(b, path, false) }

// EncodeTable writes what Encode writes for the table m at path of a tree:
// its header and everything below it. Encoded one by one, in key order,
// under the Headers of the levels above, a tree's tables at one depth give
// Encode's bytes, as long as those levels hold only tables (a plain value
// is written before a level's sub-tables).
func EncodeTable(b *bytes.Buffer, path []string, m map[string]any) error {
	header(b, path, false)
	return table(b, path, m)
}
