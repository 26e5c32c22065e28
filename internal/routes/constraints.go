package routes

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"strconv"
	"strings"

	"rancher-traefik/internal/rancher"
)

// Constraints decide which services are published
// (TRAEFIK_RANCHER_CONSTRAINTS), in either of two languages:
//
//   - Traefik v1's, on the traefik.tags label: tag==api requires a tag
//     matching api, tag!=internal forbids any tag matching internal; comma
//     or space separated, all must hold. The value is a glob where * stands
//     for any run of characters, as v1.7's types.Constraint matched tags
//     with ryanuber/go-glob (traefik v1.7 types/types.go,
//     MatchConstraintWithAtLeastOneTag): tag==ap* admits the tag api.
//   - Traefik v2's expressions on the service's labels, as v2.11's
//     pkg/provider/constraints/constraints_labels.go reads them:
//     Label("k","v") (the label k is exactly v), LabelRegex("k","re") (the
//     label k matches the regular expression, unanchored, as Go's
//     regexp.MatchString), combined with &&, ||, ! and parentheses. Like v2
//     (vulcand/predicate parses Go expressions), the arguments are Go string
//     literals: "…" with escapes, or `…`. Unlike v2, a bad regular
//     expression is an error at start, not a constraint that never holds.
//
// The zero value (and nil) admits every service.
type Constraints struct {
	src   string
	match func(s *rancher.Service) bool
}

// maxConstraintLen bounds the expression: a constraint is a line of
// configuration, and the parser's work grows with it.
const maxConstraintLen = 4096

// String is the constraint as written.
func (c *Constraints) String() string {
	if c == nil {
		return ""
	}
	return c.src
}

// Allow reports whether the constraints admit s.
func (c *Constraints) Allow(s *rancher.Service) bool {
	if c == nil || c.match == nil {
		return true
	}
	return c.match(s)
}

// ParseConstraints reads TRAEFIK_RANCHER_CONSTRAINTS: "" (every service),
// v1's "tag==api,tag!=internal", or a v2 expression such as
// Label("traefik.tags","api") && !LabelRegex("env","^dev").
func ParseConstraints(s string) (*Constraints, error) {
	src := strings.TrimSpace(s)
	if src == "" {
		return &Constraints{}, nil
	}
	if len(src) > maxConstraintLen {
		return nil, fmt.Errorf("the constraint is %d characters long, more than %d", len(src), maxConstraintLen)
	}
	// v1's form starts with tag (a mistyped "tag=api" too), v2's has calls.
	if strings.HasPrefix(src, "tag") && !strings.Contains(src, "(") {
		tags, err := parseTagConstraints(src)
		if err != nil {
			return nil, err
		}
		return &Constraints{src: src, match: func(s *rancher.Service) bool { return tagsAllow(s, tags) }}, nil
	}
	m, err := parseLabelExpr(src)
	if err != nil {
		return nil, err
	}
	return &Constraints{src: src, match: func(s *rancher.Service) bool { return m(s.Labels) }}, nil
}

// tagConstraint is one v1 constraint: a tag glob, required or forbidden.
type tagConstraint struct {
	glob   string
	negate bool
}

// parseTagConstraints reads v1's "tag==api,tag!=internal" (space or comma
// separated).
func parseTagConstraints(s string) ([]tagConstraint, error) {
	var out []tagConstraint
	for f := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		var c tagConstraint
		switch {
		case strings.HasPrefix(f, "tag=="):
			c.glob = strings.TrimPrefix(f, "tag==")
		case strings.HasPrefix(f, "tag!="):
			c.glob, c.negate = strings.TrimPrefix(f, "tag!="), true
		default:
			return nil, fmt.Errorf("constraint %q is not tag==NAME or tag!=NAME (Traefik v1 constraints; a v2 expression such as Label(\"k\",\"v\") cannot be mixed with them)", f)
		}
		if c.glob == "" {
			return nil, fmt.Errorf("constraint %q names no tag", f)
		}
		out = append(out, c)
	}
	return out, nil
}

