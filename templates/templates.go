// Package templates holds the built-in templates of the files rancher-traefik
// renders; a file of the same name in TRAEFIK_TEMPLATE_DIR overrides one.
package templates

import "embed"

// FS holds every *.tmpl file of this directory.
//
//go:embed *.tmpl
var FS embed.FS
