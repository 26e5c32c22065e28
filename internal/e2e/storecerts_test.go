package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rancher-traefik/internal/testcert"
)

// certStore drives the emulator's certificates collection over HTTP, as
// Rancher's UI or API clients would.
type certStore struct {
	t   *testing.T
	url string // …/v2-beta/projects/1a5/certificates
}

func (s certStore) call(method, url string, body any) map[string]any {
	s.t.Helper()
	var rd bytes.Buffer
	if body != nil {
		_ = json.NewEncoder(&rd).Encode(body)
	}
	req, err := http.NewRequest(method, url, &rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.SetBasicAuth("AK", "SKSTORE")
	req.Header.Set("Content-Type", "application/json")
	resp, err := plainClient().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode >= 300 {
		s.t.Fatalf("%s %s: %s %v", method, url, resp.Status, err)
	}
	return out
}

// put creates name or updates it, with cert and key as given.
func (s certStore) put(name string, cert, key []byte) {
	s.t.Helper()
	list := s.call(http.MethodGet, s.url+"?removed_null=1&name="+url.QueryEscape(name), nil)["data"].([]any)
	body := map[string]any{"name": name, "cert": string(cert), "key": string(key)}
	if len(list) == 0 {
		s.call(http.MethodPost, s.url, body)
		return
	}
	s.call(http.MethodPut, s.url+"/"+list[0].(map[string]any)["id"].(string), body)
}

func (s certStore) remove(name string) {
	s.t.Helper()
	for _, it := range s.call(http.MethodGet, s.url+"?removed_null=1&name="+url.QueryEscape(name), nil)["data"].([]any) {
		s.call(http.MethodDelete, s.url+"/"+it.(map[string]any)["id"].(string), nil)
	}
}

// TestRancherStoreCertificatesServed: a certificate created in Rancher's
// store is served by SNI by the real Traefik; replaced, the new one is
// served without Traefik restarting; a bad version is reported once, by
// name, and the good one stays served; deleted, it is served no more.
func TestRancherStoreCertificatesServed(t *testing.T) {
	i := newInstance(t, map[string]string{"TRAEFIK_RANCHER_MODE": "api", "TRAEFIK_RANCHER_ACCESSKEY": "AK", "TRAEFIK_RANCHER_SECRET": "SKSTORE",
		"TRAEFIK_RANCHER_CERTIFICATES": "all", "TRAEFIK_RANCHER_REFRESH": "2"})
	main := i.withCert("*.example.com")
	m := &emulator{t: t, file: filepath.Join(i.dir, "stack.yml"), addr: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	m.write("stacks: []\n")
	m.startWithKeys("AK:SKSTORE")
	t.Cleanup(m.stop)
	i.env["TRAEFIK_RANCHER_ENDPOINT"] = "http://" + m.addr + "/v1"
	store := certStore{t: t, url: "http://" + m.addr + "/v2-beta/projects/1a5/certificates"}
	chain := func(host string) *testcert.Chain {
		t.Helper()
		c, err := testcert.New(testcert.Options{Hosts: []string{host}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	served := func(host string) string {
		conn, err := tlsDialInsecure(i.httpsPort, host)
		if err != nil {
			return "error: " + err.Error()
		}
		defer conn.Close()
		return testcert.Fingerprint(conn.ConnectionState().PeerCertificates[0].Raw)
	}
	expect := func(host string, c *testcert.Chain) {
		t.Helper()
		eventually(t, 20*time.Second, host+" served", func() error {
			if got := served(host); got != c.Fingerprint() {
				return fmt.Errorf("serving %s, want %s", got, c.Fingerprint())
			}
			return nil
		})
	}
	i.start("run")
	i.waitReady()
	traefik := children(i.cmd.Process.Pid)

	v1 := chain("store.example.net")
	store.put("store-a", v1.Bundle(), v1.KeyPEM)
	expect("store.example.net", v1)

	v2 := chain("store.example.net")
	store.put("store-a", v2.Bundle(), v2.KeyPEM)
	expect("store.example.net", v2)

	// A bad version: the key of another certificate.
	mark := len(i.stderr.String())
	store.put("store-a", v1.Bundle(), v2.KeyPEM)
	i.waitLog(mark, `certificate=store-a err="the private key does not match the certificate`, 20*time.Second)
	// Another certificate served proves a later read of the store, which
	// saw the bad version again and said nothing.
	other := chain("other.example.org")
	store.put("store-b", other.Bundle(), other.KeyPEM)
	expect("other.example.org", other)
	if out := i.stderr.String()[mark:]; strings.Count(out, "a certificate of Rancher's store is invalid") != 1 {
		t.Errorf("the bad version was reported %d times, want once:\n%s", strings.Count(out, "a certificate of Rancher's store is invalid"), out)
	}
	if got := served("store.example.net"); got != v2.Fingerprint() {
		t.Errorf("with a bad version in the store, serving %s, want the last good %s", got, v2.Fingerprint())
	}

	store.remove("store-a")
	expect("store.example.net", main) // the default certificate again
	expect("other.example.org", other)

	if now := children(i.cmd.Process.Pid); fmt.Sprint(now) != fmt.Sprint(traefik) || len(now) != 1 {
		t.Errorf("Traefik's pid went from %v to %v: it was restarted", traefik, now)
	}
	out := i.stderr.String() + i.stdout.String()
	for _, c := range []*testcert.Chain{v1, v2, other} {
		if strings.Contains(out, strings.Split(string(c.KeyPEM), "\n")[1]) {
			t.Error("a key is in the output")
		}
	}
	if strings.Contains(out, "SKSTORE") {
		t.Error("the API secret is in the output")
	}
}
