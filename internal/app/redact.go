package app

import "strings"

// redacted replaces a credential in what the routes command prints.
const redacted = "[redacted]"

// credentialHeader reports whether a header's value usually carries a
// credential: Authorization, Proxy-Authorization, Cookie, Set-Cookie, and
// names holding key, token, secret, password, auth, session or credential
// (X-Api-Key, X-Auth-Token, X-Session-Id, …). The README's "Credentials in
// labels" gives the same list.
func credentialHeader(name string) bool {
	n := strings.ToLower(name)
	for _, h := range credentialHeaderNames {
		if n == strings.ToLower(h) {
			return true
		}
	}
	for _, w := range credentialHeaderWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// The header names, and the words in header names, of credentialHeader.
var (
	credentialHeaderNames = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"}
	credentialHeaderWords = []string{"key", "token", "secret", "password", "auth", "session", "credential"}
)

// redactConfig is a copy of a configuration tree with the credentials that
// Traefik has no file form for (so they stay in the published
// configuration) replaced by [redacted], for printing: the values of
// credentialHeader headers (customRequestHeaders, customResponseHeaders, a
// health check's headers), rateLimit's Redis username and password, every
// plugin setting, and the user:password of a URL. It reports how many
// values it replaced.
func redactConfig(cfg map[string]any) (map[string]any, int) {
	n := 0
	out, _ := redactValue("", cfg, false, &n).(map[string]any)
	return out, n
}

func redactValue(key string, v any, secret bool, n *int) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if h, ok := e.(map[string]any); ok && !secret && headerValues(key, k) {
				out[k] = redactHeaders(h, n)
				continue
			}
			out[k] = redactValue(k, e, secret || redactAll(key, k), n)
		}
		return out
	case []map[string]any:
		out := make([]map[string]any, len(x))
		for i, e := range x {
			out[i], _ = redactValue(key, e, secret, n).(map[string]any)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(key, e, secret, n)
		}
		return out
	case []string:
		out := make([]string, len(x))
		for i, e := range x {
			out[i], _ = redactValue(key, e, secret, n).(string)
		}
		return out
	case string:
		switch {
		case secret:
			*n++
			return redacted
		case (key == "url" || key == "address") && strings.Contains(x, "@"):
			if r := redactServer(x); r != x {
				*n++
				return r
			}
		}
	}
	return v
}

// redactAll reports whether every value below key (a setting of parent)
// is a credential: plugin settings, and Redis's username and password.
func redactAll(parent, key string) bool {
	return key == "plugin" || parent == "redis" && (key == "username" || key == "password")
}

// headerValues reports whether key (a setting of parent) maps header names
// to values.
func headerValues(parent, key string) bool {
	return key == "customRequestHeaders" || key == "customResponseHeaders" || parent == "healthCheck" && key == "headers"
}

// redactHeaders is a copy of a header map, credentialHeader values
// replaced.
func redactHeaders(h map[string]any, n *int) map[string]any {
	out := make(map[string]any, len(h))
	for k, v := range h {
		out[k] = v
		if s, ok := v.(string); ok && s != "" && credentialHeader(k) {
			out[k] = redacted
			*n++
		}
	}
	return out
}
