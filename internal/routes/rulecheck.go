package routes

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// httpMatchers are Traefik v3's HTTP rule matchers, with the fewest and
// most arguments each takes (docs: routing/routers, "Rule"; the v3 syntax).
var httpMatchers = map[string][2]int{
	"Host": {1, 1}, "HostRegexp": {1, 1}, "Path": {1, 1}, "PathPrefix": {1, 1}, "PathRegexp": {1, 1},
	"Method": {1, 1}, "Header": {2, 2}, "HeaderRegexp": {2, 2}, "Query": {1, 2}, "QueryRegexp": {2, 2},
	"ClientIP": {1, 1},
}

// checkRule checks an HTTP rule the way Traefik v3 parses one, so that a
// rule it would refuse (and with it the router) is found here: matchers
// with string arguments, combined with &&, || and ! and parentheses — a Go
// expression, as Traefik reads it (vulcand/predicate). Its errors never
// show the rule's strings: they may come from label values.
func checkRule(rule string) error { return checkRuleShape(rule, true) }

// checkRuleShape checks a rule's matchers, their names and number of
// arguments, and, with args, the arguments themselves.
func checkRuleShape(rule string, args bool) error {
	if rule == "" {
		return errors.New("it is empty")
	}
	e, err := parser.ParseExpr(rule)
	if err != nil {
		return errors.New("it is not matchers such as Host(`a.example.com`) combined with the operators &&, || and ! (not)")
	}
	return checkRuleExpr(e, args)
}

func checkRuleExpr(e ast.Expr, args bool) error {
	switch x := e.(type) {
	case *ast.ParenExpr:
		return checkRuleExpr(x.X, args)
	case *ast.UnaryExpr:
		if x.Op != token.NOT {
			return fmt.Errorf("operator %s: matchers combine with && (and), || (or) and ! (not)", x.Op)
		}
		return checkRuleExpr(x.X, args)
	case *ast.BinaryExpr:
		if x.Op != token.LAND && x.Op != token.LOR {
			return fmt.Errorf("operator %s: matchers combine with && (and), || (or) and ! (not)", x.Op)
		}
		if err := checkRuleExpr(x.X, args); err != nil {
			return err
		}
		return checkRuleExpr(x.Y, args)
	case *ast.CallExpr:
		return checkMatcher(x, args)
	}
	return errors.New("it is not matchers such as Host(`a.example.com`) combined with the operators &&, || and ! (not)")
}

func checkMatcher(c *ast.CallExpr, checkArgs bool) error {
	fn, ok := c.Fun.(*ast.Ident)
	if !ok {
		return errors.New("a matcher is a name and its arguments, such as Host(`a.example.com`)")
	}
	n, ok := httpMatchers[fn.Name]
	if !ok {
		return fmt.Errorf("no matcher %s in Traefik", fn.Name)
	}
	if len(c.Args) < n[0] || len(c.Args) > n[1] || c.Ellipsis.IsValid() {
		return fmt.Errorf("%s takes %d argument(s), not %d", fn.Name, n[1], len(c.Args))
	}
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		lit, ok := a.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return fmt.Errorf("%s takes strings, quoted with ` or \"", fn.Name)
		}
		v, err := strconv.Unquote(lit.Value)
		if err != nil {
			return fmt.Errorf("%s: a bad string", fn.Name)
		}
		args[i] = v
	}
	if !checkArgs {
		return nil
	}
	return checkMatcherArgs(fn.Name, args)
}

// checkMatcherArgs checks what Traefik v3 checks of a matcher's arguments.
func checkMatcherArgs(name string, args []string) error {
	switch name {
	case "Host":
		return checkHost(args[0])
	case "Path", "PathPrefix":
		if !strings.HasPrefix(args[0], "/") {
			return fmt.Errorf("%s's path does not start with /", name)
		}
	case "HostRegexp", "PathRegexp":
		if _, err := regexp.Compile(args[0]); err != nil {
			return fmt.Errorf("%s's regular expression does not compile", name)
		}
	case "HeaderRegexp", "QueryRegexp":
		if _, err := regexp.Compile(args[1]); err != nil {
			return fmt.Errorf("%s's regular expression does not compile", name)
		}
	case "ClientIP":
		if net.ParseIP(args[0]) == nil {
			if _, _, err := net.ParseCIDR(args[0]); err != nil {
				return errors.New("the ClientIP argument is not an IP address or CIDR range")
			}
		}
	}
	return nil
}

// checkHost accepts a host name Traefik can match: ASCII (Traefik v3
// refuses others: use the IDNA form), non-empty labels of letters, digits,
// - and _, or a single * label first.
func checkHost(h string) error {
	if h == "" || len(h) > 253 {
		return errors.New("the Host name is empty or longer than 253 characters")
	}
	for i, l := range strings.Split(h, ".") {
		if l == "" || len(l) > 63 {
			return errors.New("the Host name has an empty label (two dots in a row, or one at an end), or one longer than 63 characters")
		}
		if l == "*" && i == 0 {
			continue
		}
		for j := 0; j < len(l); j++ {
			c := l[j]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return errors.New("the Host name holds a character other than ASCII letters, digits, - and _ (write a non-ASCII name in its IDNA form, xn--…)")
			}
		}
	}
	return nil
}
