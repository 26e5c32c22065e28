package config

import (
	"strings"
	"testing"
)

// TestRancherCertificates: TRAEFIK_RANCHER_CERTIFICATES's values, and its
// need of the API.
func TestRancherCertificates(t *testing.T) {
	api := map[string]string{"TRAEFIK_RANCHER_MODE": "api", "TRAEFIK_RANCHER_ENDPOINT": "http://rancher:8080/v1", "TRAEFIK_RANCHER_ACCESSKEY": "AK", "TRAEFIK_RANCHER_SECRET": "SK"}
	catalog := map[string]string{"CATTLE_URL": "http://rancher:8080/v1", "CATTLE_ACCESS_KEY": "AK", "CATTLE_SECRET_KEY": "SK"} // auto mode
	with := func(base map[string]string, v string) map[string]string {
		env := map[string]string{"TRAEFIK_RANCHER_CERTIFICATES": v}
		for k, x := range base {
			env[k] = x
		}
		return env
	}
	tests := []struct {
		name   string
		env    map[string]string
		want   string // the selection's String, or the error
		wanted map[string]bool
	}{
		{"default", map[string]string{}, "none", map[string]bool{"a": false}},
		{"none without the API", with(nil, "None"), "none", nil},
		{"all", with(api, "all"), "all", map[string]bool{"a": true, "anything": true}},
		{"all with the catalog's keys", with(catalog, " ALL "), "all", nil},
		{"names", with(api, "site-a, site b ,site-a"), "site-a,site b", map[string]bool{"site-a": true, "site b": true, "site-c": false}},
		{"an empty name", with(api, "a,,b"), `TRAEFIK_RANCHER_CERTIFICATES: name 2 of "a,,b" is empty: give none, all, or certificate names separated by commas`, nil},
		{"all among names", with(api, "a,all"), `TRAEFIK_RANCHER_CERTIFICATES: "a,all" mixes all with names: give none, all, or names`, nil},
		{"control characters", with(api, "a\nb"), `TRAEFIK_RANCHER_CERTIFICATES: "a\nb" holds control characters`, nil},
		{"metadata mode", with(map[string]string{"TRAEFIK_RANCHER_MODE": "metadata"}, "all"), "TRAEFIK_RANCHER_CERTIFICATES: all needs the Rancher server API, which has the certificate store (the metadata service has none): set TRAEFIK_RANCHER_MODE=api (or auto) with TRAEFIK_RANCHER_ENDPOINT (or CATTLE_URL) and the access key and secret, or none", nil},
		{"auto without keys", with(nil, "web"), "TRAEFIK_RANCHER_CERTIFICATES: web needs the Rancher server API", nil},
		{"discovery off", with(map[string]string{"TRAEFIK_RANCHER_MODE": "off"}, "web"), "TRAEFIK_RANCHER_CERTIFICATES: web needs the Rancher server API", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := FromEnv(lookupOf(tt.env))
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = c.RancherCertificates.String()
			}
			if !strings.HasPrefix(got, tt.want) || strings.Count(got, "\n") > 0 {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for name, want := range tt.wanted {
				if c.RancherCertificates.Wants(name) != want {
					t.Errorf("Wants(%q) = %v, want %v", name, !want, want)
				}
			}
		})
	}
}

// FuzzCertificateSelection: any value parses or fails with a one-line
// error; what parses is printed back to the same selection.
func FuzzCertificateSelection(f *testing.F) {
	for _, s := range []string{"none", "all", "a,b", " a , b ,a", "a,,b", "all,a", "x\ny", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		sel, err := certificateSelection(v)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
			return
		}
		again, err := certificateSelection(sel.String())
		if err != nil || again.String() != sel.String() || again.All != sel.All || len(again.Names) != len(sel.Names) {
			t.Fatalf("%q → %q → %q %v", v, sel.String(), again.String(), err)
		}
	})
}
