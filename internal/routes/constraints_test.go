package routes

import (
	"strings"
	"testing"

	"rancher-traefik/internal/rancher"
)

func mustConstraints(t testing.TB, s string) *Constraints {
	t.Helper()
	c, err := ParseConstraints(s)
	if err != nil {
		t.Fatalf("ParseConstraints(%q): %v", s, err)
	}
	return c
}

// TestConstraints: v1's tag constraints with v1.7's globs, and v2.11's
// expressions (the cases of v2.11's constraints_labels_test.go among them).
func TestConstraints(t *testing.T) {
	labels := map[string]string{"traefik.tags": "api, web", "hello": "world", "foo": "bar"}
	tests := []struct {
		expr string
		want bool
	}{
		{"", true},
		{"tag==api", true},
		{"tag==api, tag!=internal", true},
		{"tag==api tag!=web", false},
		{"tag==db", false},
		{"tag!=db", true},
		// v1.7's globs (ryanuber/go-glob): * is any run, none included.
		{"tag==ap*", true},
		{"tag==*pi", true},
		{"tag==a*i", true},
		{"tag==*", true},
		{"tag==a*p*i", true},
		{"tag==api*", true},
		{"tag==b*", false},
		{"tag==A*", false}, // case sensitive
		{"tag!=w*", false},
		{"tag==ap", false}, // no glob, no prefix match
		// v2's expressions.
		{`Label("hello", "world")`, true},
		{`Label("hello", "worlds")`, false},
		{`Label("hi", "world")`, false},
		{`!Label("hello", "world")`, false},
		{`Label("hello", "world") && Label("foo", "bar")`, true},
		{`Label("hello", "worlds") && Label("foo", "bar")`, false},
		{`Label("hello", "world") && !Label("foo", "bar")`, false},
		{`Label("hello", "world") || Label("foo", "bar")`, true},
		{`Label("hello", "worlds") || Label("foo", "bar")`, true},
		{`Label("hello", "worlds") || !Label("foo", "bar")`, false},
		{`LabelRegex("hello", "w\\w+")`, true},
		{"LabelRegex(\"hello\", `w\\w+s`)", false},
		{`LabelRegex("hi", "w\\w+")`, false},
		{`LabelRegex("hi", "^$")`, true},     // a missing label is ""
		{`LabelRegex("hello", "orl")`, true}, // unanchored
		{`!(Label("hello", "world") && Label("foo", "baz")) && LabelRegex("traefik.tags", "(^|,)\\s*api\\s*(,|$)")`, true},
		{`(Label("a","1") || Label("hello","world")) && !(Label("b","2"))`, true},
	}
	s := &rancher.Service{Labels: labels}
	for _, tt := range tests {
		c, err := ParseConstraints(tt.expr)
		if err != nil {
			t.Errorf("ParseConstraints(%q): %v", tt.expr, err)
			continue
		}
		if got := c.Allow(s); got != tt.want {
			t.Errorf("%s: Allow = %v, want %v", tt.expr, got, tt.want)
		}
	}
	var none *Constraints
	if !none.Allow(s) || none.String() != "" {
		t.Error("nil constraints do not admit every service")
	}
}

// TestConstraintsBadInput: each bad expression is an error that says what
// is wrong.
func TestConstraintsBadInput(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"api", "neither tag==NAME"},
		{"tag=api", `constraint "tag=api" is not tag==NAME or tag!=NAME (Traefik v1 constraints`},
		{"tags==api", `constraint "tags==api" is not tag==NAME`},
		{"tag==", `constraint "tag==" names no tag`},
		{"tag==api,label==x", `constraint "label==x" is not tag==NAME`},
		{`tag==api && Label("a","b")`, `is neither tag==NAME constraints (Traefik v1) nor an expression`},
		{`Label("hello")`, "Label takes two strings"},
		{`Label("a", "b", "c")`, "Label takes two strings"},
		{`Label("a", b)`, "Label takes two strings"},
		{`Label("a", 1)`, "Label takes two strings"},
		{`Foo("hello", "x")`, "the functions are Label"},
		{`x.Label("a","b")`, "the functions are Label"},
		{`LabelRegex("hello", "w(\\w+")`, "LabelRegex(\"hello\", …): error parsing regexp"},
		{`Label("a","b") & Label("c","d")`, "operator &"},
		{`-Label("a","b")`, "operator -"},
		{`"a"`, "a constraint is Label"},
		{`Label("a","b") &&`, "neither tag==NAME"},
		{`(Label("a","b")`, "neither tag==NAME"},
		{"Label(\"a\",\"b\")\n)", "neither tag==NAME"},
		{strings.Repeat(`!`, maxConstraintLen) + `Label("a","b")`, "more than 4096"},
	}
	for _, tt := range tests {
		_, err := ParseConstraints(tt.expr)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseConstraints(%.40q) = %v, want an error with %q", tt.expr, err, tt.want)
		}
	}
}

// TestGlobMatch: v1.7's glob semantics on the edge cases.
func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, subj string
		want          bool
	}{
		{"", "", true}, {"", "a", false}, {"*", "", true}, {"**", "abc", true},
		{"a*a", "a", false}, {"a*a", "aa", true}, {"a*b*c", "abc", true}, {"a*b*c", "acb", false},
		{"*.example.com", "x.example.com", true}, {"*.example.com", "example.com", false},
		{"x*y", "xaybyc", false}, {"x*y", "xaybyy", true},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.subj); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.subj, got, tt.want)
		}
	}
}

// FuzzConstraints: any value either fails to parse or gives constraints
// that decide any service without panicking.
func FuzzConstraints(f *testing.F) {
	for _, s := range []string{"tag==api", "tag!=a*b", `Label("a","b") && !LabelRegex("c", "^d")`, `((Label("a","b")))`, `Label("a",` + "`x`" + `)`, "tag==api, tag==*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		c, err := ParseConstraints(expr)
		if err != nil {
			if c != nil {
				t.Fatal("constraints with an error")
			}
			return
		}
		c.Allow(&rancher.Service{Labels: map[string]string{"traefik.tags": expr, "a": "b", expr: expr}})
		if strings.TrimSpace(expr) != c.String() {
			t.Fatalf("String() = %q, want %q", c.String(), strings.TrimSpace(expr))
		}
	})
}
