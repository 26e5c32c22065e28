package tomlenc

import (
	"bytes"
	"fmt"
	"strconv"
)

// Tables calls fn, in order, for every table at depth (a header of depth
// keys, such as http.routers.NAME at 3) in b, which Encode wrote: with the
// table's keys and its bytes — its header line, its values and every table
// below it. It lets a caller compare or copy the items of one encoding
// without encoding them again.
func Tables(b []byte, depth int, fn func(keys []string, table []byte)) error {
	var cur []string // the keys of the table being read; nil: none
	start := 0
	keys := make([]string, 0, depth+4)
	for off := 0; off < len(b); {
		end := bytes.IndexByte(b[off:], '\n')
		if end < 0 {
			end = len(b)
		} else {
			end += off + 1
		}
		line := bytes.TrimLeft(b[off:end], " ")
		if len(line) > 0 && line[0] == '[' {
			var err error
			if keys, err = headerKeys(keys[:0], line); err != nil {
				return fmt.Errorf("offset %d: %w", off, err)
			}
			if cur != nil && (len(keys) <= depth || !equal(keys[:depth], cur)) {
				fn(cur, b[start:off])
				cur = nil
			}
			if cur == nil && len(keys) == depth {
				cur, start = append(cur[:0:0], keys...), off
			}
		}
		off = end
	}
	if cur != nil {
		fn(cur, b[start:])
	}
	return nil
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// headerKeys appends the keys of a header line ([a.b] or [[a."b.c"]]) to
// keys.
func headerKeys(keys []string, line []byte) ([]string, error) {
	i := 1
	if len(line) > 1 && line[1] == '[' {
		i = 2
	}
	for {
		if i >= len(line) {
			return nil, fmt.Errorf("header %q does not end", line)
		}
		var k string
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
			var err error
			if k, err = strconv.Unquote(string(line[i : j+1])); err != nil {
				return nil, fmt.Errorf("header %q: %w", line, err)
			}
			i = j + 1
		} else {
			j := i
			for j < len(line) && line[j] != '.' && line[j] != ']' {
				j++
			}
			k, i = string(line[i:j]), j
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
