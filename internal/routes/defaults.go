package routes

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"rancher-traefik/internal/rancher"
)

// DefaultRuleTemplate is TRAEFIK_RANCHER_DEFAULT_RULE's default, the rule
// rancher-traefik has always given a router without one:
// Host(`<service>.<stack>.<domain>`), lower case, the domain being the
// traefik.domain label or TRAEFIK_RANCHER_DOMAIN.
const DefaultRuleTemplate = "Host(`{{ lower .Service }}.{{ lower .Stack }}.{{ lower .Domain }}`)"

// maxRuleLen bounds what a default rule template may produce.
const maxRuleLen = 4096

// RuleTemplate is a compiled TRAEFIK_RANCHER_DEFAULT_RULE: a Go
// text/template, as Traefik v2's Rancher provider's defaultRule
// (pkg/provider/rancher/rancher.go, DefaultTemplateRule
// "Host(`{{ normalize .Name }}`)", compiled by
// provider.MakeDefaultRuleTemplate), executed with ruleData.
type RuleTemplate struct {
	src string
	t   *template.Template
}

// String is the template as written.
func (r *RuleTemplate) String() string {
	if r == nil {
		return DefaultRuleTemplate
	}
	return r.src
}

// ruleData is what a default rule template sees.
type ruleData struct {
	// Name is <service>/<stack>, Traefik v2's Rancher provider's .Name:
	// its default rule, Host(`{{ normalize .Name }}`), works unchanged.
	Name        string
	Service     string
	Stack       string
	Environment string // the stack's environment, "" when the source does not say
	// Domain is the traefik.domain label, or TRAEFIK_RANCHER_DOMAIN.
	Domain string
	Labels map[string]string
}

// ruleFuncs are the template's functions: v2's normalize, and the few
// sprig string functions (same names, same argument order) a host name
// needs. Traefik v2 offered all of sprig; rancher-traefik keeps these.
var ruleFuncs = template.FuncMap{
	"normalize":  normalize,
	"lower":      strings.ToLower,
	"upper":      strings.ToUpper,
	"trim":       strings.TrimSpace,
	"trimPrefix": func(prefix, s string) string { return strings.TrimPrefix(s, prefix) },
	"trimSuffix": func(suffix, s string) string { return strings.TrimSuffix(s, suffix) },
	"replace":    func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
	"default": func(def, s string) string {
		if s == "" {
			return def
		}
		return s
	},
}

// normalize replaces every run of characters other than letters and digits
// with one -, as Traefik v2's provider.Normalize.
func normalize(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }), "-")
}

// ParseRuleTemplate compiles TRAEFIK_RANCHER_DEFAULT_RULE; "" is the
// default. The template is tried on a sample service, so one that cannot
// run (a function given the wrong arguments) fails here, at start.
func ParseRuleTemplate(src string) (*RuleTemplate, error) {
	if strings.TrimSpace(src) == "" || src == DefaultRuleTemplate {
		return nil, nil // the default: defaultRule's own code
	}
	t, err := template.New("rule").Option("missingkey=zero").Funcs(ruleFuncs).Parse(src)
	if err != nil {
		return nil, fmt.Errorf("not a Go template: %w", err)
	}
	r := &RuleTemplate{src: src, t: t}
	// Tried on a sample service: it must run, and give matchers Traefik
	// has. Their arguments may depend on labels the sample lacks: a bad
	// one leaves out the service it is computed for.
	sample := rancher.Service{Name: "web", Stack: "shop", Environment: "Default", Labels: map[string]string{}}
	rule, err := r.run(&sample, "example.com")
	if err == nil {
		if err = checkRuleShape(rule, false); err != nil {
			err = fmt.Errorf("gives an invalid rule: %w", err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("tried on service web of stack shop with domain example.com, it %w", err)
	}
	return r, nil
}

// execute gives the rule of s, checked.
func (r *RuleTemplate) execute(s *rancher.Service, domain string) (string, error) {
	rule, err := r.run(s, domain)
	if err != nil {
		return "", err
	}
	if err := checkRule(rule); err != nil {
		return "", fmt.Errorf("gives an invalid rule: %w", err)
	}
	return rule, nil
}

// run executes the template for s.
func (r *RuleTemplate) run(s *rancher.Service, domain string) (string, error) {
	var b bytes.Buffer
	err := r.t.Execute(&b, ruleData{
		Name: s.Name + "/" + s.Stack, Service: s.Name, Stack: s.Stack, Environment: s.Environment,
		Domain: domain, Labels: s.Labels,
	})
	if err != nil {
		return "", fmt.Errorf("failed: %w", err)
	}
	if b.Len() > maxRuleLen {
		return "", fmt.Errorf("gives a rule of %d bytes, more than %d", b.Len(), maxRuleLen)
	}
	return strings.TrimSpace(b.String()), nil
}

// ruleDomain is the domain of s's default rule: its traefik.domain label,
// or TRAEFIK_RANCHER_DOMAIN.
func ruleDomain(s *rancher.Service, domain string) string {
	if d, ok := s.Labels["traefik.domain"]; ok && strings.TrimSpace(d) != "" {
		return strings.Trim(strings.TrimSpace(d), ".")
	}
	return domain
}

// defaultRule is the rule of a router without one: TRAEFIK_RANCHER_DEFAULT_RULE,
// or by default Host(`<service>.<stack>.<domain>`), the host in its IDNA
// form.
func defaultRule(s *rancher.Service, o *Options) (string, error) {
	if o.DefaultRule != nil {
		rule, err := o.DefaultRule.execute(s, ruleDomain(s, o.Domain))
		if err != nil {
			return "", errLabel("traefik.frontend.rule", "no rule, and the default rule (TRAEFIK_RANCHER_DEFAULT_RULE) %v", err)
		}
		return rule, nil
	}
	host, err := defaultHost(s, o.Domain)
	if err != nil {
		return "", err
	}
	if host, err = asciiHost(host); err != nil {
		return "", errLabel("traefik.frontend.rule", "no rule, and the default host: %v", err)
	}
	return "Host(`" + host + "`)", nil
}

// defaultHost is <service>.<stack>.<domain> in lower case, the domain from
// traefik.domain or else the option.
func defaultHost(s *rancher.Service, domain string) (string, error) {
	domain = ruleDomain(s, domain)
	if domain == "" {
		return "", errLabel("traefik.frontend.rule", "no rule, and no domain (TRAEFIK_RANCHER_DOMAIN or traefik.domain) to make the default Host:<service>.<stack>.<domain>")
	}
	host := strings.ToLower(s.Name + "." + s.Stack + "." + domain)
	if strings.ContainsAny(host, "`") {
		return "", errLabel("traefik.domain", "the default host %q holds a backtick", host)
	}
	return host, nil
}

// asciiHost is host as Traefik's Host matcher takes it: ASCII, a
// non-ASCII name in its IDNA (punycode) form, as browsers send it
// (服务.example.com → xn--vuq861b.example.com). Traefik v3 refuses a
// non-ASCII Host (pkg/muxer/http/matcher.go: "non-ASCII characters are
// not allowed").
func asciiHost(host string) (string, error) {
	for i := 0; i < len(host); i++ {
		if host[i] >= 0x80 {
			if !utf8.ValidString(host) {
				return "", fmt.Errorf("the host is not valid UTF-8")
			}
			a, err := idna.Lookup.ToASCII(host)
			if err != nil {
				return "", fmt.Errorf("%q has no IDNA (ASCII) form: %w", host, err)
			}
			return a, nil
		}
	}
	return host, nil
}
