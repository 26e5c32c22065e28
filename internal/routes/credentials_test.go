package routes

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/secrets"
)

var (
	testCredDir = "/opt/traefik/etc/auth"
	testCredKey = secrets.New("golden-test-key")
)

const (
	hashA  = "$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"
	hashB  = "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="
	pemKey = "-----BEGIN PRIVATE KEY-----\nKEYCANARY\n-----END PRIVATE KEY-----\n"
	pemCrt = "-----BEGIN CERTIFICATE-----\nCRTTEXT\n-----END CERTIFICATE-----\n"
)

func oneService(labels map[string]string) *rancher.Snapshot {
	labels["traefik.enable"] = "true"
	return &rancher.Snapshot{Version: "1", Services: []rancher.Service{{
		Name: "s", Stack: "st", Kind: "service", Ports: []string{"80/tcp"}, Labels: labels,
		Containers: []rancher.Container{{PrimaryIP: "10.0.0.1"}},
	}}}
}

func credOpts() Options {
	return Options{Domain: "example.com", HTTPS: true, CredentialDir: testCredDir, CredentialKey: testCredKey}
}

// mwOf returns the settings of middleware name's only type.
func mwOf(t *testing.T, cfg map[string]any, name string) (string, map[string]any) {
	t.Helper()
	mw, ok := cfg["http"].(map[string]any)["middlewares"].(map[string]any)[name].(map[string]any)
	if !ok || len(mw) != 1 {
		t.Fatalf("middleware %s: %v", name, mw)
	}
	for k, v := range mw {
		return k, v.(map[string]any)
	}
	return "", nil
}

// TestCredentialsLeaveTheConfiguration: users of either dialect and either
// auth become a usersFile in the credential directory, holding one user a
// line; the configuration names only the path.
func TestCredentialsLeaveTheConfiguration(t *testing.T) {
	tests := []struct {
		name       string
		labels     map[string]string
		middleware string
		kind       string
		content    string
		suffix     string
	}{
		{"v1 basic", map[string]string{"traefik.port": "80", "traefik.frontend.auth.basic.users": "a:" + hashA + ", b:" + hashB, "traefik.frontend.auth.basic.removeHeader": "true"},
			"s-st-basicauth", "basicAuth", "a:" + hashA + "\nb:" + hashB + "\n", credHtpasswd},
		{"v1 basic, deprecated label", map[string]string{"traefik.port": "80", "traefik.frontend.auth.basic": "a:" + hashA},
			"s-st-basicauth", "basicAuth", "a:" + hashA + "\n", credHtpasswd},
		{"v1 digest", map[string]string{"traefik.port": "80", "traefik.frontend.auth.digest.users": "a:realm:0123abcd"},
			"s-st-digestauth", "digestAuth", "a:realm:0123abcd\n", credHtdigest},
		{"v2 basic", map[string]string{"traefik.http.routers.r.rule": "Host(`a`)", "traefik.http.routers.r.middlewares": "auth", "traefik.http.middlewares.auth.basicauth.users": "a:" + hashA},
			"auth", "basicAuth", "a:" + hashA + "\n", credHtpasswd},
		{"v2 digest", map[string]string{"traefik.http.routers.r.rule": "Host(`a`)", "traefik.http.middlewares.Auth.DigestAuth.Users": "a:r:0123abcd,b:r:4567ef01"},
			"Auth", "digestAuth", "a:r:0123abcd\nb:r:4567ef01\n", credHtdigest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Build(oneService(tt.labels), credOpts())
			if len(res.Warnings) > 0 {
				t.Fatalf("warnings: %v", res.Warnings)
			}
			kind, settings := mwOf(t, res.Config, tt.middleware)
			if kind != tt.kind {
				t.Errorf("middleware type %s, want %s", kind, tt.kind)
			}
			if _, ok := settings["users"]; ok {
				t.Errorf("users still in the configuration: %v", settings)
			}
			path, _ := settings["usersFile"].(string)
			if filepath.Dir(path) != testCredDir || !strings.HasPrefix(filepath.Base(path), safeName(tt.middleware)+"."+tt.suffix+".") || !CredentialFileName(filepath.Base(path)) {
				t.Errorf("usersFile = %q", path)
			}
			if len(res.Credentials) != 1 || res.Credentials[path].Reveal() != tt.content {
				t.Errorf("credentials: %d files, %q at the path", len(res.Credentials), res.Credentials[path].Reveal())
			}
			b, err := Encode(res.Config)
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{hashA, hashB, "0123abcd"} {
				if strings.Contains(string(b), secret) {
					t.Errorf("the published configuration holds %q:\n%s", secret, b)
				}
			}
		})
	}
}

