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
