// Command rancher-traefik is the entrypoint of the rancher-traefik image: it
// prepares Traefik v3's configuration and runs Traefik under supervision.
package main

import (
	"os"

	"rancher-traefik/internal/cli"
	"rancher-traefik/internal/supervisor"
)

func main() {
	// When started as the supervisor's trampoline, this becomes Traefik.
	supervisor.Trampoline(os.Args)
	os.Exit(cli.Main())
}
