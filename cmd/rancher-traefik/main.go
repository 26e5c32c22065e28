// Command rancher-traefik is the entrypoint of the rancher-traefik image: it
// prepares Traefik v3's configuration and runs Traefik under supervision.
package main

import (
	"os"

	"rancher-traefik/internal/cli"
)

func main() { os.Exit(cli.Main()) }
