package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rancher-traefik/internal/metadataserver"
	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/routes"
	"rancher-traefik/internal/secrets"
	"rancher-traefik/internal/testlog"
)

// authStack is one service behind basic auth with users, and another
// without auth.
func authStack(t *testing.T, users string) metadataserver.Answers {
	t.Helper()
	var b strings.Builder
	b.WriteString("stacks:\n  - name: s\n    services:\n      - name: plain\n        labels: {traefik.enable: \"true\", traefik.port: \"80\"}\n        containers:\n          - ip: 10.0.0.1\n")
	if users != "" {
		fmt.Fprintf(&b, "      - name: private\n        labels: {traefik.enable: \"true\", traefik.port: \"80\", traefik.frontend.auth.basic.users: %q}\n        containers:\n          - ip: 10.0.0.2\n", users)
	}
	a, err := metadataserver.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func credPublisher(t *testing.T) (*Publisher, *testlog.Buffer) {
	t.Helper()
	dir := t.TempDir()
	logs := &testlog.Buffer{}
	return &Publisher{
		Options: routes.Options{Domain: "example.com", CredentialDir: filepath.Join(dir, "auth"), CredentialKey: secrets.New("k")},
		Path:    filepath.Join(dir, "rancher.toml"),
		Log:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}, logs
}

// credFiles lists the credential directory: name → mode and content.
func credFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := e.Info()
		out[e.Name()] = fmt.Sprintf("%v %s", fi.Mode().Perm(), b)
	}
	return out
}

func usersFileIn(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "usersFile = "); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

