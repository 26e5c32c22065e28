package tomlenc

import (
	"bytes"
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
