package routes

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// dialectCase is a service's labels, the settings they give and the
// labels warned about.
type dialectCase struct {
	name   string
	labels map[string]string
	checks []dialectCheck
	warned []string // labels warned about
	kept   bool     // … with the service published
}

// dialectCheck is the value at a path of the configuration (nil: absent).
type dialectCheck struct {
	at   string
	want any
}

// TestDialectMix: v1 labels and v2 labels defining only middlewares are
// both read: the v1 labels route the service, the v2 middlewares are
// defined beside it and usable from the v1 router.
func TestDialectMix(t *testing.T) {
	runDialectCases(t, []dialectCase{
		{"a v2 middleware keeps the v1 rule", map[string]string{
			"traefik.frontend.rule":                               "Host:a.test;PathPrefix:/api",
			"traefik.http.middlewares.strip.stripprefix.prefixes": "/api",
		}, []dialectCheck{
			{"http/routers/s-st/rule", "Host(`a.test`) && PathPrefix(`/api`)"},
			{"http/routers/s-st/priority", int64(27)},
			{"http/routers/s-st/middlewares", nil},
			{"http/middlewares/strip/stripPrefix/prefixes", []string{"/api"}},
		}, nil, true},
		{"used by traefik.frontend.middlewares, after the v1 ones", map[string]string{
			"traefik.frontend.rule":                                 "Host:a.test",
			"traefik.frontend.headers.frameDeny":                    "true",
			"traefik.frontend.middlewares":                          "limit@rancher, strip",
			"traefik.http.middlewares.limit.ratelimit.average":      "10",
			"traefik.http.middlewares.strip.stripprefix.prefixes":   "/x",
			"traefik.http.middlewares.strip.stripprefix.forceslash": "false",
		}, []dialectCheck{
			{"http/routers/s-st/middlewares", []string{"s-st-headers", "limit", "strip"}},
			{"http/middlewares/limit/rateLimit/average", int64(10)},
			{"http/middlewares/s-st-headers/headers/frameDeny", true},
		}, nil, true},
		{"segments and the default rule", map[string]string{
			"traefik.web.port":                                    "80",
			"traefik.web.frontend.middlewares":                    "strip",
			"traefik.http.middlewares.strip.stripprefix.prefixes": "/x",
		}, []dialectCheck{
			{"http/routers/s-st-web/rule", "Host(`s.st.example.com`)"},
			{"http/routers/s-st-web/middlewares", []string{"strip"}},
		}, nil, true},
		{"a v2 header with CR: that setting only", map[string]string{
			"traefik.frontend.rule": "Host:a.test",
			"traefik.http.middlewares.h.headers.customrequestheaders.X-A": "a\r\nb",
			"traefik.http.middlewares.h.headers.framedeny":                "true",
		}, []dialectCheck{
			{"http/routers/s-st/rule", "Host(`a.test`)"},
			{"http/middlewares/h/headers", map[string]any{"frameDeny": true}},
		}, []string{"traefik.http.middlewares.h.headers.customrequestheaders.X-A"}, true},
		{"a v2 middleware named like a generated one", map[string]string{
			"traefik.frontend.rule":                                   "Host:a.test",
			"traefik.frontend.headers.frameDeny":                      "true",
			"traefik.http.middlewares.s-st-headers.headers.framedeny": "true",
		}, []dialectCheck{{"http", nil}}, []string{"traefik.http.middlewares.s-st-headers"}, false},
		{"a bad v2 label and a bad v1 label: both named", map[string]string{
			"traefik.frontend.rule":               "Hots:a.test",
			"traefik.http.middlewares.m.nosuch.x": "1",
		}, []dialectCheck{{"http", nil}}, []string{"traefik.frontend.rule", "traefik.http.middlewares.m.nosuch.x"}, false},
	})
}

// TestDialectV2Routes: v2 labels that route the service leave its v1
// labels unread, each with a warning.
func TestDialectV2Routes(t *testing.T) {
	runDialectCases(t, []dialectCase{
		{"v2 routers: the v1 labels are not read, and say so", map[string]string{
			"traefik.frontend.rule":                           "Host:a.test",
			"traefik.port":                                    "80",
			"traefik.http.routers.r.rule":                     "Host(`b.test`)",
			"traefik.http.middlewares.m.stripprefix.prefixes": "/x",
		}, []dialectCheck{
			{"http/routers/r/rule", "Host(`b.test`)"},
			{"http/routers/s-st", nil},
		}, []string{"traefik.frontend.rule", "traefik.port"}, true},
		{"v2 only: as before", map[string]string{
			"traefik.domain": "d.test",
			"traefik.http.middlewares.m.stripprefix.prefixes": "/x",
		}, []dialectCheck{
			{"http/routers/s-st/rule", "Host(`s.st.d.test`)"},
			{"http/middlewares/m/stripPrefix/prefixes", []string{"/x"}},
		}, nil, true},
	})
}

func runDialectCases(t *testing.T, tests []dialectCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := buildOne(t, "s", "st", tt.labels, Options{Domain: "example.com"})
			var warned []string
			for _, w := range res.Warnings {
				warned = append(warned, w.Label)
				if (w.Severity == Dropped) != tt.kept {
					t.Errorf("warning %v: kept %v, want %v", w, w.Severity == Dropped, tt.kept)
				}
			}
			if diff := cmp.Diff(warned, tt.warned); diff != "" {
				t.Errorf("warned labels (-got +want):\n%s", diff)
			}
			for _, c := range tt.checks {
				if diff := cmp.Diff(lookup(res.Config, c.at), c.want); diff != "" {
					t.Errorf("%s (-got +want):\n%s", c.at, diff)
				}
			}
		})
	}
}

// TestFrontendMiddlewaresBad: a name Traefik cannot take leaves the
// service out, naming the label and never its value.
func TestFrontendMiddlewaresBad(t *testing.T) {
	for _, v := range []string{"", " , ", "a b", "a@b@c", "`x`", "x\"y", "a\rb"} {
		res := buildOne(t, "s", "st", map[string]string{"traefik.frontend.rule": "Host:a.test", "traefik.frontend.middlewares": v}, Options{Domain: "example.com"})
		if len(res.Warnings) != 1 || res.Warnings[0].Label != "traefik.frontend.middlewares" || res.Warnings[0].Severity != LeftOut || len(Routers(res.Config)) != 0 {
			t.Errorf("%q: warnings %v, routers %v: want the service left out for traefik.frontend.middlewares", v, res.Warnings, Routers(res.Config))
		}
	}
}
