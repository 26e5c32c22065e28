package routes

import (
	"strings"
	"testing"

	"golang.org/x/net/idna"
)

// TestDefaultRuleIDNA: a non-ASCII service, stack or domain gives the
// default Host rule in its IDNA form (Traefik v3 refuses a non-ASCII Host);
// one without an IDNA form leaves the service out, naming the rule label.
func TestDefaultRuleIDNA(t *testing.T) {
	tests := []struct {
		service, stack, domain string
		labels                 map[string]string
		want                   string // the router's rule; "" when left out
	}{
		{"web", "prod", "example.com", nil, "Host(`web.prod.example.com`)"},
		{"服务", "zz", "unicodé.example.com", nil, "Host(`xn--zfr188b.zz.xn--unicod-gva.example.com`)"},
		{"Straße", "st", "example.com", nil, "Host(`xn--strae-oqa.st.example.com`)"},
		{"web", "st", "example.com", map[string]string{"traefik.domain": "bücher.test"}, "Host(`web.st.xn--bcher-kva.test`)"},
		// A v1 rule's Host too.
		{"web", "st", "example.com", map[string]string{"traefik.frontend.rule": "Host:Bücher.test,a.test"}, "(Host(`xn--bcher-kva.test`) || Host(`a.test`))"},
		// v2 dialect: the default rule of a router without one.
		{"服务", "zz", "example.com", map[string]string{"traefik.http.services.x.loadbalancer.server.port": "80"}, "Host(`xn--zfr188b.zz.example.com`)"},
		// No IDNA form: a label of a combining mark, or a disallowed rune.
		{"\u0301a", "zz", "example.com", nil, ""},
		{"a\u00a0b", "zz", "example.com", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.service+"."+tt.stack, func(t *testing.T) {
			res := buildOne(t, tt.service, tt.stack, tt.labels, Options{Domain: tt.domain})
			routers, _ := lookup(res.Config, "http/routers").(map[string]any)
			if tt.want == "" {
				if len(routers) != 0 || len(res.Warnings) != 1 || res.Warnings[0].Label != "traefik.frontend.rule" || res.Warnings[0].Severity != LeftOut {
					t.Fatalf("routers %v, warnings %v: want the service left out, one warning for traefik.frontend.rule", routers, res.Warnings)
				}
				return
			}
			if len(res.Warnings) > 0 || len(routers) != 1 {
				t.Fatalf("routers %v, warnings %v", routers, res.Warnings)
			}
			for _, r := range routers {
				if got := r.(map[string]any)["rule"]; got != tt.want {
					t.Errorf("rule %v, want %s", got, tt.want)
				}
			}
		})
	}
}

// FuzzASCIIHost: asciiHost gives ASCII or an error, keeps ASCII hosts as
// they are, and what it gives converts back to the host (lower case).
func FuzzASCIIHost(f *testing.F) {
	for _, s := range []string{"a.example.com", "服务.zz.example.com", "straße.de", "\u0301", "xn--a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		got, err := asciiHost(host)
		if err != nil {
			return
		}
		for i := 0; i < len(got); i++ {
			if got[i] >= 0x80 {
				t.Fatalf("asciiHost(%q) = %q, not ASCII", host, got)
			}
		}
		ascii := true
		for i := 0; i < len(host); i++ {
			ascii = ascii && host[i] < 0x80
		}
		if ascii && got != host {
			t.Fatalf("asciiHost(%q) = %q: an ASCII host changed", host, got)
		}
		if !ascii {
			if back, err := idna.Lookup.ToUnicode(got); err != nil || strings.ToLower(back) == "" {
				t.Fatalf("asciiHost(%q) = %q, which does not convert back: %v", host, got, err)
			}
		}
	})
}
