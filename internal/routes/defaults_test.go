package routes

import (
	"strings"
	"testing"
	"text/template"

	"rancher-traefik/internal/rancher"
)

func mustRuleTemplate(t testing.TB, src string) *RuleTemplate {
	t.Helper()
	r, err := ParseRuleTemplate(src)
	if err != nil {
		t.Fatalf("ParseRuleTemplate(%q): %v", src, err)
	}
	return r
}

// TestDefaultRuleTemplateIsTodaysRule: the variable's default, run as a
// template, gives exactly the rule of defaultRule's own code (which the
// default uses), so the golden files hold for both.
func TestDefaultRuleTemplateIsTodaysRule(t *testing.T) {
	if r := mustRuleTemplate(t, ""); r != nil {
		t.Fatal("an empty TRAEFIK_RANCHER_DEFAULT_RULE is not the default")
	}
	if r := mustRuleTemplate(t, DefaultRuleTemplate); r != nil {
		t.Fatal("the default template is not the default")
	}
	tmpl := &RuleTemplate{src: DefaultRuleTemplate, t: template.Must(template.New("").Option("missingkey=zero").Funcs(ruleFuncs).Parse(DefaultRuleTemplate))}
	for _, s := range []rancher.Service{
		{Name: "web", Stack: "shop"},
		{Name: "Web_1", Stack: "My-Stack"},
		{Name: "api", Stack: "prod", Labels: map[string]string{"traefik.domain": ".Other.Example.ORG."}},
		{Name: "x", Stack: "y", Labels: map[string]string{"traefik.domain": "  "}},
	} {
		want, err := defaultRule(&s, &Options{Domain: "example.com"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := defaultRule(&s, &Options{Domain: "example.com", DefaultRule: tmpl})
		if err != nil || got != want {
			t.Errorf("%s/%s: template gives %q (%v), the code %q", s.Stack, s.Name, got, err, want)
		}
	}
}

// TestDefaultRuleTemplates: the fields and functions of a template.
func TestDefaultRuleTemplates(t *testing.T) {
	s := &rancher.Service{Name: "Web_App", Stack: "shop", Environment: "Prod", Labels: map[string]string{"host": "www.example.net", "traefik.domain": "lab.example.com"}}
	tests := []struct{ tmpl, want string }{
		{"Host(`{{ normalize .Name }}`)", "Host(`Web-App-shop`)"}, // Traefik v2's own default
		{"Host(`{{ normalize .Name | lower }}.{{ .Domain }}`)", "Host(`web-app-shop.lab.example.com`)"},
		{"Host(`{{ .Service | lower | replace \"_\" \"-\" }}.{{ .Stack }}.{{ lower .Environment }}.example.com`)", "Host(`web-app.shop.prod.example.com`)"},
		{"Host(`{{ index .Labels \"host\" }}`) || Host(`{{ .Stack }}.{{ .Domain | trimSuffix \".com\" }}.io`)", "Host(`www.example.net`) || Host(`shop.lab.example.io`)"},
		{"Host(`{{ index .Labels \"missing\" | default \"fallback.example.com\" }}`)", "Host(`fallback.example.com`)"},
		{"  PathPrefix(`/{{ .Stack }}/{{ .Service | lower | trimPrefix \"web_\" }}`)\n", "PathPrefix(`/shop/app`)"},
		{"Host(`{{ upper .Stack }}.example.com`) && !Method(`TRACE`)", "Host(`SHOP.example.com`) && !Method(`TRACE`)"},
	}
	for _, tt := range tests {
		got, err := defaultRule(s, &Options{Domain: "example.com", DefaultRule: mustRuleTemplate(t, tt.tmpl)})
		if err != nil || got != tt.want {
			t.Errorf("%s: %q (%v), want %q", tt.tmpl, got, err, tt.want)
		}
	}
}

// TestDefaultRuleTemplateBadInput: a template that cannot be parsed, or
// that cannot run or gives no valid rule for a sample service, is a
// configuration error; one that fails for one service leaves out that
// service only.
func TestDefaultRuleTemplateBadInput(t *testing.T) {
	for _, tt := range []struct{ tmpl, want string }{
		{"Host(`{{ .Service `)", "not a Go template"},
		{"{{ nosuch .Service }}", `function "nosuch" not defined`},
		{"Host(`{{ .Nope }}`)", "can't evaluate field Nope"},
		{"Host(`{{ lower }}`)", "wrong number of args"},
		{"{{/* nothing */}}", "gives an invalid rule: it is empty"},
		{"Host(`{{ .Service }}`", "gives an invalid rule: it is not matchers"},
		{"Hots(`{{ .Service }}`)", "no matcher Hots in Traefik"},
		{"Host(`{{ .Service }}`, `x`)", "Host takes 1 argument(s), not 2"},
		{"{{ .Service }}.{{ .Stack }}.{{ .Domain }}", "gives an invalid rule"},
		{"Host(`{{ .Service }}`) + Host(`x`)", "operator +"},
		{"Host(`{{ range $i := .Labels }}{{ end }}" + strings.Repeat("a", maxRuleLen) + "`)", "more than 4096"},
	} {
		_, err := ParseRuleTemplate(tt.tmpl)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseRuleTemplate(%.50q) = %v, want an error with %q", tt.tmpl, err, tt.want)
		}
	}

	// Valid for the sample, invalid for one service: that one is left out.
	o := Options{Domain: "example.com", DefaultRule: mustRuleTemplate(t, "Host(`{{ index .Labels \"host\" | default (print .Service \".example.com\") }}`)")}
	snap := &rancher.Snapshot{Version: "1", Services: []rancher.Service{
		{Name: "服务", Stack: "s", Kind: "service", Labels: map[string]string{"traefik.enable": "true", "traefik.port": "80"}, Containers: []rancher.Container{{PrimaryIP: "10.0.0.1"}}},
		{Name: "ok", Stack: "s", Kind: "service", Labels: map[string]string{"traefik.enable": "true", "traefik.port": "80"}, Containers: []rancher.Container{{PrimaryIP: "10.0.0.2"}}},
		{Name: "v2", Stack: "s", Kind: "service", Ports: []string{"80/tcp"}, Labels: map[string]string{"traefik.enable": "true", "host": "a..b", "traefik.http.routers.r.entrypoints": "web"}, Containers: []rancher.Container{{PrimaryIP: "10.0.0.3"}}},
	}}
	res := Build(snap, o)
	var got []string
	for _, w := range res.Warnings {
		got = append(got, w.Service+" "+w.Label)
		if !strings.Contains(w.Msg, "TRAEFIK_RANCHER_DEFAULT_RULE") || strings.Contains(w.Msg, "a..b") {
			t.Errorf("warning %q does not name the variable, or shows a label value", w)
		}
	}
	if strings.Join(got, ",") != "服务 traefik.frontend.rule,v2 traefik.http.routers.r.rule" {
		t.Errorf("warnings %v", got)
	}
	if r := Routers(res.Config); strings.Join(r, ",") != "http/ok-s" {
		t.Errorf("routers %v, want the valid service's only", r)
	}
}

// TestCheckRule: what Traefik v3 accepts and refuses.
func TestCheckRule(t *testing.T) {
	for _, ok := range []string{
		"Host(`a.example.com`)", "Host(`*.example.com`)", `Host("a.example.com")`, "Host(`a_b.example.com`)",
		"(Host(`a.com`) || Host(`b.com`)) && PathPrefix(`/api`)", "!ClientIP(`10.0.0.0/8`)", "Header(`X`, `y`)",
		"Query(`a`)", "Query(`a`, `b`)", "HostRegexp(`^.+\\.example\\.com$`)", "Method(`GET`)",
	} {
		if err := checkRule(ok); err != nil {
			t.Errorf("checkRule(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{
		"", "Host(`a.com`", "Host(`unicodé.com`)", "Host(``)", "Host(`a..com`)", "Host(`a.*.com`)", "Host(`a b`)",
		"Host(a.com)", "Host(`a`...)", "x.Host(`a`)", "Host", "`a`", "Host(`a`) & Host(`b`)", "Header(`x`)",
		"HeaderRegexp(`x`, `(`)", "Host(`" + strings.Repeat("a", 64) + "`)", "Path(`x`)", "Host(`a\x00`)",
	} {
		if err := checkRule(bad); err == nil {
			t.Errorf("checkRule(%q) accepted it", bad)
		}
	}
}

// FuzzDefaultRule: any template either fails to parse or gives, for any
// service, a rule Traefik accepts or an error; never a panic.
func FuzzDefaultRule(f *testing.F) {
	f.Add("Host(`{{ normalize .Name }}`)", "web", "shop", "example.com")
	f.Add(DefaultRuleTemplate, "Web", "Stack", "a.b")
	f.Add("Host(`{{ index .Labels \"h\" | default .Service }}`)", "服务", "s", "")
	f.Add("{{ template \"x\" }}{{ define \"x\" }}{{ template \"x\" }}{{ end }}", "a", "b", "c")
	f.Fuzz(func(t *testing.T, src, name, stack, domain string) {
		r, err := ParseRuleTemplate(src)
		if err != nil {
			return
		}
		s := &rancher.Service{Name: name, Stack: stack, Labels: map[string]string{"h": name}}
		rule, err := defaultRule(s, &Options{Domain: domain, DefaultRule: r})
		if err == nil && r != nil {
			if cerr := checkRule(rule); cerr != nil {
				t.Fatalf("rule %q passed, but checkRule says %v", rule, cerr)
			}
		}
	})
}
