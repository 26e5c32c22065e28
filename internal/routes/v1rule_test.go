package routes

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTranslateRule(t *testing.T) {
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
		{"Host:a.com;AddPrefix:/app", "Host(`a.com`)", []string{"addPrefix"}},
		{"Host:a.com;ReplacePath:/new", "Host(`a.com`)", []string{"replacePath"}},
		{"Host:a.com;ReplacePathRegex:^/api/(.*) /$1", "Host(`a.com`)", []string{"replacePathRegex"}},
		{"Method:get,POST", "(Method(`GET`) || Method(`POST`))", nil},
		{"Headers:X-Env,prod", "Header(`X-Env`, `prod`)", nil},
		{"HeadersRegexp:X-Env,pro.*", "HeaderRegexp(`X-Env`, `pro.*`)", nil},
		{"Query:a=1,b=2", "(Query(`a`, `1`) && Query(`b`, `2`))", nil},
	}
	for _, tt := range tests {
		m, mws, err := TranslateRule(tt.rule)
		if err != nil {
			t.Errorf("%q: %v", tt.rule, err)
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

func TestTranslateRuleErrors(t *testing.T) {
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
		_, _, err := TranslateRule(tt.rule)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err %v, want %q", tt.rule, err, tt.want)
		}
	}
}

func FuzzTranslateRule(f *testing.F) {
	for _, s := range []string{"Host:a.com,b.com;PathPrefixStrip:/api", "HostRegexp:{a:[0-9]+}.x", "Query:a=1", "Path:/{x}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rule string) {
		m, _, err := TranslateRule(rule)
		if err != nil {
			return
		}
		if strings.Count(m, "`")%2 != 0 {
			t.Fatalf("unbalanced backticks in %q from %q", m, rule)
		}
	})
}
