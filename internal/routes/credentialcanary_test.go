package routes

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// credentialFixture holds every label of credentialLabels, in each dialect.
const credentialFixture = "testdata/credentials.yml"

// credentialLabels are the labels whose values are credentials (label
// paths as schemaEntries and v1Labels spell them, * for a name): true for
// those Traefik v3.6 also reads from a file, which rancher-traefik writes
// (credentials.go), false for those with no file form, which stay in the
// configuration (README, "Credentials in labels"). Traefik v3.6's file forms:
// basicAuth/digestAuth usersFile (pkg/config/dynamic/middlewares.go), and a
// ClientTLS cert and key given as paths (pkg/types/tls.go); rateLimit's
// Redis username and password, header values and plugin settings have none.
var credentialLabels = map[string]bool{
	"frontend.auth.basic":                                true,
	"frontend.auth.basic.users":                          true,
	"frontend.auth.digest.users":                         true,
	"frontend.auth.forward.tls.key":                      true,
	"http.middlewares.*.basicauth.users":                 true,
	"http.middlewares.*.digestauth.users":                true,
	"http.middlewares.*.forwardauth.tls.key":             true,
	"http.middlewares.*.ratelimit.redis.tls.key":         true,
	"frontend.headers.customrequestheaders":              false,
	"frontend.headers.customresponseheaders":             false,
	"backend.healthcheck.headers":                        false,
	"http.middlewares.*.headers.customrequestheaders.*":  false,
	"http.middlewares.*.headers.customresponseheaders.*": false,
	"http.services.*.loadbalancer.healthcheck.headers.*": false,
	"http.middlewares.*.ratelimit.redis.username":        false,
	"http.middlewares.*.ratelimit.redis.password":        false,
	"http.middlewares.*.forwardauth.address":             false, // a user:password@ in the URL
}

// looksLikeCredential flags label paths whose name says they may hold a
// credential: users, keys, passwords, tokens, secrets, and header values
// (Name:value maps). Each must be classified in credentialLabels, so a
// label Traefik or a new translation adds cannot slip by unclassified.
// headers.publicKey (HPKP, a public key's hash) and sslProxyHeaders (the
// values that mean HTTPS) are not credentials.
func looksLikeCredential(label string) bool {
	segs := strings.Split(label, ".")
	last := segs[len(segs)-1]
	if last == "*" && len(segs) > 1 {
		last = segs[len(segs)-2] // a map of names: its values
	}
	switch last {
	case "basic", "users", "key", "password", "username", "token", "secret",
		"customrequestheaders", "customresponseheaders", "headers":
		return true
	}
	return false
}

// TestCredentialLabelsClassified: every label path that looks like a
// credential (Traefik's schema, the v1 table) is classified, and the
// fixture uses every classified one.
func TestCredentialLabelsClassified(t *testing.T) {
	var flagged []string
	for _, e := range schemaEntries {
		if looksLikeCredential(e.label) {
			flagged = append(flagged, e.label)
		}
	}
	for _, l := range v1Labels {
		if looksLikeCredential(l.key) {
			flagged = append(flagged, l.key)
		}
	}
	if len(flagged) < 10 {
		t.Fatalf("only %d label paths flagged: %v", len(flagged), flagged)
	}
	for _, l := range flagged {
		if _, ok := credentialLabels[l]; !ok {
			t.Errorf("label path %s looks like a credential and is not in credentialLabels: say whether Traefik has a file form for it", l)
		}
	}
	used := fixtureLabels(t)
	for pattern := range credentialLabels {
		if !slices.ContainsFunc(used, func(l string) bool { return labelMatches(pattern, l) }) {
			t.Errorf("%s uses no label %s", credentialFixture, pattern)
		}
	}
}

// fixtureLabels are the fixture's label names, lower case, without
// "traefik.".
func fixtureLabels(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, s := range snapshot(t, credentialFixture).Services {
		for k := range s.Labels {
			out = append(out, strings.TrimPrefix(strings.ToLower(k), "traefik."))
		}
	}
	return out
}

