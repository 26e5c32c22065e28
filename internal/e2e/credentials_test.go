package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"rancher-traefik/internal/routes"
)

// authStack serves "private" behind basic auth (v1 labels, users given),
// and two services without auth, so removing "private" is not a mass
// removal.
func authStack(backend string, users string) string {
	var b strings.Builder
	b.WriteString("stacks:\n  - name: sec\n    services:\n")
	for _, name := range []string{"open1", "open2"} {
		fmt.Fprintf(&b, "      - name: %s\n        labels: {traefik.enable: \"true\", traefik.port: \"8080\"}\n        containers:\n          - ip: %s\n", name, backend)
	}
	if users != "" {
		fmt.Fprintf(&b, "      - name: private\n        labels:\n          traefik.enable: \"true\"\n          traefik.port: \"8080\"\n          traefik.frontend.rule: Host:private.example.com\n          traefik.frontend.auth.basic.users: %q\n        containers:\n          - ip: %s\n", users, backend)
	}
	return b.String()
}

// credentialFiles lists the credential files under home, name → mode.
func credentialFiles(t *testing.T, home string) map[string]os.FileMode {
	t.Helper()
	dir := filepath.Join(home, "etc", "auth")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]os.FileMode{}
	for _, e := range entries {
		if routes.CredentialFileName(e.Name()) {
			fi, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			out[filepath.Join(dir, e.Name())] = fi.Mode()
		}
	}
	return out
}

// TestLabelBasicAuthThroughUsersFile: a service's basic-auth labels work
// end to end through the usersFile rancher-traefik writes (0600); neither
// the published configuration nor the API shows the hash; the file goes
// with the service. The API is behind admin users, asked from the network.
func TestLabelBasicAuthThroughUsersFile(t *testing.T) {
	const backendIP = "127.0.0.61"
	backends(t, backendIP)
	labelUsers := shaUser("alice", "label-pass") + "," + shaUser("bob", "other-pass")
	labelHash := strings.SplitN(strings.Split(labelUsers, ",")[0], ":", 2)[1]
	adminUsers := shaUser("admin", "admin-pass")
	i := newInstance(t, map[string]string{"TRAEFIK_RANCHER_MODE": "metadata", "TRAEFIK_RANCHER_DOMAIN": "example.com",
		"TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_ADMIN_AUTH_USERS": adminUsers, "TRAEFIK_LOG_LEVEL": "DEBUG"})
	onEveryAddress(i)
	m := startEmulator(t, i.dir, authStack(backendIP, labelUsers))
	i.env["TRAEFIK_RANCHER_METADATA_URL"] = m.url()
	i.start("run")
	i.waitReady()

	a := privateSite{url: fmt.Sprintf("http://127.0.0.1:%d/", i.httpPort), backendIP: backendIP}
	a.checkAnswers(t)
	usersFile := checkUsersFile(t, i.home, labelHash)
	t.Run("the API from the network: 401 without, 200 with, never the hash", func(t *testing.T) {
		checkAPIHidesCredentials(t, i, usersFile, []string{labelHash, strings.SplitN(adminUsers, ":", 2)[1], "alice:", "bob:"})
	})
	// Traefik reads a usersFile when it builds the middleware, on a change
	// of configuration: a new password must change the configuration too.
	t.Run("a new password is followed", func(t *testing.T) {
		m.write(authStack(backendIP, shaUser("alice", "new-pass")))
		a.followsNewPassword(t, i.home, usersFile)
	})
	t.Run("the file goes with the service", func(t *testing.T) {
		m.write(authStack(backendIP, ""))
		a.goesWithTheService(t, i.home)
	})
	if strings.Contains(i.stderr.String()+i.stdout.String(), labelHash) {
		t.Error("the label's hash appears in the output")
	}
}

// privateSite is authStack's "private" service, behind the labels' basic
// auth, asked through Traefik's http entry point.
type privateSite struct{ url, backendIP string }

func (a privateSite) get(hdr http.Header) (int, string, error) {
	if hdr == nil {
		hdr = http.Header{}
	}
	hdr.Set("Host", "private.example.com")
	return get(plainClient(), a.url, hdr)
}