// TestCredentialPaths: the same middleware and users always give the same
// path; a new password, another middleware or another key gives another.
func TestCredentialPaths(t *testing.T) {
	pathOf := func(o Options, mw, users string) string {
		t.Helper()
		res := Build(oneService(map[string]string{"traefik.http.routers.r.rule": "Host(`a`)", "traefik.http.middlewares." + mw + ".basicauth.users": users}), o)
		if len(res.Warnings) > 0 || len(res.Credentials) != 1 {
			t.Fatalf("warnings %v, %d credentials", res.Warnings, len(res.Credentials))
		}
		for p := range res.Credentials {
			return p
		}
		return ""
	}
	o := credOpts()
	base := pathOf(o, "m", "a:"+hashA)
	if again := pathOf(o, "m", "a:"+hashA); again != base {
		t.Errorf("not stable: %s then %s", base, again)
	}
	other := o
	other.CredentialKey = secrets.New("another key")
	seen := map[string]string{base: "base"}
	for what, p := range map[string]string{
		"new password":                pathOf(o, "m", "a:"+hashB),
		"new user":                    pathOf(o, "m", "a:"+hashA+",b:"+hashB),
		"other name":                  pathOf(o, "n", "a:"+hashA),
		"other key":                   pathOf(other, "m", "a:"+hashA),
		"name m-":                     pathOf(o, "m-", "a:"+hashA),
		"name m+ (m- as a file name)": pathOf(o, "m+", "a:"+hashA),
	} {
		if prev, ok := seen[p]; ok {
			t.Errorf("%s gives the path of %s: %s", what, prev, p)
		}
		seen[p] = what
	}
}

