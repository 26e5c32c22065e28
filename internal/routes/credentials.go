package routes

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"rancher-traefik/internal/secrets"
)

// Label values that are credentials leave the configuration: Traefik's API
// returns every middleware's configuration verbatim (GET
// /api/http/middlewares, /api/rawdata), and the published file is readable
// by anyone in the container. Where Traefik takes the same setting from a
// file, the value becomes a file of its own (written 0600 by the publisher)
// and the configuration names only its path:
//
//   - basicAuth.users and digestAuth.users → usersFile (Traefik reads one
//     user a line, blank and # lines skipped: pkg/middlewares/auth/auth.go);
//   - forwardAuth.tls.key and rateLimit.redis.tls.key given as PEM text →
//     a key file, and the cert beside it too when it is PEM text: Traefik's
//     ClientTLS takes both as text or both as paths (pkg/types/tls.go,
//     loadKeyPair), never one of each.
//
// Credentials with no file form in Traefik v3.6 stay in the configuration
// and are visible to whoever reads the API: header values
// (headers.customRequestHeaders, healthCheck.headers), rateLimit.redis
// username and password, plugin settings, user:password@ in a server URL.

// Credentials are the files a configuration refers to, by path, with their
// content. The content never prints (secrets.Secret): do not log it.
type Credentials map[string]secrets.Secret

// Suffixes of credential files, by what they hold.
const (
	credHtpasswd = "htpasswd"
	credHtdigest = "htdigest"
	credKey      = "key"
	credCert     = "crt"
)