// checkAnswers waits for the route (401 without credentials), then wants
// 200 from the backend for each label user and 401 for anyone else.
func (a privateSite) checkAnswers(t *testing.T) {
	t.Helper()
	eventually(t, 20*time.Second, "the private route", func() error {
		if code, _, err := a.get(nil); err != nil || code != 401 {
			return fmt.Errorf("without credentials: %d %v", code, err)
		}
		return nil
	})
	for _, tc := range []struct {
		name string
		hdr  http.Header
		want int
	}{
		{"right password", basicAuth("alice", "label-pass"), 200},
		{"second user", basicAuth("bob", "other-pass"), 200},
		{"wrong password", basicAuth("alice", "nope"), 401},
		{"admin credentials", basicAuth("admin", "admin-pass"), 401},
	} {
		code, body, err := a.get(tc.hdr)
		if err != nil || code != tc.want || (code == 200 && !strings.HasPrefix(body, a.backendIP)) {
			t.Errorf("%s: %d %v %q, want %d", tc.name, code, err, body, tc.want)
		}
	}
}

// followsNewPassword wants the new password accepted, the old refused, and
// one credential file, not the one before.
func (a privateSite) followsNewPassword(t *testing.T, home, before string) {
	eventually(t, 20*time.Second, "the new password", func() error {
		if code, _, err := a.get(basicAuth("alice", "new-pass")); err != nil || code != 200 {
			return fmt.Errorf("new password: %d %v", code, err)
		}
		return nil
	})
	if code, _, err := a.get(basicAuth("alice", "label-pass")); err != nil || code != 401 {
		t.Errorf("old password: %d %v, want 401", code, err)
	}
	if f := credentialFiles(t, home); len(f) != 1 || f[before] != 0 {
		t.Errorf("credential files after the change: %v (the old one was %s)", f, before)
	}
}

// goesWithTheService wants the credential file and the route gone.
func (a privateSite) goesWithTheService(t *testing.T, home string) {
	eventually(t, 20*time.Second, "the credential file removed", func() error {
		if f := credentialFiles(t, home); len(f) != 0 {
			return fmt.Errorf("still there: %v", f)
		}
		return nil
	})
	eventually(t, 20*time.Second, "the route removed", func() error {
		if code, _, err := a.get(basicAuth("alice", "label-pass")); err != nil || code != 404 {
			return fmt.Errorf("the removed service answers %d %v", code, err)
		}
		return nil
	})
}

// checkUsersFile wants one credential file (0600, in a 0700 directory)
// that rancher.toml names, without the hash, and returns its path.
func checkUsersFile(t *testing.T, home, labelHash string) string {
	t.Helper()
	files := credentialFiles(t, home)
	if len(files) != 1 {
		t.Fatalf("credential files: %v", files)
	}
	var usersFile string
	for p, mode := range files {
		usersFile = p
		if mode.Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", p, mode.Perm())
		}
	}
	if fi, err := os.Stat(filepath.Dir(usersFile)); err != nil {
		t.Errorf("credential directory: %v", err)
	} else if fi.Mode().Perm() != 0o700 {
		t.Errorf("credential directory has mode %v, want 0700", fi.Mode().Perm())
	}
	published, err := os.ReadFile(filepath.Join(home, "etc", "dynamic", "rancher.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(published), "usersFile = "+strconv.Quote(usersFile)) || strings.Contains(string(published), labelHash) {
		t.Errorf("rancher.toml does not name the file, or holds the hash:\n%s", published)
	}
	return usersFile
}