func TestCredentialWarnings(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		label  string
		msg    string
	}{
		{"v1 bad entry", map[string]string{"traefik.port": "80", "traefik.frontend.auth.basic.users": "a:" + hashA + ",SECRETX"},
			"traefik.frontend.auth.basic.users", "entry 2 is not user:hash"},
		{"v1 extra colon", map[string]string{"traefik.port": "80", "traefik.frontend.auth.basic.users": "a:SECRETX:y"},
			"traefik.frontend.auth.basic.users", "entry 1 is not user:hash"},
		{"v1 digest without realm", map[string]string{"traefik.port": "80", "traefik.frontend.auth.digest.users": "a:SECRETX"},
			"traefik.frontend.auth.digest.users", "entry 1 is not user:realm:hash"},
		{"v1 users and usersFile", map[string]string{"traefik.port": "80", "traefik.frontend.auth.basic.users": "a:SECRETX", "traefik.frontend.auth.basic.usersFile": "/etc/htpasswd"},
			"traefik.frontend.auth.basic.usersFile", "set users or usersFile, not both: rancher-traefik writes users to a file of its own"},
		{"v1 usersFile in our directory", map[string]string{"traefik.port": "80", "traefik.frontend.auth.basic.usersFile": testCredDir + "/x.htpasswd.0123"},
			"traefik.frontend.auth.basic.usersFile", "names a file in rancher-traefik's own credential directory " + testCredDir},
		{"v2 relative usersFile", map[string]string{"traefik.http.routers.r.rule": "Host(`a`)", "traefik.http.middlewares.m.digestauth.usersfile": "etc/auth/x"},
			"traefik.http.middlewares.m.digestauth.usersfile", "is not an absolute path"},
		{"v2 users and usersFile", map[string]string{"traefik.http.routers.r.rule": "Host(`a`)", "traefik.http.middlewares.m.basicauth.users": "a:SECRETX", "traefik.http.middlewares.m.basicauth.usersfile": "/etc/htpasswd"},
			"traefik.http.middlewares.m.basicauth.usersfile", "set users or usersFile, not both: rancher-traefik writes users to a file of its own"},
		{"v2 entry starting with #", map[string]string{"traefik.http.routers.r.rule": "Host(`a`)", "traefik.http.middlewares.m.basicauth.users": "#a:SECRETX"},
			"traefik.http.middlewares.m.basicauth.users", "entry 1 spans lines or starts with #"},
		{"v2 entry with a newline", map[string]string{"traefik.http.routers.r.rule": "Host(`a`)", "traefik.http.middlewares.m.basicauth.users": "a:SECRETX\nb:y"},
			"traefik.http.middlewares.m.basicauth.users", "entry 1 is not user:hash"},
		{"forwardAuth PEM key with a cert path", map[string]string{"traefik.http.routers.r.rule": "Host(`a`)", "traefik.http.middlewares.f.forwardauth.address": "https://auth", "traefik.http.middlewares.f.forwardauth.tls.key": pemKey, "traefik.http.middlewares.f.forwardauth.tls.cert": "/certs/c.pem"},
			"traefik.http.middlewares.f.forwardauth.tls.cert", "is a path while tls.key is PEM text: Traefik takes both as text or both as paths"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Build(oneService(tt.labels), credOpts())
			if len(res.Warnings) != 1 {
				t.Fatalf("warnings: %v", res.Warnings)
			}
			w := res.Warnings[0]
			if w.Label != tt.label || w.Msg != tt.msg {
				t.Errorf("warning %q %q, want %q %q", w.Label, w.Msg, tt.label, tt.msg)
			}
			if strings.Contains(w.String(), "SECRETX") || strings.Contains(w.String(), "KEYCANARY") {
				t.Errorf("the warning shows a value: %s", w)
			}
			if len(res.Credentials) != 0 || len(res.Config) != 0 {
				t.Errorf("the service left something behind: %v %d credentials", res.Config, len(res.Credentials))
			}
		})
	}
}

// TestTLSKeyText: a client key given as PEM text (forwardAuth, rateLimit's
// Redis) becomes a file, with its certificate; paths stay as they are.
func TestTLSKeyText(t *testing.T) {
	labels := map[string]string{
		"traefik.http.routers.r.rule":                         "Host(`a`)",
		"traefik.http.middlewares.f.forwardauth.address":      "https://auth.example.com",
		"traefik.http.middlewares.f.forwardauth.tls.key":      pemKey,
		"traefik.http.middlewares.f.forwardauth.tls.cert":     pemCrt,
		"traefik.http.middlewares.f.forwardauth.tls.ca":       pemCrt,
		"traefik.http.middlewares.rl.ratelimit.average":       "10",
		"traefik.http.middlewares.rl.ratelimit.redis.tls.key": pemKey,
		"traefik.http.middlewares.p.forwardauth.address":      "https://auth.example.com",
		"traefik.http.middlewares.p.forwardauth.tls.key":      "/certs/client.key",
		"traefik.http.middlewares.p.forwardauth.tls.cert":     "/certs/client.crt",
	}
	res := Build(oneService(labels), credOpts())
	if len(res.Warnings) > 0 {
		t.Fatalf("warnings: %v", res.Warnings)
	}
	_, f := mwOf(t, res.Config, "f")
	tls := f["tls"].(map[string]any)
	if tls["ca"] != pemCrt {
		t.Errorf("the CA (not secret) moved: %v", tls["ca"])
	}
	_, rl := mwOf(t, res.Config, "rl")
	rtls := rl["redis"].(map[string]any)["tls"].(map[string]any)
	_, p := mwOf(t, res.Config, "p")
	ptls := p["tls"].(map[string]any)
	if ptls["key"] != "/certs/client.key" || ptls["cert"] != "/certs/client.crt" {
		t.Errorf("paths changed: %v", ptls)
	}
	got := map[string]string{}
	for path, c := range res.Credentials {
		got[path] = c.Reveal()
	}
	want := map[string]string{tls["key"].(string): pemKey, tls["cert"].(string): pemCrt, rtls["key"].(string): pemKey}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("credentials (-got +want):\n%s", diff)
	}
	b, _ := Encode(res.Config)
	if strings.Contains(string(b), "KEYCANARY") {
		t.Errorf("the key is in the configuration:\n%s", b)
	}
}

