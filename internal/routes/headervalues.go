package routes

import "strings"

// checkHeaderValue refuses a header label (v1 traefik.frontend.headers.*,
// v2 traefik.http.middlewares.<name>.headers.*) whose value holds a control
// character: a CR or LF would be sent in every request or response, which
// Go's HTTP stack refuses (net/http answers 500 to each request: header
// values are VCHAR, SP and HTAB, RFC 9110 §5.5). Only that label's setting
// is left out, with a warning naming it and never the value.
func checkHeaderValue(label, v string) error {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return errDrop(label, "the value holds a control character (%s), which no HTTP header may hold", ctlName(c))
		}
	}
	return nil
}

func ctlName(c byte) string {
	switch c {
	case '\r':
		return "CR"
	case '\n':
		return "LF"
	case 0:
		return "NUL"
	}
	const hex = "0123456789abcdef"
	return "0x" + string(hex[c>>4]) + string(hex[c&15])
}

// validHeaderName reports whether s is an HTTP field name: a token
// (RFC 9110 §5.1).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !alnum(c) && !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// isV2HeaderLabel reports whether label sets a v2 headers middleware's
// option (traefik.http.middlewares.<name>.headers.…).
func isV2HeaderLabel(label string) bool {
	rest, ok := strings.CutPrefix(strings.ToLower(label), "traefik.http.middlewares.")
	if !ok {
		return false
	}
	_, rest, _ = strings.Cut(rest, ".")
	return strings.HasPrefix(rest, "headers.")
}
