//go:build tools

// Package tools pins Traefik v2.11.53, the peer that `make bench` measures
// beside rancher-traefik: its own Rancher provider reads the same metadata
// long-poll (issue 12). The product never links or ships it.
package tools

import _ "github.com/traefik/traefik/v2/cmd/traefik"
