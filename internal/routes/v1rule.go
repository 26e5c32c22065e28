package routes

import (
	"fmt"
	"regexp"
	"strings"
)

// v1Rule is a translated Traefik v1 frontend rule.
type v1Rule struct {
	matcher     string       // Traefik v3 rule syntax
	middlewares []middleware // modifiers: strip, add, replace
	v1Len       int          // the length of the v1 rule as written: v1's priority
}

// translateV1Rule turns a Traefik v1 frontend rule
// ("Host:a.com,b.com;PathPrefixStrip:/api") into Traefik v3 syntax
// ("(Host(`a.com`) || Host(`b.com`)) && PathPrefix(`/api`)") and the
// middlewares its modifiers need.
func translateV1Rule(rule string) (*v1Rule, error) {
	out := &v1Rule{v1Len: len(rule)}
	var parts []string
	for p := range strings.SplitSeq(rule, ";") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		name, arg, ok := strings.Cut(p, ":")
		if !ok {
			return nil, fmt.Errorf("%q is not Matcher:value", p)
		}
		name = strings.TrimSpace(name)
		arg = strings.TrimSpace(arg)
		if arg == "" {
			return nil, fmt.Errorf("%s has no value", name)
		}
		if strings.Contains(arg, "`") {
			return nil, fmt.Errorf("%s: a backtick cannot be expressed in a Traefik v3 rule", name)
		}
		m, err := translateV1Matcher(name, arg, out)
		if err != nil {
			return nil, err
		}
		if m != "" {
			parts = append(parts, m)
		}
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("no matcher (a rule needs Host, Path, … as well as modifiers)")
	}
	out.matcher = strings.Join(parts, " && ")
	return out, nil
}

// translateV1Matcher translates one matcher or modifier (name as written);
// a modifier adds its middleware to out and gives no matcher.
func translateV1Matcher(written, arg string, out *v1Rule) (string, error) {
	vals := splitArgs(arg)
	var m string
	var err error
	switch name := strings.ToLower(written); name {
	case "host":
		m, err = hostMatcher(vals)
	case "hostregexp":
		m, err = anyOfErr(vals, func(v string) (string, error) {
			re, err := templateRegexp(v, true)
			return "HostRegexp(`" + re + "`)", err
		})
	case "path", "pathprefix", "pathstrip", "pathprefixstrip":
		m, err = anyOfErr(vals, pathMatcher(strings.HasPrefix(name, "pathprefix")))
		if strings.HasSuffix(name, "strip") {
			out.middlewares = append(out.middlewares, stripPrefix{prefixes: vals})
		}
	case "pathprefixstripregex", "pathstripregex":
		// PathStripRegex matches the whole path (Traefik v1.7 rules.go:
		// pathStripRegex is path with strip), PathPrefixStripRegex its
		// start; both strip what matched.
		whole := name == "pathstripregex"
		var res []string
		m, err = anyOfErr(vals, func(v string) (string, error) {
			re, err := templateRegexp(v, false)
			strip := strings.TrimSuffix(re, "$") // stripPrefixRegex strips a prefix
			res = append(res, strip)
			if !whole {
				re = strip
			}
			return "PathRegexp(`" + re + "`)", err
		})
		out.middlewares = append(out.middlewares, stripPrefixRegex{regex: res})
	case "addprefix", "replacepath", "replacepathregex":
		return "", translateV1Modifier(name, arg, out)
	case "method":
		m = anyOf(vals, func(v string) string { return "Method(`" + strings.ToUpper(v) + "`)" })
	case "headers", "headersregexp", "query":
		return translateV1RequestMatcher(name, vals)
	default:
		return "", fmt.Errorf("unknown matcher %q", written)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", written, err)
	}
	return m, nil
}

// translateV1Modifier adds the middleware of AddPrefix, ReplacePath or
// ReplacePathRegex to out.
func translateV1Modifier(name, arg string, out *v1Rule) error {
	switch name {
	case "addprefix":
		out.middlewares = append(out.middlewares, addPrefix{prefix: arg})
	case "replacepath":
		out.middlewares = append(out.middlewares, replacePath{path: arg})
	case "replacepathregex":
		re, repl, ok := strings.Cut(arg, " ")
		if !ok {
			return fmt.Errorf("matcher ReplacePathRegex needs \"regex replacement\"")
		}
		if _, err := regexp.Compile(re); err != nil {
			return fmt.Errorf("matcher ReplacePathRegex: %w", err)
		}
		out.middlewares = append(out.middlewares, replacePathRegex{regex: re, replacement: strings.TrimSpace(repl)})
	}
	return nil
}