func TestCredentialFileName(t *testing.T) {
	digest := strings.Repeat("0a", 16)
	for name, want := range map[string]bool{
		"m.htpasswd." + digest:                  true,
		"s-st_x.htdigest." + digest:             true,
		"f.key." + digest:                       true,
		"f.crt." + digest:                       true,
		".key":                                  false,
		"m.htpasswd." + digest[:30]:             false,
		"m.htpasswd." + strings.ToUpper(digest): false,
		"m.txt." + digest:                       false,
		"a.b.htpasswd." + digest:                false,
		".htpasswd." + digest:                   false,
		"rancher.toml":                          false,
	} {
		if got := CredentialFileName(name); got != want {
			t.Errorf("CredentialFileName(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestCredentialsMergeWithTheirService: a service left out (a name taken)
// leaves its credentials out too.
func TestCredentialsMergeWithTheirService(t *testing.T) {
	svc := func(name string) rancher.Service {
		return rancher.Service{Name: name, Stack: "st", Kind: "service", Ports: []string{"80/tcp"}, Containers: []rancher.Container{{PrimaryIP: "10.0.0.1"}},
			Labels: map[string]string{"traefik.enable": "true", "traefik.http.routers." + name + ".rule": "Host(`a`)", "traefik.http.middlewares.shared.basicauth.users": name + ":" + hashA}}
	}
	res := Build(&rancher.Snapshot{Version: "1", Services: []rancher.Service{svc("a"), svc("b")}}, credOpts())
	if len(res.Warnings) != 1 || res.Warnings[0].Service != "b" {
		t.Fatalf("warnings: %v", res.Warnings)
	}
	var contents []string
	for _, c := range res.Credentials {
		contents = append(contents, c.Reveal())
	}
	sort.Strings(contents)
	if diff := cmp.Diff(contents, []string{fmt.Sprintf("a:%s\n", hashA)}); diff != "" {
		t.Errorf("credentials (-got +want):\n%s", diff)
	}
}

// TestV1BasicWinsOverDigest: basic and digest auth on one frontend — Traefik
// v1.7 used basic alone (middlewares/auth: basic first), so the service is
// published behind basic auth and each digest label is dropped, warned
// about without its value.
func TestV1BasicWinsOverDigest(t *testing.T) {
	labels := map[string]string{"traefik.port": "80", "traefik.frontend.auth.basic.users": "a:" + hashA,
		"traefik.frontend.auth.digest.users": "a:r:SECRETX", "traefik.frontend.auth.digest.removeHeader": "true"}
	res := Build(oneService(labels), credOpts())
	var dropped []string
	for _, w := range res.Warnings {
		if w.Severity != Dropped || strings.Contains(w.String(), "SECRETX") {
			t.Errorf("warning %s: want a dropped setting, without the value", w)
		}
		dropped = append(dropped, w.Label)
	}
	sort.Strings(dropped)
	if want := []string{"traefik.frontend.auth.digest.removeHeader", "traefik.frontend.auth.digest.users"}; !slices.Equal(dropped, want) {
		t.Errorf("dropped %v, want %v", dropped, want)
	}
	mws, _ := res.Config["http"].(map[string]any)["middlewares"].(map[string]any)
	if _, ok := mws["s-st-basicauth"]; !ok || len(mws) != 1 {
		t.Errorf("middlewares %v, want basic auth alone", mws)
	}
	if len(res.Credentials) != 1 {
		t.Errorf("%d credential files, want the basic users' one", len(res.Credentials))
	}
}
