package publish

import (
	"fmt"
	"testing"

	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/restpush"
	"rancher-traefik/internal/routes"
)

// BenchmarkEncodeForDelivery measures, for one publish at 1,000 and 10,000
// services (3 containers each), what each delivery costs the publisher
// (Publisher.build, deliverFirst, durable): the build with every item
// encoded as TOML (the routes file, which every publish writes), the same
// build with each item's JSON too (TRAEFIK_ROUTES_DELIVERY=rest), and the
// assembly of the routes file and of the push's body from the items.
func BenchmarkEncodeForDelivery(b *testing.B) {
	o := routes.Options{Domain: "example.com", HTTPS: true}
	for _, n := range []int{1000, 10000} {
		snap, err := rancher.Decode(benchTree(b, n, false)[""])
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range []struct {
			name string
			e    routes.EncodeOptions
		}{{"build-toml", routes.EncodeOptions{}}, {"build-toml+json", routes.EncodeOptions{JSON: restpush.AppendItem}}} {
			b.Run(fmt.Sprintf("services=%d/%s", n, d.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					routes.BuildEncoded(snap, o, d.e) // not Release: snap is built again
				}
			})
		}
		enc := routes.BuildEncoded(snap, o, routes.EncodeOptions{JSON: restpush.AppendItem})
		b.Run(fmt.Sprintf("services=%d/assemble-toml", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := enc.TOML(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("services=%d/assemble-json", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := restpush.AppendEncoded(make([]byte, 0, restpush.EncodedSize(enc)), enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