// checkAPIHidesCredentials asks the admin port from the network address:
// every API path 401 without credentials, /ping 200, and with the admin's
// the middlewares show the usersFile and none of secrets.
func checkAPIHidesCredentials(t *testing.T, i *instance, usersFile string, secrets []string) {
	from := fromClient(network)
	for _, path := range apiPaths {
		if code, body, err := get(from, fmt.Sprintf("http://%s:%d%s", network, i.admin, path), nil); err != nil || code != 401 {
			t.Errorf("%s without credentials: %d %v %.80q, want 401", path, code, err, body)
		}
	}
	if code, body, err := get(from, fmt.Sprintf("http://%s:%d/ping", network, i.admin), nil); err != nil || code != 200 {
		t.Errorf("/ping without credentials: %d %v %.80q, want 200", code, err, body)
	}
	code, body, err := get(from, fmt.Sprintf("http://%s:%d/api/http/middlewares", network, i.admin), basicAuth("admin", "admin-pass"))
	if err != nil || code != 200 {
		t.Fatalf("with credentials: %d %v %.80q", code, err, body)
	}
	if !strings.Contains(body, usersFile) {
		t.Errorf("the middleware does not show its usersFile:\n%s", body)
	}
	for _, secret := range secrets {
		if strings.Contains(body, secret) {
			t.Errorf("the API shows %q:\n%s", secret, body)
		}
	}
}

// v2AuthStack serves "api" with v2 labels, behind basic auth when users is
// not "", beside two services without auth.
func v2AuthStack(backend, users string) string {
	s := authStack(backend, "") + "      - name: api\n        labels:\n          traefik.enable: \"true\"\n" +
		"          traefik.http.routers.api.rule: Host(`api.example.com`)\n          traefik.http.services.api.loadbalancer.server.port: \"8080\"\n"
	if users != "" {
		s += fmt.Sprintf("          traefik.http.routers.api.middlewares: apiauth\n          traefik.http.middlewares.apiauth.basicauth.users: %q\n", users)
	}
	return s + "        containers:\n          - ip: " + backend + "\n"
}

// TestV2AuthFileGoesWithItsMiddleware: v2 basic-auth users work end to end
// through their file (0600), and when the middleware goes while its
// service stays, the file goes too and the service answers without
// credentials.
func TestV2AuthFileGoesWithItsMiddleware(t *testing.T) {
	const backendIP = "127.0.0.62"
	backends(t, backendIP)
	i := newInstance(t, map[string]string{"TRAEFIK_RANCHER_MODE": "metadata", "TRAEFIK_RANCHER_DOMAIN": "example.com", "TRAEFIK_HTTPS_ENABLE": "false"})
	m := startEmulator(t, i.dir, v2AuthStack(backendIP, shaUser("carol", "v2-pass")))
	i.env["TRAEFIK_RANCHER_METADATA_URL"] = m.url()
	i.start("run")
	i.waitReady()
	site := fmt.Sprintf("http://127.0.0.1:%d/", i.httpPort)
	host := func(h http.Header) http.Header {
		if h == nil {
			h = http.Header{}
		}
		h.Set("Host", "api.example.com")
		return h
	}
	eventually(t, 20*time.Second, "the api route behind auth", func() error {
		if code, _, err := get(plainClient(), site, host(nil)); err != nil || code != 401 {
			return fmt.Errorf("without credentials: %d %v", code, err)
		}
		return nil
	})
	if code, body, err := get(plainClient(), site, host(basicAuth("carol", "v2-pass"))); err != nil || code != 200 || !strings.HasPrefix(body, backendIP) {
		t.Errorf("with the right password: %d %v %q", code, err, body)
	}
	if code, _, err := get(plainClient(), site, host(basicAuth("carol", "nope"))); err != nil || code != 401 {
		t.Errorf("with a wrong password: %d %v", code, err)
	}
	files := credentialFiles(t, i.home)
	if len(files) != 1 {
		t.Fatalf("credential files: %v", files)
	}
	for p, mode := range files {
		if mode.Perm() != 0o600 || !strings.Contains(filepath.Base(p), "apiauth.htpasswd.") {
			t.Errorf("%s: mode %v", p, mode.Perm())
		}
	}
	m.write(v2AuthStack(backendIP, ""))
	eventually(t, 20*time.Second, "the api route without auth", func() error {
		if code, _, err := get(plainClient(), site, host(nil)); err != nil || code != 200 {
			return fmt.Errorf("without credentials: %d %v", code, err)
		}
		return nil
	})
	eventually(t, 20*time.Second, "the credential file removed", func() error {
		if f := credentialFiles(t, i.home); len(f) != 0 {
			return fmt.Errorf("still there: %v", f)
		}
		return nil
	})
}