// translateV1RequestMatcher translates Headers, HeadersRegexp and Query.
func translateV1RequestMatcher(name string, vals []string) (string, error) {
	switch name {
	case "headers":
		if len(vals) != 2 {
			return "", fmt.Errorf("matcher Headers needs key,value")
		}
		return "Header(`" + vals[0] + "`, `" + vals[1] + "`)", nil
	case "headersregexp":
		if len(vals) != 2 {
			return "", fmt.Errorf("matcher HeadersRegexp needs key,regexp")
		}
		if _, err := regexp.Compile(vals[1]); err != nil {
			return "", fmt.Errorf("matcher HeadersRegexp: %w", err)
		}
		return "HeaderRegexp(`" + vals[0] + "`, `" + vals[1] + "`)", nil
	}
	var qs []string
	for _, v := range vals {
		k, val, _ := strings.Cut(v, "=")
		if k == "" {
			return "", fmt.Errorf("matcher Query needs key=value pairs")
		}
		qs = append(qs, "Query(`"+k+"`, `"+val+"`)")
	}
	m := strings.Join(qs, " && ")
	if len(qs) > 1 {
		m = "(" + m + ")"
	}
	return m, nil
}

// splitArgs splits on commas outside {…} placeholders.
func splitArgs(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '{':
			depth++
		case '}':
			depth--
		case ',':
			if depth == 0 {
				if v := strings.TrimSpace(s[start:i]); v != "" {
					out = append(out, v)
				}
				start = i + 1
			}
		}
	}
	if v := strings.TrimSpace(s[start:]); v != "" {
		out = append(out, v)
	}
	return out
}

func anyOf(vals []string, f func(string) string) string {
	ms := make([]string, len(vals))
	for i, v := range vals {
		ms[i] = f(v)
	}
	if len(ms) == 1 {
		return ms[0]
	}
	return "(" + strings.Join(ms, " || ") + ")"
}

// hostMatcher is Host of each value, in lower case and ASCII (asciiHost).
func hostMatcher(vals []string) (string, error) {
	for i, v := range vals {
		h, err := asciiHost(strings.ToLower(v))
		if err != nil {
			return "", err
		}
		vals[i] = "Host(`" + h + "`)"
	}
	if len(vals) == 1 {
		return vals[0], nil
	}
	return "(" + strings.Join(vals, " || ") + ")", nil
}

func anyOfErr(vals []string, f func(string) (string, error)) (string, error) {
	var err error
	m := anyOf(vals, func(v string) string {
		s, e := f(v)
		if e != nil && err == nil {
			err = e
		}
		return s
	})
	return m, err
}

// pathMatcher makes Path/PathPrefix, or PathRegexp when the v1 path holds
// {name:regexp} placeholders.
func pathMatcher(prefix bool) func(string) (string, error) {
	return func(v string) (string, error) {
		if !strings.HasPrefix(v, "/") {
			return "", fmt.Errorf("path %q does not start with /", v)
		}
		if !strings.Contains(v, "{") {
			if prefix {
				return "PathPrefix(`" + v + "`)", nil
			}
			return "Path(`" + v + "`)", nil
		}
		re, err := templateRegexp(v, false)
		if err != nil {
			return "", err
		}
		if prefix {
			re = strings.TrimSuffix(re, "$")
		}
		return "PathRegexp(`" + re + "`)", nil
	}
}

// templateRegexp turns a v1 template ("{sub:[a-z]+}.example.com",
// "/users/{id:[0-9]+}") into an anchored Go regexp; literal parts are quoted.
// A placeholder without a pattern matches one host label or path segment.
func templateRegexp(t string, host bool) (string, error) {
	var b strings.Builder
	b.WriteString("^")
	for t != "" {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			b.WriteString(regexp.QuoteMeta(t))
			break
		}
		b.WriteString(regexp.QuoteMeta(t[:i]))
		depth, j := 0, i
		for ; j < len(t); j++ {
			if t[j] == '{' {
				depth++
			} else if t[j] == '}' {
				depth--
				if depth == 0 {
					break
				}
			}
		}
		if j >= len(t) {
			return "", fmt.Errorf("unbalanced { in %q", t)
		}
		inner := t[i+1 : j]
		_, pattern, ok := strings.Cut(inner, ":")
		if !ok || pattern == "" {
			pattern = "[^/]+"
			if host {
				pattern = "[^.]+"
			}
		}
		if _, err := regexp.Compile(pattern); err != nil {
			return "", fmt.Errorf("placeholder %q: %w", inner, err)
		}
		b.WriteString("(?:" + pattern + ")")
		t = t[j+1:]
	}
	b.WriteString("$")
	return b.String(), nil
}