// CredentialFileName reports whether name has the form of a credential
// file's name (so the publisher removes only files it wrote).
func CredentialFileName(name string) bool {
	base, digest, ok := cutLast(name, ".")
	if !ok || len(digest) != 32 || strings.Trim(digest, "0123456789abcdef") != "" {
		return false
	}
	base, kind, ok := cutLast(base, ".")
	if !ok || base == "" || strings.Trim(base, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
		return false
	}
	switch kind {
	case credHtpasswd, credHtdigest, credKey, credCert:
		return true
	}
	return false
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// credentialPath names the file of one credential: the middleware's name
// (made file-safe, for whoever looks at the directory) and a keyed digest of
// the middleware, what the file holds and its content. The content is in
// the digest so that a new password gives a new path: Traefik reads a
// usersFile only when it builds the middleware, which it does when the
// configuration changes, not when the file does. The digest is keyed
// (Options.CredentialKey, secret) because a plain one would let anyone who
// reads the path test password guesses against unsalted entries ({SHA},
// htdigest's MD5).
func credentialPath(o Options, middleware, kind, content string) string {
	mac := hmac.New(sha256.New, []byte(o.CredentialKey.Reveal()))
	for _, part := range []string{middleware, kind, content} {
		mac.Write([]byte(part))
		mac.Write([]byte{0})
	}
	base := safeName(middleware)
	if len(base) > 64 {
		base = base[:64]
	}
	return filepath.Join(o.CredentialDir, base+"."+kind+"."+hex.EncodeToString(mac.Sum(nil))[:32])
}

// checkUsers validates basic (user:hash) or digest (user:realm:hash) users
// as Traefik parses them (exactly one or two colons:
// pkg/middlewares/auth/basic_auth.go, digest_auth.go) — Traefik's own error
// would print the entry in its log. Errors name the entry by its number,
// never its text: it holds a hash.
func checkUsers(label string, users []string, digest bool) error {
	want, form := 2, "user:hash"
	if digest {
		want, form = 3, "user:realm:hash"
	}
	for i, u := range users {
		parts := strings.Split(u, ":")
		ok := len(parts) == want
		for _, p := range parts {
			ok = ok && p != ""
		}
		if !ok {
			return errLabel(label, "entry %d is not %s", i+1, form)
		}
		if strings.ContainsAny(u, "\r\n") || strings.HasPrefix(u, "#") {
			// A users file has one entry a line, and # lines are comments.
			return errLabel(label, "entry %d spans lines or starts with #", i+1)
		}
	}
	return nil
}

// extractCredentials moves the credentials of a service's middlewares into
// files (see the comment at the top of this file) and returns them.
func extractCredentials(frag *fragment, o Options) (Credentials, error) {
	var creds Credentials
	for _, it := range frag.sorted("http", "middlewares") { // the first problem in name order is reported
		if err := extractMiddleware(&creds, o, it.name, it.val); err != nil {
			return nil, err
		}
	}
	return creds, nil
}

// add records a credential, making the map on first use (most services
// have none).
func (c *Credentials) add(path, content string) {
	if *c == nil {
		*c = Credentials{}
	}
	(*c)[path] = secrets.New(content)
}

func extractMiddleware(creds *Credentials, o Options, name string, mw map[string]any) error {
	label := func(rest string) string { return "traefik.http.middlewares." + name + "." + rest } // for errors only
	for kind, v := range mw {
		settings, _ := v.(map[string]any)
		if settings == nil {
			continue
		}
		switch kind {
		case "basicAuth", "digestAuth":
			if err := extractUsers(creds, o, name, label(strings.ToLower(kind)), settings, kind == "digestAuth"); err != nil {
				return err
			}
		case "forwardAuth":
			tls, _ := settings["tls"].(map[string]any)
			if err := extractKey(creds, o, name, label("forwardauth.tls"), tls); err != nil {
				return err
			}
		case "rateLimit":
			redis, _ := settings["redis"].(map[string]any)
			tls, _ := redis["tls"].(map[string]any)
			if err := extractKey(creds, o, name, label("ratelimit.redis.tls"), tls); err != nil {
				return err
			}
		}
	}
	return nil
}

// extractUsers moves users into a usersFile.
func extractUsers(creds *Credentials, o Options, name, label string, settings map[string]any, digest bool) error {
	users, err := userList(settings["users"])
	if err != nil {
		return errLabel(label+".users", "%v", err)
	}
	if file, ok := settings["usersFile"].(string); ok {
		if len(users) > 0 {
			// Traefik would merge both; we can only move users into a file
			// of our own, and Traefik reads one usersFile.
			return errLabel(label+".usersfile", "set users or usersFile, not both: rancher-traefik writes users to a file of its own")
		}
		if err := checkUsersFile(label+".usersfile", file, o); err != nil {
			return err
		}
	}
	if len(users) == 0 {
		delete(settings, "users")
		return nil
	}
	if err := checkUsers(label+".users", users, digest); err != nil {
		return err
	}
	kind := credHtpasswd
	if digest {
		kind = credHtdigest
	}
	content := strings.Join(users, "\n") + "\n"
	path := credentialPath(o, name, kind, content)
	creds.add(path, content)
	delete(settings, "users")
	settings["usersFile"] = path
	return nil
}

// userList is a users setting as a decoder left it. A form it does not
// know is refused rather than left in the configuration: users are
// credentials, and Traefik's API would show them.
func userList(v any) ([]string, error) {
	switch l := v.(type) {
	case nil:
		return nil, nil
	case []string:
		return l, nil
	case string:
		out := strings.Split(l, ",")
		for i := range out {
			out[i] = strings.TrimSpace(out[i])
		}
		return out, nil
	case []any:
		out := make([]string, len(l))
		for i, x := range l {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("entry %d is not text", i+1)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("is not a list of users (%T)", v)
}

// extractKey moves a client TLS key given as PEM text into a file, and the
// certificate with it when it is text too.
func extractKey(creds *Credentials, o Options, name, label string, tls map[string]any) error {
	key, _ := tls["key"].(string)
	if !isPEM(key) {
		return nil
	}
	cert, _ := tls["cert"].(string)
	if cert != "" && !isPEM(cert) {
		return errLabel(label+".cert", "is a path while tls.key is PEM text: Traefik takes both as text or both as paths")
	}
	kp := credentialPath(o, name, credKey, key)
	creds.add(kp, key)
	tls["key"] = kp
	if cert != "" {
		cp := credentialPath(o, name, credCert, cert)
		creds.add(cp, cert)
		tls["cert"] = cp
	}
	return nil
}

func isPEM(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), "-----BEGIN ") }
