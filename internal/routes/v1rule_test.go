package routes

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/rancher"
)

// buildRule builds one service whose Traefik v1 frontend rule is rule, as
// the product does (Build), and returns its router's rule and the kinds of
// its middlewares in order — or, when the label is refused, the problem
// reported for it.
func buildRule(t testing.TB, rule string) (matcher string, kinds []string, problem string) {
	t.Helper()
	const label = "traefik.frontend.rule"
	snap := &rancher.Snapshot{Services: []rancher.Service{{Name: "app", Stack: "s", Kind: "service", State: "active",
		Labels:     map[string]string{"traefik.enable": "true", "traefik.port": "80", label: rule},
		Containers: []rancher.Container{{Name: "s-app-1", PrimaryIP: "10.0.0.1", State: "running"}}}}}
	res := Build(snap, Options{Domain: "example.com", CredentialDir: testCredDir, CredentialKey: testCredKey})
	if len(res.Warnings) > 0 {
		if w := res.Warnings[0]; len(res.Warnings) > 1 || w.Label != label {
			t.Fatalf("%q: warnings %v, want one, for %s", rule, res.Warnings, label)
		}
		return "", nil, res.Warnings[0].Msg
	}
	routers := Routers(res.Config)
	if len(routers) != 1 {
		t.Fatalf("%q: routers %v, want one", rule, routers)
	}
	httpCfg := res.Config["http"].(map[string]any)
	router := httpCfg["routers"].(map[string]any)[strings.TrimPrefix(routers[0], "http/")].(map[string]any)
	mws, _ := router["middlewares"].([]string)
	for _, name := range mws {
		for kind := range httpCfg["middlewares"].(map[string]any)[name].(map[string]any) {
			kinds = append(kinds, kind)
		}
	}
	return router["rule"].(string), kinds, ""
}

// TestV1Rule: a Traefik v1 frontend rule ("Host:a.com,b.com;
// PathPrefixStrip:/api") becomes a router with the rule in Traefik v3
// syntax and the middlewares its modifiers need.
func TestV1Rule(t *testing.T) {
	tests := []struct {
		rule    string
		matcher string
		mws     []string
	}{
		{"Host:whoami.example.com", "Host(`whoami.example.com`)", nil},
		{"Host:a.com,b.com;PathPrefixStrip:/api", "(Host(`a.com`) || Host(`b.com`)) && PathPrefix(`/api`)", []string{"stripPrefix"}},
		{"Host: A.com ; Path:/x", "Host(`a.com`) && Path(`/x`)", nil},
		{"PathStrip:/old", "Path(`/old`)", []string{"stripPrefix"}},
		{"HostRegexp:{sub:[a-z]+}.example.com", "HostRegexp(`^(?:[a-z]+)\\.example\\.com$`)", nil},
		{"HostRegexp:{sub}.example.com", "HostRegexp(`^(?:[^.]+)\\.example\\.com$`)", nil},
		{"Path:/users/{id:[0-9]+}", "PathRegexp(`^/users/(?:[0-9]+)$`)", nil},
		{"PathPrefix:/users/{id:[0-9]{2,}}", "PathRegexp(`^/users/(?:[0-9]{2,})`)", nil},
		{"PathPrefixStripRegex:/v{n:[0-9]+}", "PathRegexp(`^/v(?:[0-9]+)`)", []string{"stripPrefixRegex"}},
		{"PathStripRegex:/v{n:[0-9]+}", "PathRegexp(`^/v(?:[0-9]+)$`)", []string{"stripPrefixRegex"}},
		{"Host:a.com;AddPrefix:/app", "Host(`a.com`)", []string{"addPrefix"}},
		{"Host:a.com;ReplacePath:/new", "Host(`a.com`)", []string{"replacePath"}},
		{"Host:a.com;ReplacePathRegex:^/api/(.*) /$1", "Host(`a.com`)", []string{"replacePathRegex"}},
		{"Method:get,POST", "(Method(`GET`) || Method(`POST`))", nil},
		{"Headers:X-Env,prod", "Header(`X-Env`, `prod`)", nil},
		{"HeadersRegexp:X-Env,pro.*", "HeaderRegexp(`X-Env`, `pro.*`)", nil},
		{"Query:a=1,b=2", "(Query(`a`, `1`) && Query(`b`, `2`))", nil},
	}
	for _, tt := range tests {
		m, mws, problem := buildRule(t, tt.rule)
		if problem != "" {
			t.Errorf("%q: %s", tt.rule, problem)
			continue
		}
		if m != tt.matcher {
			t.Errorf("%q:\n got %s\nwant %s", tt.rule, m, tt.matcher)
		}
		if diff := cmp.Diff(mws, tt.mws); diff != "" {
			t.Errorf("%q middlewares (-got +want):\n%s", tt.rule, diff)
		}
	}
}

// TestV1RuleErrors: a rule that cannot be translated costs its service,
// with the problem named against the label.
func TestV1RuleErrors(t *testing.T) {
	tests := []struct{ rule, want string }{
		{"", "no matcher"},
		{"AddPrefix:/x", "no matcher"},
		{"Hots:a.com", `unknown matcher "Hots"`},
		{"Host", `"Host" is not Matcher:value`},
		{"Host:", "Host has no value"},
		{"Host:a`b", "backtick"},
		{"Path:relative", `does not start with /`},
		{"HostRegexp:{x:[}.com", "placeholder"},
		{"Path:/{unbalanced", "unbalanced"},
		{"Headers:onlykey", "Headers needs key,value"},
		{"ReplacePathRegex:nospace", "needs"},
		{"HeadersRegexp:k,[", "HeadersRegexp"},
	}
	for _, tt := range tests {
		_, _, problem := buildRule(t, tt.rule)
		if !strings.Contains(problem, tt.want) {
			t.Errorf("%q: problem %q, want %q", tt.rule, problem, tt.want)
		}
	}
}

// FuzzV1Rule: any rule label is refused or becomes a router rule whose
// backticks pair up.
func FuzzV1Rule(f *testing.F) {
	for _, s := range []string{"Host:a.com,b.com;PathPrefixStrip:/api", "HostRegexp:{a:[0-9]+}.x", "Query:a=1", "Path:/{x}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rule string) {
		m, _, problem := buildRule(t, rule)
		if problem != "" {
			return
		}
		if strings.Count(m, "`")%2 != 0 {
			t.Fatalf("unbalanced backticks in %q from %q", m, rule)
		}
	})
}
