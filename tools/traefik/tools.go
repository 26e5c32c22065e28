//go:build tools

// Package tools pins the Traefik binary that tests and `make traefik` build.
package tools

import _ "github.com/traefik/traefik/v3/cmd/traefik"