func TestCredentialFilesFollowTheRoutes(t *testing.T) {
	p, logs := credPublisher(t)
	dir := p.Options.CredentialDir
	const userA, userB = "alice:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/", "alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// Files of other forms in the directory are never touched.
	for _, name := range []string{".key", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("mine"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	if err := p.publish(mustSnap(t, authStack(t, userA))); err != nil {
		t.Fatal(err)
	}
	first := usersFileIn(t, p.Path)
	if filepath.Dir(first) != dir {
		t.Fatalf("usersFile %q is not in %s", first, dir)
	}
	want := map[string]string{".key": "-rw------- mine", "notes.txt": "-rw------- mine", filepath.Base(first): "-rw------- " + userA + "\n"}
	if got := credFiles(t, dir); !maps.Equal(got, want) {
		t.Errorf("after the first publish:\n%v\nwant\n%v", got, want)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("credential directory: %v %v", fi.Mode(), err)
	}

	// A new password: a new file, named in the routes; the old one goes.
	if err := p.publish(mustSnap(t, authStack(t, userB))); err != nil {
		t.Fatal(err)
	}
	second := usersFileIn(t, p.Path)
	if second == first {
		t.Fatal("a new password kept the path: Traefik would not re-read the file")
	}
	want = map[string]string{".key": "-rw------- mine", "notes.txt": "-rw------- mine", filepath.Base(second): "-rw------- " + userB + "\n"}
	if got := credFiles(t, dir); !maps.Equal(got, want) {
		t.Errorf("after the password change:\n%v\nwant\n%v", got, want)
	}

	// The service goes: so does its file.
	if err := p.publish(mustSnap(t, authStack(t, ""))); err != nil {
		t.Fatal(err)
	}
	want = map[string]string{".key": "-rw------- mine", "notes.txt": "-rw------- mine"}
	if got := credFiles(t, dir); !maps.Equal(got, want) {
		t.Errorf("after the service went:\n%v\nwant\n%v", got, want)
	}

	routesFile, _ := os.ReadFile(p.Path)
	for _, secret := range []string{"$apr1$", "{SHA}"} {
		if strings.Contains(logs.String(), secret) || strings.Contains(string(routesFile), secret) {
			t.Errorf("%q appears in the logs or the routes file", secret)
		}
	}
}

// TestCredentialsBeforeRoutes: when the credential files cannot be
// written, the routes that would name them are not published.
func TestCredentialsBeforeRoutes(t *testing.T) {
	p, _ := credPublisher(t)
	if err := p.publish(mustSnap(t, authStack(t, ""))); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(p.Path)
	// A file where the directory should be: no credential can be written
	// (whoever runs the test, root included).
	if err := os.WriteFile(p.Options.CredentialDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := p.publish(mustSnap(t, authStack(t, "alice:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/")))
	if err == nil || !strings.Contains(err.Error(), "credential directory") {
		t.Errorf("publish: %v", err)
	}
	if after, _ := os.ReadFile(p.Path); string(after) != string(before) {
		t.Error("the routes were published without their credential file")
	}
}

func TestWriteCredentialsRefusesOtherPaths(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{filepath.Join(dir, "..", "x.htpasswd."+strings.Repeat("a", 32)), filepath.Join(dir, "rancher.toml")} {
		if _, err := writeCredentials(dir, routes.Credentials{path: secrets.New("u:h\n")}); err == nil {
			t.Errorf("%s was written", path)
		}
	}
	err := filepath.WalkDir(filepath.Dir(dir), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("%s written", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// mustSnap serves a over the emulator and reads it back as the client does.
func mustSnap(t *testing.T, a metadataserver.Answers) *rancher.Snapshot {
	t.Helper()
	srv := metadataserver.New(a, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := httptest.NewServer(srv)
	defer ts.Close()
	s, err := (&rancher.Client{Base: ts.URL + "/2016-07-29"}).Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestHeldRemovalKeepsCredentialFiles: while a mass removal is held, the
// held routers still name their credential files, so the files stay; when
// the removal applies, they go.
func TestHeldRemovalKeepsCredentialFiles(t *testing.T) {
	p, _ := credPublisher(t)
	now := time.Unix(1_700_000_000, 0)
	p.now = func() time.Time { return now }
	p.Guard, p.GuardHold = 0.5, time.Minute
	const user = "alice:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"
	if err := p.publish(mustSnap(t, authStack(t, user))); err != nil {
		t.Fatal(err)
	}
	file := usersFileIn(t, p.Path)
	empty, err := metadataserver.Parse([]byte("stacks: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.publish(mustSnap(t, empty)); err != nil {
		t.Fatal(err)
	}
	if got := usersFileIn(t, p.Path); got != file {
		t.Fatalf("held routes name %q, want %q", got, file)
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("the credential file of a held router is gone: %v", err)
	}
	now = now.Add(2 * time.Minute) // past the hold: the removal applies
	if err := p.publish(mustSnap(t, empty)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after the removal applied, the credential file is still there: %v", err)
	}
}

// TestDeliveredBeforeWrittenAfterCredentials: with a Deliver (REST
// delivery) the configuration is handed over once the credential files it
// names are in place, and before the routes file is written (the push is
// what Traefik waits for); when the credential files cannot be written,
// nothing is delivered.
func TestDeliveredBeforeWrittenAfterCredentials(t *testing.T) {
	p, _ := credPublisher(t)
	var delivered int
	p.Deliver = func(body []byte) error {
		delivered++
		b, err := routes.Encode(deliveredTree(t, body))
		if err != nil {
			return err
		}
		users := ""
		for l := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "usersFile = "); ok {
				users = strings.Trim(v, `"`)
			}
		}
		if users == "" {
			t.Error("delivered without the auth service's usersFile")
		} else if _, err := os.Stat(users); err != nil {
			t.Errorf("delivered before its credential file was written: %v", err)
		}
		if _, err := os.Stat(p.Path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the routes file was written before the delivery (stat: %v)", err)
		}
		return nil
	}
	if err := p.publish(mustSnap(t, authStack(t, "alice:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"))); err != nil {
		t.Fatal(err)
	}
	if delivered != 1 {
		t.Fatalf("delivered %d times, want 1", delivered)
	}
	if got := usersFileIn(t, p.Path); got == "" {
		t.Error("the routes file was not written after the delivery")
	}
	if err := os.RemoveAll(p.Options.CredentialDir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Options.CredentialDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.publish(mustSnap(t, authStack(t, "bob:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"))); err == nil {
		t.Error("publish without a credential directory: no error")
	}
	if delivered != 1 {
		t.Errorf("delivered %d times, want 1: a configuration naming credential files that could not be written was delivered", delivered)
	}
}
