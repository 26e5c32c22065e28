package restpush

import (
	"encoding/json"
	"fmt"
	"testing"

	"rancher-traefik/internal/metadataserver"
	"rancher-traefik/internal/routes"
	"rancher-traefik/internal/teststack"
)

// BenchmarkEncode: the push's body at 1,000 and 10,000 services (3
// containers each), into a buffer of its size as Set gives: what Set
// paid before AppendRoutes (json.Marshal of Qualify's copy), Qualify's
// copy encoded by AppendJSON, AppendRoutes (what Set does), and, to show
// what qualifying costs, AppendJSON of the routes as they are.
func BenchmarkEncode(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		a, err := metadataserver.Parse([]byte(teststack.Scale(n, false)))
		if err != nil {
			b.Fatal(err)
		}
		cfg := build(b, a, routes.Options{Domain: "example.com", HTTPS: true})
		size := len(must(json.Marshal(Qualify(cfg))))
		for _, enc := range []struct {
			name string
			f    func() ([]byte, error)
		}{
			{"marshal-qualified", func() ([]byte, error) { return json.Marshal(Qualify(cfg)) }},
			{"appendjson-qualified", func() ([]byte, error) { return AppendJSON(make([]byte, 0, size), Qualify(cfg)) }},
			{"appendroutes", func() ([]byte, error) { return AppendRoutes(make([]byte, 0, size), cfg) }},
			{"appendjson-unqualified", func() ([]byte, error) { return AppendJSON(make([]byte, 0, size), cfg) }},
		} {
			b.Run(fmt.Sprintf("services=%d/%s", n, enc.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := enc.f(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