// tagsAllow applies v1 constraints to the traefik.tags label: each must
// hold, as v1.7's Constrainer.MatchConstraints (a tag==X needs a tag
// matching X; a tag!=X, none).
func tagsAllow(s *rancher.Service, cs []tagConstraint) bool {
	var tags []string
	for t := range strings.SplitSeq(s.Labels["traefik.tags"], ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	for _, c := range cs {
		found := false
		for _, t := range tags {
			if globMatch(c.glob, t) {
				found = true
				break
			}
		}
		if found == c.negate {
			return false
		}
	}
	return true
}

// globMatch matches subj against a pattern where * stands for any run of
// characters (none included) and every other character for itself, case
// sensitive: the semantics of ryanuber/go-glob, which v1.7 used.
func globMatch(pattern, subj string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return subj == pattern
	}
	first, last := parts[0], parts[len(parts)-1]
	if !strings.HasPrefix(subj, first) {
		return false
	}
	subj = subj[len(first):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(subj, mid)
		if i < 0 {
			return false
		}
		subj = subj[i+len(mid):]
	}
	return strings.HasSuffix(subj, last)
}

// labelMatcher is a compiled v2 constraint expression.
type labelMatcher func(labels map[string]string) bool

// parseLabelExpr compiles a v2 constraint expression. Like v2's
// vulcand/predicate it is read as a Go expression, with only the calls
// Label and LabelRegex, string literals, &&, ||, ! and parentheses.
func parseLabelExpr(src string) (labelMatcher, error) {
	e, err := parser.ParseExpr(src)
	if err == nil {
		var m labelMatcher
		if m, err = compileExpr(e); err == nil {
			return m, nil
		}
	}
	return nil, fmt.Errorf("%q is neither tag==NAME constraints (Traefik v1) nor an expression of Label(\"k\",\"v\"), LabelRegex(\"k\",\"re\"), &&, || and ! (Traefik v2): %w", src, err)
}

func compileExpr(e ast.Expr) (labelMatcher, error) {
	switch x := e.(type) {
	case *ast.ParenExpr:
		return compileExpr(x.X)
	case *ast.UnaryExpr:
		if x.Op != token.NOT {
			return nil, fmt.Errorf("operator %s: only !, && and || combine constraints", x.Op)
		}
		m, err := compileExpr(x.X)
		if err != nil {
			return nil, err
		}
		return func(l map[string]string) bool { return !m(l) }, nil
	case *ast.BinaryExpr:
		if x.Op != token.LAND && x.Op != token.LOR {
			return nil, fmt.Errorf("operator %s: only !, && and || combine constraints", x.Op)
		}
		a, err := compileExpr(x.X)
		if err != nil {
			return nil, err
		}
		b, err := compileExpr(x.Y)
		if err != nil {
			return nil, err
		}
		if x.Op == token.LAND {
			return func(l map[string]string) bool { return a(l) && b(l) }, nil
		}
		return func(l map[string]string) bool { return a(l) || b(l) }, nil
	case *ast.CallExpr:
		return compileCall(x)
	}
	return nil, errors.New("a constraint is Label(\"k\",\"v\") or LabelRegex(\"k\",\"re\"), combined with !, && and ||")
}

func compileCall(c *ast.CallExpr) (labelMatcher, error) {
	fn, ok := c.Fun.(*ast.Ident)
	if !ok || (fn.Name != "Label" && fn.Name != "LabelRegex") {
		return nil, errors.New("the functions are Label(\"k\",\"v\") and LabelRegex(\"k\",\"re\")")
	}
	if len(c.Args) != 2 || c.Ellipsis.IsValid() {
		return nil, fmt.Errorf("%s takes two strings: the label name and the value", fn.Name)
	}
	var args [2]string
	for i, a := range c.Args {
		lit, ok := a.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return nil, fmt.Errorf("%s takes two strings: the label name and the value", fn.Name)
		}
		v, err := strconv.Unquote(lit.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn.Name, err)
		}
		args[i] = v
	}
	key, val := args[0], args[1]
	if fn.Name == "Label" {
		return func(l map[string]string) bool { return l[key] == val }, nil
	}
	re, err := regexp.Compile(val)
	if err != nil {
		return nil, fmt.Errorf("LabelRegex(%q, …): %w", key, err)
	}
	return func(l map[string]string) bool { return re.MatchString(l[key]) }, nil
}
