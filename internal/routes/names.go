package routes

import (
	"strings"

	"rancher-traefik/internal/rancher"
)

// Generated names (routers, services, middlewares) are parts joined by one
// "-": <service>-<stack>[-<segment>][-<suffix>]. Each part is escaped by
// namePart so that the name can be split back into its parts (decodeName):
// two services, segments or suffixes never get the same name, whatever
// their characters (`a-b/c` and `b/c-a` once both gave c-a-b).
//
// A part of letters and digits is kept as it is, so the names of such
// services do not change (whoami-iamfoo). In a part, a dash between two
// letters or digits is written twice (my--app), and every other byte —
// a leading or trailing dash, _, ., non-ASCII — as _ and its two hex
// digits (服务 → _e6_9c_8d_e5_8a_a1); an empty part is _. The names hold
// only letters, digits, - and _, which Traefik takes anywhere.

// namePart escapes one part of a generated name.
func namePart(s string) string {
	if s == "" {
		return "_"
	}
	if plainName(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case alnum(c):
			b.WriteByte(c)
		case c == '-' && i > 0 && i < len(s)-1:
			b.WriteString("--")
		default:
			const hex = "0123456789abcdef"
			b.WriteByte('_')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// plainName reports whether s is letters and digits only.
func plainName(s string) bool {
	for i := 0; i < len(s); i++ {
		if !alnum(s[i]) {
			return false
		}
	}
	return true
}

func alnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// joinName joins parts, each escaped, into a generated name.
func joinName(parts ...string) string {
	n := len(parts)
	plain := true
	for _, p := range parts {
		n += len(p)
		plain = plain && p != "" && plainName(p)
	}
	if plain && len(parts) == 2 {
		return parts[0] + "-" + parts[1] // the common case, in one allocation
	}
	var b strings.Builder
	b.Grow(n + 8)
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(namePart(p))
	}
	return b.String()
}

// subName is name (a generated name) with one more part: a segment, or a
// suffix naming a middleware's kind or a router's twin.
func subName(name, part string) string { return name + "-" + namePart(part) }

// baseName is <service>-<stack>, unique across stacks.
func baseName(s *rancher.Service) string { return joinName(s.Name, s.Stack) }

// decodeName splits a generated name back into its parts; ok is false when
// name cannot be one. It is the proof that joinName is injective (a function
// with a left inverse is): FuzzNames checks that it undoes joinName. An
// escaped part never starts or ends with -, so a lone - is a separator and
// a run of 2n dashes is n dashes of a part.
func decodeName(name string) (parts []string, ok bool) {
	var cur []byte
	for i := 0; i < len(name); {
		switch c := name[i]; {
		case c == '-':
			n := 1
			for i+n < len(name) && name[i+n] == '-' {
				n++
			}
			switch {
			case n == 1:
				parts, cur = append(parts, string(cur)), nil
			case n%2 == 0:
				cur = append(cur, strings.Repeat("-", n/2)...)
			default:
				return nil, false
			}
			i += n
		case c == '_' && i+2 < len(name) && isHex(name[i+1]) && isHex(name[i+2]):
			cur = append(cur, unhex(name[i+1])<<4|unhex(name[i+2]))
			i += 3
		case c == '_' && (i+1 == len(name) || name[i+1] == '-'):
			i++ // "_": the empty part
		case alnum(c):
			cur = append(cur, c)
			i++
		default:
			return nil, false
		}
	}
	return append(parts, string(cur)), true
}

func isHex(c byte) bool { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') }

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}

// safeName replaces every run of characters other than letters, digits, _
// and - with one - (credential file names, which a digest makes unique).
func safeName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	dash := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c == '-' || alnum(c) {
			b.WriteByte(c)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return b.String()
}
