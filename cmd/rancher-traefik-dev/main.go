// Command rancher-traefik-dev holds the development tools of rancher-traefik
// (a test backend, throw-away certificates) for the demo, the compose
// example and local testing. It is not the product: the image's entrypoint,
// rancher-traefik, links none of its code.
package main

import (
	"os"

	"rancher-traefik/internal/devtools"
)

func main() { os.Exit(devtools.Main()) }
