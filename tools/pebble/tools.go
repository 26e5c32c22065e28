//go:build tools

// Package tools pins Pebble, Let's Encrypt's test ACME server, and its DNS
// companion pebble-challtestsrv, which `make pebble` builds for the ACME
// end-to-end tests (internal/e2e/acme_test.go).
package tools

import (
	_ "github.com/letsencrypt/pebble/v2/cmd/pebble"
	_ "github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv"
)
