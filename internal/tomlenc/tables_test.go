package tomlenc

import (
	"bytes"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"
)

// TestTables: every item at depth 3 comes back once, in order, and its
// bytes alone decode to that item — quoted names and the tables and arrays
// of tables below it included.
func TestTables(t *testing.T) {
	item := func(rule string) map[string]any {
		return map[string]any{"rule": rule, "tls": map[string]any{"options": "x"}, "entryPoints": []string{"https"}}
	}
	tree := map[string]any{
		"http": map[string]any{
			"routers": map[string]any{"a.b": item("a"), "plain": item("p"), `q"\]`: item("q"), "z": map[string]any{}},
			"services": map[string]any{"s": map[string]any{"loadBalancer": map[string]any{
				"servers": []map[string]any{{"url": "http://1"}, {"url": "http://2"}},
				"sticky":  map[string]any{"cookie": map[string]any{}},
			}}},
		},
		"tcp": map[string]any{"routers": map[string]any{"t": item("t")}},
	}
	var b bytes.Buffer
	if err := Encode(&b, tree); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := Tables(b.Bytes(), 3, func(keys []string, table []byte) {
		got = append(got, strings.Join(keys, "|"))
		var m map[string]any
		if _, err := toml.Decode(string(table), &m); err != nil {
			t.Fatalf("%v: %v\n%s", keys, err, table)
		}
		var want map[string]any
		_, _ = toml.Decode(b.String(), &want)
		for _, k := range keys {
			m, want = m[k].(map[string]any), want[k].(map[string]any)
		}
		if diff := cmp.Diff(m, want); diff != "" {
			t.Errorf("%v (-got +want):\n%s\n%s", keys, diff, table)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"http|routers|a.b", "http|routers|plain", `http|routers|q"\]`, "http|routers|z", "http|services|s", "tcp|routers|t"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("tables (-got +want):\n%s\n%s", diff, b.String())
	}
	if err := Tables([]byte("[a.\"b"), 2, func([]string, []byte) {}); err == nil {
		t.Error("a broken header: no error")
	}
}

// treeMerge is answer plus the depth-3 items of kept it lacks.
func treeMerge(kept, answer map[string]any, depth int) map[string]any {
	out := map[string]any{}
	for k, v := range answer {
		out[k] = v
	}
	for k, kv := range kept {
		av, has := out[k]
		if !has {
			out[k] = kv
		} else if depth > 1 {
			out[k] = treeMerge(kv.(map[string]any), av.(map[string]any), depth-1)
		}
	}
	return out
}

// TestMergeTables: merging two encodings gives the encoding of the merged
// trees, byte for byte, comment first.
func TestMergeTables(t *testing.T) {
	r := func(rule string) map[string]any {
		return map[string]any{"rule": rule, "tls": map[string]any{}, "service": "s"}
	}
	svc := func(urls ...string) map[string]any {
		var servers []map[string]any
		for _, u := range urls {
			servers = append(servers, map[string]any{"url": u})
		}
		return map[string]any{"loadBalancer": map[string]any{"servers": servers}}
	}
	kept := map[string]any{
		"http": map[string]any{
			"routers":     map[string]any{"a": r("old a"), "b": r("b"), "d.e": r("d")},
			"services":    map[string]any{"a": svc("http://1"), "b": svc("http://2", "http://3")},
			"middlewares": map[string]any{"m": map[string]any{"headers": map[string]any{"x": "y"}}},
		},
		"udp": map[string]any{"routers": map[string]any{"u": r("u")}},
	}
	for name, answer := range map[string]map[string]any{
		"empty":        {},
		"overlap":      {"http": map[string]any{"routers": map[string]any{"a": r("new a"), "c": r("c")}, "services": map[string]any{"c": svc("http://4")}}},
		"new protocol": {"tcp": map[string]any{"routers": map[string]any{"t": r("t")}}},
		"same":         kept,
	} {
		enc := func(tree map[string]any) []byte {
			var b bytes.Buffer
			b.WriteString("# comment\n")
			if len(tree) > 0 {
				b.WriteString("\n")
				if err := Encode(&b, tree); err != nil {
					t.Fatal(err)
				}
			}
			return b.Bytes()
		}
		got, err := MergeTables(enc(kept), enc(answer), 3)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := enc(treeMerge(kept, answer, 3)); string(got) != string(want) {
			t.Errorf("%s:\n%s\nwant\n%s", name, got, want)
		}
	}
	for name, bad := range map[string]string{
		"value above":  "[http]\n  x = 1\n",
		"array above":  "[[http]]\n",
		"array at":     "[http]\n  [http.routers]\n    [[http.routers.a]]\n",
		"broken":       "[http\n",
		"out of order": "[http]\n  [http.services]\n    [http.services.s]\n  [http.routers]\n    [http.routers.a]\n",
	} {
		if _, err := MergeTables([]byte(bad), nil, 3); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
