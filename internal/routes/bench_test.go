package routes

import (
	"fmt"
	"strconv"
	"testing"

	"rancher-traefik/internal/rancher"
)

func bigSnapshot(n int) *rancher.Snapshot {
	snap := &rancher.Snapshot{Version: "1"}
	for i := range n {
		s := rancher.Service{
			Name: "svc" + strconv.Itoa(i), Stack: "stack" + strconv.Itoa(i%50), Kind: "service",
			Labels: map[string]string{"traefik.enable": "true", "traefik.port": "8080", "traefik.frontend.rule": fmt.Sprintf("Host:svc%d.example.com;PathPrefixStrip:/api", i)},
		}
		if i%2 == 1 { // half in the v2 dialect
			s.Labels = map[string]string{
				"traefik.enable": "true",
				"traefik.http.routers.r" + strconv.Itoa(i) + ".rule":                      fmt.Sprintf("Host(`svc%d.example.com`)", i),
				"traefik.http.services.s" + strconv.Itoa(i) + ".loadbalancer.server.port": "8080",
			}
		}
		for c := range 3 {
			s.Containers = append(s.Containers, rancher.Container{PrimaryIP: fmt.Sprintf("10.%d.%d.%d", i/65536, (i/256)%256, i%256+c), State: "running", HealthState: "healthy"})
		}
		snap.Services = append(snap.Services, s)
	}
	return snap
}

// BenchmarkBuild measures labels → configuration → TOML bytes, what one
// change costs, for 10 to 10,000 services of 3 containers.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 10000} {
		snap := bigSnapshot(n)
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res := Build(snap, Options{Domain: "example.com", HTTPS: true})
				if len(res.Warnings) > 0 {
					b.Fatal(res.Warnings[0])
				}
				if _, err := Encode(res.Config); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