// labelMatches reports whether label has pattern's segments, * matching any
// one segment.
func labelMatches(pattern, label string) bool {
	p, l := strings.Split(pattern, "."), strings.Split(label, ".")
	if len(p) != len(l) {
		return false
	}
	for i := range p {
		if p[i] != "*" && p[i] != l[i] {
			return false
		}
	}
	return true
}

var (
	movedCanary  = regexp.MustCompile(`CANARY-[a-z0-9-]+`)
	nofileCanary = regexp.MustCompile(`NOFILE-[a-z0-9-]+`)
)

// TestEveryCredentialLabel: in one stack using every credential label of
// every dialect (v1, rawmind0, v2), each credential with a file form is in
// a credential file and nowhere in the published configuration, which
// names every such file; the ones without a file form are in the
// configuration (so this scan does see values), as documented.
func TestEveryCredentialLabel(t *testing.T) {
	raw, err := os.ReadFile(credentialFixture)
	if err != nil {
		t.Fatal(err)
	}
	res := Build(snapshot(t, credentialFixture), credOpts())
	for _, w := range res.Warnings {
		if w.Severity != Note {
			t.Errorf("warning: %v", w)
		}
	}
	published, err := Encode(res.Config)
	if err != nil {
		t.Fatal(err)
	}
	if got := movedCanary.FindAllString(string(published), -1); len(got) > 0 {
		t.Errorf("the published configuration holds credentials %v:\n%s", got, published)
	}
	var files strings.Builder
	for path, c := range res.Credentials {
		files.WriteString(c.Reveal())
		if !strings.Contains(string(published), `"`+path+`"`) {
			t.Errorf("credential file %s is named by no setting", path)
		}
	}
	canaries := movedCanary.FindAllString(string(raw), -1)
	if len(canaries) < 12 {
		t.Fatalf("the fixture has %d canaries", len(canaries))
	}
	for _, c := range canaries {
		if !strings.Contains(files.String(), c) {
			t.Errorf("%s is in no credential file", c)
		}
	}
	for _, c := range nofileCanary.FindAllString(string(raw), -1) {
		if !strings.Contains(string(published), c) {
			t.Errorf("%s (no file form) is not in the configuration: did its service go?", c)
		}
	}
}

// TestUsersOfAnyForm: users move to a file whichever form a decoder leaves
// them in (a list of text, a list of values, comma-separated text); a form
// extractCredentials does not know leaves the service out rather than its
// users in the configuration.
func TestUsersOfAnyForm(t *testing.T) {
	tests := []struct {
		name  string
		users any
		want  string // the file's content; "" for an error
	}{
		{"[]string", []string{"a:" + hashA, "b:" + hashB}, "a:" + hashA + "\nb:" + hashB + "\n"},
		{"[]any", []any{"a:" + hashA, "b:" + hashB}, "a:" + hashA + "\nb:" + hashB + "\n"},
		{"text", "a:" + hashA + ", b:" + hashB, "a:" + hashA + "\nb:" + hashB + "\n"},
		{"[]any holding a number", []any{"a:" + hashA, 7}, ""},
		{"a map", map[string]any{"a": hashA}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settings := map[string]any{"users": tt.users}
			frag := &fragment{items: []fragItem{{"http", "middlewares", "m", map[string]any{"basicAuth": settings}}}}
			creds, err := extractCredentials(frag, credOpts())
			if tt.want == "" {
				if err == nil || strings.Contains(err.Error(), hashA) {
					t.Fatalf("err = %v, want an error naming no hash", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			path, _ := settings["usersFile"].(string)
			if _, still := settings["users"]; still || len(creds) != 1 || creds[path].Reveal() != tt.want {
				t.Errorf("settings %v, credentials at %q: %q", settings, path, creds[path].Reveal())
			}
		})
	}
}
