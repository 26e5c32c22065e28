package routes

import (
	"slices"
	"strings"
	"testing"

	"rancher-traefik/internal/rancher"
)

func TestNames(t *testing.T) {
	tests := []struct {
		service, stack string
		want           string
	}{
		// Letters and digits: the names of earlier releases.
		{"whoami", "iamfoo", "whoami-iamfoo"},
		{"Web2", "Prod", "Web2-Prod"},
		// A dash of a name is doubled: the lone dash is the separator.
		{"my-app", "web", "my--app-web"},
		{"c", "a-b", "c-a--b"},
		{"c-a", "b", "c--a-b"},
		{"a--b", "s", "a----b-s"},
		// Leading and trailing dashes, other bytes: _ and hex.
		{"-a", "s", "_2da-s"},
		{"a-", "s", "a_2d-s"},
		{"a_b", "s", "a_5fb-s"},
		{"a.b", "s", "a_2eb-s"},
		{"服务", "zz", "_e6_9c_8d_e5_8a_a1-zz"},
		{"数据", "zz", "_e6_95_b0_e6_8d_ae-zz"},
		{"", "s", "_-s"},
	}
	for _, tt := range tests {
		got := baseName(&rancher.Service{Name: tt.service, Stack: tt.stack})
		if got != tt.want {
			t.Errorf("baseName(%q, %q) = %q, want %q", tt.service, tt.stack, got, tt.want)
		}
		if parts, ok := decodeName(got); !ok || !slices.Equal(parts, []string{tt.service, tt.stack}) {
			t.Errorf("decodeName(%q) = %q, %v", got, parts, ok)
		}
		for i := 0; i < len(got); i++ {
			if c := got[i]; !alnum(c) && c != '-' && c != '_' {
				t.Errorf("%q holds %q", got, c)
			}
		}
	}
}

// TestNamesCollide: the pairs that once shared a name, and the suffixes
// (segments, middleware kinds, the plain-HTTP twin) that follow a base.
func TestNamesCollide(t *testing.T) {
	names := [][]string{
		{"a-b", "c"}, {"b", "c-a"}, {"c", "a-b"}, {"c-a", "b"},
		{"服务", "zz"}, {"数据", "zz"}, {"--", "zz"}, {"-", "-zz"},
		{"x", "y", "z"}, {"x-y", "z"}, {"x", "y-z"}, {"x", "y", "http"}, {"x", "y-http"},
		{"x", "y", "z", "headers"}, {"x", "y", "z-headers"}, {"x", "", "y"}, {"x", "y", ""},
	}
	seen := map[string][]string{}
	for _, parts := range names {
		n := joinName(parts...)
		if prev, ok := seen[n]; ok {
			t.Errorf("%q and %q both give %q", prev, parts, n)
		}
		seen[n] = parts
	}
}

func TestDecodeNameBad(t *testing.T) {
	for _, name := range []string{"a---b", "a.b", "a_zz", "a_2", "a b", "é"} {
		if parts, ok := decodeName(name); ok {
			t.Errorf("decodeName(%q) = %q, want not a name", name, parts)
		}
	}
}

// FuzzNames proves joinName injective: decodeName undoes it, whatever the
// parts hold, and the names hold only letters, digits, - and _.
func FuzzNames(f *testing.F) {
	f.Add("a-b", "c", "")
	f.Add("服务", "zz", "seg")
	f.Add("-", "--", "_2d")
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		for _, parts := range [][]string{{a, b}, {a, b, c}} {
			n := joinName(parts...)
			got, ok := decodeName(n)
			if !ok || !slices.Equal(got, parts) {
				t.Fatalf("decodeName(joinName(%q)) = %q, %v (name %q)", parts, got, ok, n)
			}
			if strings.Trim(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
				t.Fatalf("%q holds other characters", n)
			}
			if subName(joinName(a, b), c) != joinName(a, b, c) {
				t.Fatalf("subName differs from joinName")
			}
		}
	})
}
