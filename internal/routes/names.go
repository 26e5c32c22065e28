package routes

import (
	"strings"

	"rancher-traefik/internal/rancher"
)

// safeName replaces every run of characters other than letters, digits, _
// and - with one -.
func safeName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	dash := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') {
			b.WriteByte(c)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return b.String()
}

// baseName is <service>-<stack>, unique across stacks.
func baseName(s *rancher.Service) string { return safeName(s.Name + "-" + s.Stack) }
