package publish

import (
	"fmt"
	"testing"

	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/restpush"
	"rancher-traefik/internal/routes"
)

// BenchmarkEncodeForDelivery compares, for one publish at 1,000 and
// 10,000 services (3 containers each), the TOML encoding every publish
// pays (the routes file) with the JSON encoding TRAEFIK_ROUTES_DELIVERY=rest
// adds on top (the push's body, restpush.Pusher.Set): restpush.AppendRoutes
// into a buffer of the last body's size, as Set does (restpush's
// BenchmarkEncode sets it beside json.Marshal, what Set did before).
func BenchmarkEncodeForDelivery(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		tree := benchTree(b, n, false)[""]
		snap, err := rancher.Decode(tree)
		if err != nil {
			b.Fatal(err)
		}
		cfg := routes.Build(snap, routes.Options{Domain: "example.com", HTTPS: true}).Config
		b.Run(fmt.Sprintf("services=%d/toml", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := routes.Encode(cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
		size := 0
		b.Run(fmt.Sprintf("services=%d/json-append", n), func(b *testing.B) {
			for b.Loop() {
				body, err := restpush.AppendRoutes(make([]byte, 0, size), cfg)
				if err != nil {
					b.Fatal(err)
				}
				size = len(body)
			}
		})
	}
}
