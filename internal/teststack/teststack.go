// Package teststack writes compact stack files (the metadata emulator's
// format) of any size, for benchmarks at scale; it is never linked into
// the product.
package teststack

import (
	"fmt"
	"strings"
)

// Scale is a stack file of n services of 3 containers in up to 50 stacks,
// half with Traefik v1 labels, half with v2 ones. moved moves one container
// of the first service to another address (one router changes).
func Scale(n int, moved bool) string {
	var b strings.Builder
	b.WriteString("stacks:\n")
	for st := range min(n, 50) {
		fmt.Fprintf(&b, "  - name: stack%d\n    services:\n", st)
		for i := st; i < n; i += 50 {
			fmt.Fprintf(&b, "      - name: svc%d\n        health_check: true\n        labels:\n          traefik.enable: \"true\"\n", i)
			if i%2 == 0 {
				fmt.Fprintf(&b, "          traefik.port: \"8080\"\n          traefik.frontend.rule: \"Host:svc%d.example.com;PathPrefixStrip:/api\"\n", i)
			} else {
				fmt.Fprintf(&b, "          traefik.http.routers.r%d.rule: \"Host(`svc%d.example.com`)\"\n", i, i)
				fmt.Fprintf(&b, "          traefik.http.services.s%d.loadbalancer.server.port: \"8080\"\n", i)
			}
			b.WriteString("        containers:\n")
			for c := range 3 {
				last := i%256 + c
				if moved && i == 0 && c == 0 {
					last = 250
				}
				fmt.Fprintf(&b, "          - ip: 10.%d.%d.%d\n", i/65536, (i/256)%256, last)
			}
		}
	}
	return b.String()
}
