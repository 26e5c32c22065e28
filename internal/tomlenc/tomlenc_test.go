package tomlenc

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"
)

func TestEncodeRoundTrip(t *testing.T) {
	tree := map[string]any{
		"http": map[string]any{
			"routers": map[string]any{
				"a.b":   map[string]any{"rule": "Host(`x`)", "entryPoints": []string{"https"}, "priority": int64(3), "tls": map[string]any{}},
				"plain": map[string]any{"on": true, "w": 1.5, "n": 2, "odd": "\"\n\\\t\x01é"},
			},
			"services": map[string]any{
				"s": map[string]any{"loadBalancer": map[string]any{
					"servers": []map[string]any{{"url": "http://1"}, {"url": "http://2", "weight": int64(2)}},
					"sticky":  map[string]any{"cookie": map[string]any{}},
				}},
				"empty": map[string]any{"loadBalancer": map[string]any{"servers": []map[string]any{}}},
			},
			"list": []any{"a", int64(1), true},
		},
	}
	var b bytes.Buffer
	if err := Encode(&b, tree); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if _, err := toml.Decode(b.String(), &got); err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, b.String())
	}
	want := map[string]any{
		"http": map[string]any{
			"routers": map[string]any{
				"a.b":   map[string]any{"rule": "Host(`x`)", "entryPoints": []any{"https"}, "priority": int64(3), "tls": map[string]any{}},
				"plain": map[string]any{"on": true, "w": 1.5, "n": int64(2), "odd": "\"\n\\\t\x01é"},
			},
			"services": map[string]any{
				"s": map[string]any{"loadBalancer": map[string]any{
					"servers": []map[string]any{{"url": "http://1"}, {"url": "http://2", "weight": int64(2)}},
					"sticky":  map[string]any{"cookie": map[string]any{}},
				}},
				"empty": map[string]any{"loadBalancer": map[string]any{"servers": []any{}}},
			},
			"list": []any{"a", int64(1), true},
		},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("round trip (-got +want):\n%s\n%s", diff, b.String())
	}
	var again bytes.Buffer
	_ = Encode(&again, tree)
	if again.String() != b.String() {
		t.Error("not deterministic")
	}
	if err := Encode(&b, map[string]any{"x": struct{}{}}); err == nil {
		t.Error("an unsupported type encoded")
	}
}

func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "a\"\n[x]", "\\u0000", "\x00\x7f", "é", "'''"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v struct{ K string }
		if _, err := toml.Decode("K = "+Quote(s), &v); err != nil {
			t.Fatalf("Quote(%q) = %s does not parse: %v", s, Quote(s), err)
		}
		if v.K != string([]rune(s)) {
			t.Fatalf("round trip of %q gave %q", s, v.K)
		}
	})
}

func FuzzKey(f *testing.F) {
	for _, s := range []string{"a", "a.b", "", "é", "x y", "[z]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, k string) {
		var b bytes.Buffer
		if err := Encode(&b, map[string]any{"t": map[string]any{k: "v"}}); err != nil {
			t.Fatal(err)
		}
		var got map[string]map[string]string
		if _, err := toml.Decode(b.String(), &got); err != nil {
			t.Fatalf("key %q: %v\n%s", k, err, b.String())
		}
		if got["t"][string([]rune(k))] != "v" {
			t.Fatalf("key %q lost: %v", k, got)
		}
	})
}

// TestLargeTablesInParallel: a table with more keys than parallelMin is
// written by several goroutines; the bytes equal the one-goroutine writing,
// the result parses back to the tree, and an error in any chunk is returned.
func TestLargeTablesInParallel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4)) // several goroutines even on one CPU
	for _, n := range []int{parallelMin - 1, parallelMin, 3*parallelMin + 7} {
		routers := map[string]any{}
		want := map[string]any{}
		for i := range n {
			name := fmt.Sprintf("r%05d.x", i)
			routers[name] = map[string]any{"rule": fmt.Sprintf("Host(`h%d`)", i), "tls": map[string]any{"options": "default"},
				"servers": []map[string]any{{"url": "http://a"}}, "plain": i}
			want[name] = map[string]any{"rule": fmt.Sprintf("Host(`h%d`)", i), "tls": map[string]any{"options": "default"},
				"servers": []map[string]any{{"url": "http://a"}}, "plain": int64(i)}
		}
		tree := map[string]any{"http": map[string]any{"routers": routers}}
		var par bytes.Buffer
		if err := Encode(&par, tree); err != nil {
			t.Fatal(err)
		}
		var seq bytes.Buffer
		if err := subTables(&seq, []string{"http", "routers"}, sortedItems(nil, routers)); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(par.String(), seq.String()) {
			t.Fatalf("%d keys: the parallel writing differs from the sequential one", n)
		}
		var got map[string]map[string]map[string]any
		if _, err := toml.Decode(par.String(), &got); err != nil {
			t.Fatalf("%d keys: %v", n, err)
		}
		if diff := cmp.Diff(got["http"]["routers"], want); diff != "" {
			t.Errorf("%d keys: round trip (-got +want):\n%s", n, diff)
		}
		routers[fmt.Sprintf("r%05d.x", n-1)] = map[string]any{"bad": struct{}{}}
		if err := Encode(&par, tree); err == nil || !strings.Contains(err.Error(), "cannot encode") {
			t.Errorf("%d keys: an unsupported type in the last chunk gave %v", n, err)
		}
	}
}

// TestEmptyArrayOfTablesStaysInItsTable: servers = [] beside a sub-table
// that sorts before it is written before that sub-table's header, not in it.
func TestEmptyArrayOfTablesStaysInItsTable(t *testing.T) {
	tree := map[string]any{"lb": map[string]any{"healthCheck": map[string]any{"path": "/"}, "servers": []map[string]any{}}}
	var b bytes.Buffer
	if err := Encode(&b, tree); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if _, err := toml.Decode(b.String(), &got); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	want := map[string]any{"lb": map[string]any{"healthCheck": map[string]any{"path": "/"}, "servers": []any{}}}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("(-got +want):\n%s\n%s", diff, b.String())
	}
}
