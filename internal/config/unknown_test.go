package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUnknownVars(t *testing.T) {
	for _, tc := range []struct {
		name string
		want string // "" means not reported
	}{
		{"TRAEFIK_HTTPS_ENABLED", "TRAEFIK_HTTPS_ENABLED: not a variable rancher-traefik reads, ignored; did you mean TRAEFIK_HTTPS_ENABLE?"},
		{"TRAEFIK_HTTP_PROT", "TRAEFIK_HTTP_PROT: not a variable rancher-traefik reads, ignored; did you mean TRAEFIK_HTTP_PORT?"},
		{"TRAEFIK_RANCHER_ACCESS_KEY", "TRAEFIK_RANCHER_ACCESS_KEY: not a variable rancher-traefik reads, ignored; did you mean TRAEFIK_RANCHER_ACCESSKEY?"},
		{"TRAEFIK_RANCHER_SECRET_KEY", "TRAEFIK_RANCHER_SECRET_KEY: not a variable rancher-traefik reads, ignored; did you mean TRAEFIK_RANCHER_SECRET?"},
		{"traefik_http_port", "traefik_http_port: not a variable rancher-traefik reads, ignored; did you mean TRAEFIK_HTTP_PORT? (names are case-sensitive)"},
		{"TRAEFIK_HOST", "TRAEFIK_HOST: not a variable rancher-traefik reads, ignored (rancher-traefik env lists them)"},
		// Traefik's own static configuration by variable: ours declares entry points.
		{"TRAEFIK_ENTRYPOINTS_WEB_ADDRESS", "TRAEFIK_ENTRYPOINTS_WEB_ADDRESS: not a variable rancher-traefik reads, ignored; did you mean TRAEFIK_ENTRYPOINTS?"},
		{"TRAEFIK_INSECURE_SKIP", "TRAEFIK_INSECURE_SKIP: a variable of rawmind0/alpine-traefik, not read by rancher-traefik: use TRAEFIK_INSECURE_SKIP_VERIFY"},
		{"TRAEFIK_REFRESH_INTERVAL", "TRAEFIK_REFRESH_INTERVAL: a variable of mch1307/rancher-traefik, not read by rancher-traefik: use TRAEFIK_RANCHER_REFRESH (seconds a watch of Rancher waits for a change)"},
		{"TRAEFIK_K8S_ENABLE", "TRAEFIK_K8S_ENABLE: a variable of mch1307/rancher-traefik and rawmind0/alpine-traefik, not read by rancher-traefik: not supported (rancher-traefik reads Rancher only)"},
		// alpine-traefik's DNS challenge maps to the one rancher-traefik has.
		{"TRAEFIK_ACME_CHALLENGE_DNS_PROVIDER", "TRAEFIK_ACME_CHALLENGE_DNS_PROVIDER: a variable of rawmind0/alpine-traefik, not read by rancher-traefik: use TRAEFIK_ACME_DNS_PROVIDER (with TRAEFIK_ACME_CHALLENGE=dns; the provider names are Traefik v3's (lego's))"},
		{"TRAEFIK_ACME_CHALLENGE_DNS_DELAY", "TRAEFIK_ACME_CHALLENGE_DNS_DELAY: a variable of rawmind0/alpine-traefik, not read by rancher-traefik: use TRAEFIK_ACME_DNS_PROPAGATION (a delay waited instead of checking that the TXT record is seen: 30s, or bare seconds)"},
		// What it reads is not reported, nor other variables.
		{"TRAEFIK_HTTPS_ENABLE", ""},
		{"TRAEFIK_SSL_CERT_FILE", ""},
		{"TRAEFIK_ADMIN_AUTH_USERS_FILE", ""},
		{"CATTLE_URL", ""},
		{"PATH", ""},
		{"MY_TRAEFIK_PORT", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			us := UnknownVars([]string{tc.name})
			var got string
			if len(us) > 1 {
				t.Fatalf("%d reports: %v", len(us), us)
			}
			if len(us) == 1 {
				got = us[0].String()
			}
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestUnknownVarsSortedOnce(t *testing.T) {
	us := UnknownVars([]string{"TRAEFIK_B", "PATH", "TRAEFIK_A", "TRAEFIK_B", "TRAEFIK_HTTP_PORT"})
	var names []string
	for _, u := range us {
		names = append(names, u.Name)
	}
	if diff := cmp.Diff(names, []string{"TRAEFIK_A", "TRAEFIK_B"}); diff != "" {
		t.Errorf("(-got +want):\n%s", diff)
	}
}

// TestLegacyTable: each old name appears once, is not a name rancher-traefik
// reads (it would never be reported), says where it comes from, and points
// at a variable that exists.
func TestLegacyTable(t *testing.T) {
	seen := map[string]bool{}
	for _, l := range Legacy {
		switch {
		case seen[l.Name]:
			t.Errorf("%s is listed twice", l.Name)
		case Known(l.Name):
			t.Errorf("%s is read by rancher-traefik: remove its legacy row", l.Name)
		case len(l.From) == 0:
			t.Errorf("%s names no image", l.Name)
		case l.Use == "" && l.Note == "":
			t.Errorf("%s is not supported and says nothing of what to do instead", l.Name)
		case l.Use != "" && !Known(l.Use):
			t.Errorf("%s: its replacement %s is not a variable rancher-traefik reads", l.Name, l.Use)
		case strings.ContainsAny(l.Note, "\n"):
			t.Errorf("%s: the note spans lines", l.Name)
		}
		seen[l.Name] = true
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"PORT", "PORT", 0}, {"PROT", "PORT", 1}, {"ENABLED", "ENABLE", 1},
		{"", "ABC", 3}, {"KITTEN", "SITTING", 3}, {"CA", "ABC", 3},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
		if got := editDistance(tc.b, tc.a); got != tc.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.b, tc.a, got, tc.d)
		}
	}
}
