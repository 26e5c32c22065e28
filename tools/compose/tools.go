//go:build tools

// Package tools pins the Compose v2 binary that `make compose` builds, to
// test examples/docker-compose.yml with a newer Compose than Debian's.
package tools

import _ "github.com/docker/compose/v2/cmd"
