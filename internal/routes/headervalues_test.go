package routes

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestHeaderControlCharacters: a header label whose value holds CR, LF or
// another control character costs that setting only, with a warning naming
// the label and never the value; the service and its other headers stay.
func TestHeaderControlCharacters(t *testing.T) {
	const secret = "SECRETX"
	tests := []struct {
		name    string
		labels  map[string]string
		dropped string // the label warned about
		at      string // what stays published
		want    any
	}{
		{"v1 request header CRLF", map[string]string{
			"traefik.frontend.headers.customRequestHeaders": "X-A:" + secret + "\r\nX-Injected: 1",
			"traefik.frontend.headers.frameDeny":            "true",
		}, "traefik.frontend.headers.customRequestHeaders", "http/middlewares/s-st-headers/headers", map[string]any{"frameDeny": true}},
		{"v1 response header LF", map[string]string{
			"traefik.frontend.headers.customResponseHeaders": "X-A:a\nb",
			"traefik.frontend.headers.customRequestHeaders":  "X-B:ok",
		}, "traefik.frontend.headers.customResponseHeaders", "http/middlewares/s-st-headers/headers", map[string]any{"customRequestHeaders": map[string]any{"X-B": "ok"}}},
		{"v1 bad header name", map[string]string{
			"traefik.frontend.headers.customRequestHeaders": "X A:" + secret,
		}, "traefik.frontend.headers.customRequestHeaders", "http/routers/s-st/middlewares", nil},
		{"v1 string option NUL", map[string]string{
			"traefik.frontend.headers.contentSecurityPolicy": "default-src\x00",
		}, "traefik.frontend.headers.contentSecurityPolicy", "http/routers/s-st/rule", "Host(`s.st.example.com`)"},
		{"v1 segment", map[string]string{
			"traefik.web.port": "80", "traefik.web.frontend.headers.customRequestHeaders": "X-A:\r",
		}, "traefik.web.frontend.headers.customRequestHeaders", "http/routers/s-st-web/middlewares", nil},
		{"v2 custom header", map[string]string{
			"traefik.http.middlewares.h.headers.customrequestheaders.X-A": secret + "\r\nX-Injected: 1",
			"traefik.http.middlewares.h.headers.framedeny":                "true",
			"traefik.http.routers.r.middlewares":                          "h",
		}, "traefik.http.middlewares.h.headers.customrequestheaders.X-A", "http/middlewares/h/headers", map[string]any{"frameDeny": true}},
		{"v2 only option: middleware and reference go", map[string]string{
			"traefik.http.middlewares.h.headers.customresponseheaders.X-A": "\n",
			"traefik.http.middlewares.other.stripprefix.prefixes":          "/x",
			"traefik.http.routers.r.middlewares":                           "h@rancher,other",
		}, "traefik.http.middlewares.h.headers.customresponseheaders.X-A", "http/routers/r/middlewares", []string{"other"}},
		{"v2 tab is fine", map[string]string{
			"traefik.http.middlewares.h.headers.customrequestheaders.X-A": "a\tb",
		}, "", "http/middlewares/h/headers/customRequestHeaders", map[string]any{"X-A": "a\tb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := buildOne(t, "s", "st", tt.labels, Options{Domain: "example.com"})
			var got []string
			for _, w := range res.Warnings {
				if w.Severity != Dropped {
					t.Errorf("service left out: %v", w)
				}
				if strings.Contains(w.String(), secret) || strings.ContainsAny(w.String(), "\r\n") {
					t.Errorf("the warning shows the value: %q", w.String())
				}
				got = append(got, w.Label)
			}
			var want []string
			if tt.dropped != "" {
				want = []string{tt.dropped}
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("warned labels (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(lookup(res.Config, tt.at), tt.want); diff != "" {
				t.Errorf("%s (-got +want):\n%s", tt.at, diff)
			}
		})
	}
}

func TestCheckHeaderValue(t *testing.T) {
	for v, bad := range map[string]bool{"": false, "a b\tc": false, "é": false, "a\rb": true, "a\n": true, "\x00": true, "\x7f": true, "\x1b[0m": true} {
		if got := checkHeaderValue("l", v) != nil; got != bad {
			t.Errorf("checkHeaderValue(%q) refused=%v, want %v", v, got, bad)
		}
	}
	for n, ok := range map[string]bool{"X-A": true, "x_a.b~": true, "": false, "X A": false, "X:A": false, "É": false} {
		if validHeaderName(n) != ok {
			t.Errorf("validHeaderName(%q) = %v", n, !ok)
		}
	}
}

// FuzzHeaderValues: whatever a header label holds, no published header
// value holds a control character.
func FuzzHeaderValues(f *testing.F) {
	f.Add("X-A:a\r\nX-B: b")
	f.Add("X-A:ok||X-B:\x00")
	f.Add("Name:value")
	f.Fuzz(func(t *testing.T, v string) {
		for _, labels := range []map[string]string{
			{"traefik.frontend.headers.customRequestHeaders": v, "traefik.frontend.headers.customFrameOptionsValue": v},
			{"traefik.http.middlewares.h.headers.customrequestheaders.X-A": v, "traefik.http.middlewares.h.headers.contentsecuritypolicy": v},
		} {
			res := buildOne(t, "s", "st", labels, Options{Domain: "example.com"})
			mws, _ := lookup(res.Config, "http/middlewares").(map[string]any)
			for _, m := range mws {
				h, _ := m.(map[string]any)["headers"].(map[string]any)
				for k, hv := range h {
					var vals []string
					switch x := hv.(type) {
					case string:
						vals = []string{x}
					case map[string]any:
						for _, y := range x {
							vals = append(vals, y.(string))
						}
					}
					for _, s := range vals {
						if checkHeaderValue("", s) != nil {
							t.Fatalf("%s published with a control character: %q", k, s)
						}
					}
				}
			}
		}
	})
}
