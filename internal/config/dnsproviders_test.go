package config

import (
	"os"
	"strings"
	"testing"
)

// TestDNSProvidersMatchTraefik: the provider list is lego's of the version
// the pinned Traefik builds with; a Traefik bump that moves lego fails
// here until dnsproviders.go is regenerated.
func TestDNSProvidersMatchTraefik(t *testing.T) {
	b, err := os.ReadFile("../../tools/traefik/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "github.com/go-acme/lego/v4 "+LegoVersion+" ") {
		t.Errorf("tools/traefik/go.mod does not pin lego %s: regenerate internal/config/dnsproviders.go", LegoVersion)
	}
	for _, name := range []string{"cloudflare", "route53", "httpreq", "exec", "ovh"} {
		if !dnsProviders[name] {
			t.Errorf("%s missing from the provider list", name)
		}
	}
}
