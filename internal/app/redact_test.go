package app

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// credentialFixture uses every label whose value is a credential, in each
// dialect: CANARY-… values move to files, NOFILE-… ones stay in the
// published configuration (routes/credentialcanary_test.go).
const credentialFixture = "../routes/testdata/credentials.yml"

var anyCanary = regexp.MustCompile(`(CANARY|NOFILE)-[a-z0-9-]+`)

// TestRoutesAndExplainHideCredentials: neither routes nor explain prints a
// label credential of the fixture, whether it moved to a file or has no
// file form; routes says how many it hid, and prints the values that are
// not credentials.
func TestRoutesAndExplainHideCredentials(t *testing.T) {
	env := map[string]string{"TRAEFIK_RANCHER_DOMAIN": "example.com"}
	a, out, errs := explainApp(t, env)
	if err := a.Routes(context.Background(), "", credentialFixture); err != nil {
		t.Fatalf("routes: %v (stderr %s)", err, errs)
	}
	if got := anyCanary.FindAllString(out.String()+errs.String(), -1); len(got) > 0 {
		t.Errorf("routes prints %v:\n%s", got, out)
	}
	for _, want := range []string{"plain-v1", "plain-v2", "usersFile = ", `Authorization = "[redacted]"`, `password = "[redacted]"`, "https://%5Bredacted%5D@auth.example.com/check"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("routes does not print %q:\n%s", want, out)
		}
	}
	// The fixture's NOFILE values: two v1 request/response headers, the v1
	// health check's, Redis's username and password, three v2 headers, the
	// v2 health check's, the forward-auth URL's password.
	if !strings.Contains(errs.String(), "note: 10 values that are credentials") {
		t.Errorf("stderr: %s", errs)
	}

	a, out, errs = explainApp(t, env)
	if err := a.Explain(context.Background(), "", credentialFixture, ""); err != nil {
		t.Fatalf("explain: %v (stderr %s)", err, errs)
	}
	if got := anyCanary.FindAllString(out.String()+errs.String(), -1); len(got) > 0 {
		t.Errorf("explain prints %v:\n%s", got, out)
	}
	if !strings.Contains(out.String(), "creds/v2 (service, v2 labels): published") {
		t.Errorf("explain did not explain the v2 service:\n%s", out)
	}
}

func TestRedactConfig(t *testing.T) {
	cfg := map[string]any{"http": map[string]any{
		"middlewares": map[string]any{
			"h": map[string]any{"headers": map[string]any{
				"customRequestHeaders": map[string]any{"X-Api-Key": "k1", "X-Tag": "t", "Cookie": "c", "X-Empty-Token": ""},
				"publicKey":            "pin-sha256",
			}},
			"p": map[string]any{"plugin": map[string]any{"demo": map[string]any{"token": "p1", "list": []string{"p2"}, "n": 3}}},
		},
		"services": map[string]any{"s": map[string]any{"loadBalancer": map[string]any{
			"servers":     []map[string]any{{"url": "http://u:pw@10.0.0.1:80"}, {"url": "http://10.0.0.2:80"}},
			"healthCheck": map[string]any{"headers": map[string]any{"Authorization": "a1", "Host": "h"}},
		}}},
	}}
	got, n := redactConfig(cfg)
	if n != 6 {
		t.Errorf("%d values redacted, want 6", n)
	}
	want := map[string]any{"http": map[string]any{
		"middlewares": map[string]any{
			"h": map[string]any{"headers": map[string]any{
				"customRequestHeaders": map[string]any{"X-Api-Key": redacted, "X-Tag": "t", "Cookie": redacted, "X-Empty-Token": ""},
				"publicKey":            "pin-sha256",
			}},
			"p": map[string]any{"plugin": map[string]any{"demo": map[string]any{"token": redacted, "list": []string{redacted}, "n": 3}}},
		},
		"services": map[string]any{"s": map[string]any{"loadBalancer": map[string]any{
			"servers":     []map[string]any{{"url": "http://%5Bredacted%5D@10.0.0.1:80"}, {"url": "http://10.0.0.2:80"}},
			"healthCheck": map[string]any{"headers": map[string]any{"Authorization": redacted, "Host": "h"}},
		}}},
	}}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("(-got +want):\n%s", diff)
	}
	if cfg["http"].(map[string]any)["middlewares"].(map[string]any)["h"].(map[string]any)["headers"].(map[string]any)["customRequestHeaders"].(map[string]any)["X-Api-Key"] != "k1" {
		t.Error("redactConfig changed its input")
	}
}

// TestREADMECredentialHeaders: the README's "Credentials in labels" names
// every header name and word credentialHeader goes by.
func TestREADMECredentialHeaders(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n### Credentials in labels\n")
	if !ok {
		t.Fatal("README.md has no Credentials in labels section")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	for _, w := range append(slices.Clone(credentialHeaderNames), credentialHeaderWords...) {
		if !strings.Contains(sec, "`"+w+"`") {
			t.Errorf("the README's Credentials in labels does not name `%s`", w)
		}
	}
	for _, h := range []string{"X-Api-Key", "X-Auth-Token", "X-Session-Id", "Authorization", "Cookie"} {
		if !credentialHeader(h) || !credentialHeader(strings.ToLower(h)) {
			t.Errorf("%s is not a credential header", h)
		}
	}
	for _, h := range []string{"X-Request-Tag", "Host", "X-Forwarded-Proto", "Content-Security-Policy"} {
		if credentialHeader(h) {
			t.Errorf("%s is a credential header", h)
		}
	}
}
