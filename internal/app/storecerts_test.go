package app

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rancher-traefik/internal/certs"
	"rancher-traefik/internal/config"
	"rancher-traefik/internal/metadataserver"
	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/testcert"
	"rancher-traefik/internal/testlog"
)

// storeRig is a storeCerts against the emulator's API face, in a temporary
// home, logging to a buffer.
type storeRig struct {
	t    *testing.T
	srv  *metadataserver.Server
	cfg  *config.Config
	logs *testlog.Buffer
	api  *rancher.API
	sc   *storeCerts
}

func newStoreRig(t *testing.T, selection string) *storeRig {
	t.Helper()
	ans, err := metadataserver.Parse([]byte("stacks: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	srv := metadataserver.New(ans, slog.New(slog.DiscardHandler))
	srv.API = &metadataserver.APIKeys{Access: "AK", Secret: "SK"}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	cfg, err := config.FromEnv(lookupOf(map[string]string{
		"TRAEFIK_HOME": filepath.Join(t.TempDir(), "home"), "TRAEFIK_RANCHER_MODE": "api", "TRAEFIK_RANCHER_ENDPOINT": ts.URL + "/v1",
		"TRAEFIK_RANCHER_ACCESSKEY": "AK", "TRAEFIK_RANCHER_SECRET": "SK", "TRAEFIK_RANCHER_CERTIFICATES": selection,
	}))
	if err != nil {
		t.Fatal(err)
	}
	r := &storeRig{t: t, srv: srv, cfg: cfg, logs: &testlog.Buffer{}}
	r.api = &rancher.API{Endpoint: cfg.RancherEndpoint, AccessKey: cfg.RancherAccessKey, Secret: cfg.RancherSecret, Log: slog.New(slog.DiscardHandler)}
	r.restart()
	return r
}

func lookupOf(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

// restart is a new run over the same home.
func (r *storeRig) restart() {
	r.sc = newStoreCerts(r.cfg, r.api, slog.New(slog.NewTextHandler(r.logs, nil)))
}

func (r *storeRig) sync() { r.sc.sync(context.Background()) }

// served maps each certificate file listed in the dynamic file to the
// fingerprint of the leaf in it; the key beside it must match.
func (r *storeRig) served() map[string]string {
	r.t.Helper()
	raw, err := os.ReadFile(filepath.Join(r.cfg.DynamicDir(), storeCertsFile))
	if os.IsNotExist(err) {
		return map[string]string{}
	}
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		f, ok := strings.CutPrefix(strings.TrimSpace(line), "certFile = ")
		if !ok {
			continue
		}
		crt := strings.Trim(f, `"`)
		cb, err1 := os.ReadFile(crt)
		kb, err2 := os.ReadFile(strings.TrimSuffix(crt, ".crt") + ".key")
		p, err3 := certs.Parse(cb, kb)
		if err1 != nil || err2 != nil || err3 != nil {
			r.t.Fatalf("%s: %v %v %v", crt, err1, err2, err3)
		}
		out[filepath.Base(crt)] = certs.Fingerprint(p.Leaf())
	}
	return out
}

func (r *storeRig) expect(want map[string]*testcert.Chain) {
	r.t.Helper()
	got := r.served()
	if len(got) != len(want) {
		r.t.Errorf("served %v, want %d certificates", got, len(want))
	}
	for file, c := range want {
		if got[file] != c.Fingerprint() {
			r.t.Errorf("%s: serving %q, want %q", file, got[file], c.Fingerprint())
		}
	}
}

// checkBadVersions puts bad versions of site-a (served as good) into the
// store, made of good and another chain's key: each is reported once,
// naming site-a and why, and want stays served.
func (r *storeRig) checkBadVersions(good, other *testcert.Chain, want map[string]*testcert.Chain) {
	r.t.Helper()
	for _, bad := range []struct{ name, cert, key, want string }{
		{"key of another", string(good.Bundle()), string(other.KeyPEM), "the private key does not match the certificate (a.example.com) nor any other in the chain"},
		{"broken chain", string(good.LeafPEM) + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", string(good.KeyPEM), "certificate 2: x509: malformed certificate"},
		{"no key block", string(good.Bundle()), "not a key", "no PEM private key block found"},
	} {
		mark := len(r.logs.String())
		r.srv.PutCertificate("site-a", bad.cert, "", bad.key)
		r.sync()
		r.sync() // the same bad content: not reported again
		out := r.logs.String()[mark:]
		if n := strings.Count(out, "a certificate of Rancher's store is invalid"); n != 1 || !strings.Contains(out, `certificate=site-a`) || !strings.Contains(out, bad.want) {
			r.t.Errorf("%s: reported %d times, want once naming site-a and %q:\n%s", bad.name, n, bad.want, out)
		}
		r.expect(want)
	}
}

// TestStoreCertificatesFollowed: served, replaced, a bad version reported
// once with the good one kept, fixed, deleted — the files and the dynamic
// file follow the store, and no key reaches the log.
func TestStoreCertificatesFollowed(t *testing.T) {
	r := newStoreRig(t, "all")
	a1, b := newChain(t, "a.example.com"), newChain(t, "b.example.com")
	r.srv.PutCertificate("site-a", string(a1.LeafPEM), string(a1.CAPEM), string(a1.KeyPEM))
	r.srv.PutCertificate("site b/2", string(b.Bundle()), "", string(b.KeyPEM))
	r.sync()
	bFile := fileBase("site b/2") + ".crt"
	r.expect(map[string]*testcert.Chain{"site-a.crt": a1, bFile: b})
	if fi, err := os.Stat(filepath.Join(storeCertsDir(r.cfg), "site-a.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", fi, err)
	}

	a2 := newChain(t, "a.example.com")
	r.srv.PutCertificate("site-a", string(a2.Bundle()), "", string(a2.KeyPEM))
	r.sync()
	r.expect(map[string]*testcert.Chain{"site-a.crt": a2, bFile: b})

	r.checkBadVersions(a2, a1, map[string]*testcert.Chain{"site-a.crt": a2, bFile: b})
	// An expired version does not replace one that is not.
	expired, err := testcert.New(testcert.Options{Hosts: []string{"a.example.com"}, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	mark := len(r.logs.String())
	r.srv.PutCertificate("site-a", string(expired.Bundle()), "", string(expired.KeyPEM))
	r.sync()
	if out := r.logs.String()[mark:]; !strings.Contains(out, "certificate=site-a err=\"it expired on ") {
		t.Errorf("the expired replacement was not reported:\n%s", out)
	}
	r.expect(map[string]*testcert.Chain{"site-a.crt": a2, bFile: b})
	// An expired certificate with nothing better is served (and logged).
	r.srv.PutCertificate("old", string(expired.Bundle()), "", string(expired.KeyPEM))
	r.sync()
	r.expect(map[string]*testcert.Chain{"site-a.crt": a2, bFile: b, "old.crt": expired})
	if !strings.Contains(r.logs.String(), "certificate has expired; serving it anyway") {
		t.Error("the expired certificate served was not logged")
	}
	r.srv.RemoveCertificate("old")

	// A new entry that was never good is not served.
	r.srv.PutCertificate("new", string(b.Bundle()), "", string(a1.KeyPEM))
	r.sync()
	r.expect(map[string]*testcert.Chain{"site-a.crt": a2, bFile: b})

	// A restart keeps what was served while an entry is bad.
	r.restart()
	r.sync()
	r.expect(map[string]*testcert.Chain{"site-a.crt": a2, bFile: b})

	r.srv.PutCertificate("site-a", string(a1.LeafPEM), string(a1.CAPEM), string(a1.KeyPEM))
	r.srv.RemoveCertificate("site b/2")
	r.sync()
	r.expect(map[string]*testcert.Chain{"site-a.crt": a1})
	if _, err := os.Stat(filepath.Join(storeCertsDir(r.cfg), strings.TrimSuffix(bFile, ".crt")+".key")); !os.IsNotExist(err) {
		t.Errorf("the deleted certificate's key is still there: %v", err)
	}
	r.srv.RemoveCertificate("site-a")
	r.srv.RemoveCertificate("new")
	r.sync()
	if _, err := os.Stat(filepath.Join(r.cfg.DynamicDir(), storeCertsFile)); !os.IsNotExist(err) {
		t.Errorf("the dynamic file stays with nothing to serve: %v", err)
	}
	for _, c := range []*testcert.Chain{a1, a2, b} {
		if strings.Contains(r.logs.String(), strings.Split(string(c.KeyPEM), "\n")[1]) {
			t.Fatal("a key is in the log")
		}
	}
}

// TestStoreCertificatesSelection: names select; a name the store lacks is
// warned about once, and again once it came and went.
func TestStoreCertificatesSelection(t *testing.T) {
	r := newStoreRig(t, "wanted,missing")
	w, o := newChain(t, "w.example.com"), newChain(t, "o.example.com")
	r.srv.PutCertificate("wanted", string(w.Bundle()), "", string(w.KeyPEM))
	r.srv.PutCertificate("other", string(o.Bundle()), "", string(o.KeyPEM))
	r.sync()
	r.sync()
	r.expect(map[string]*testcert.Chain{"wanted.crt": w})
	warn := "TRAEFIK_RANCHER_CERTIFICATES names a certificate Rancher's store does not have"
	if n := strings.Count(r.logs.String(), warn); n != 1 || !strings.Contains(r.logs.String(), "certificate=missing") {
		t.Errorf("warned %d times, want once naming missing:\n%s", n, r.logs.String())
	}
	r.srv.PutCertificate("missing", string(o.Bundle()), "", string(o.KeyPEM))
	r.sync()
	r.srv.RemoveCertificate("missing")
	r.sync()
	if n := strings.Count(r.logs.String(), warn); n != 2 {
		t.Errorf("warned %d times, want twice", n)
	}
	r.expect(map[string]*testcert.Chain{"wanted.crt": w})
}

// TestStoreCertificatesWithoutKeys: an API key that may not read keys is
// one clear error naming the variable; what is served stays.
func TestStoreCertificatesWithoutKeys(t *testing.T) {
	r := newStoreRig(t, "all")
	a := newChain(t, "a.example.com")
	r.srv.PutCertificate("a", string(a.Bundle()), "", string(a.KeyPEM))
	r.srv.PutCertificate("b", string(a.Bundle()), "", string(a.KeyPEM))
	r.sync()
	r.srv.API.CertKeysHidden = true
	r.sync()
	r.sync()
	out := r.logs.String()
	if n := strings.Count(out, "TRAEFIK_RANCHER_CERTIFICATES: the Rancher API returns no private key"); n != 1 || !strings.Contains(out, "io.rancher.container.agent.role: environmentAdmin") {
		t.Errorf("the error was logged %d times, want once with the fix:\n%s", n, out)
	}
	if strings.Contains(out, "is invalid") {
		t.Errorf("each certificate was reported too:\n%s", out)
	}
	r.expect(map[string]*testcert.Chain{"a.crt": a, "b.crt": a})
}

// TestPrepareRemovesStoreCertificates: with none, what an earlier run
// served from the store goes.
func TestPrepareRemovesStoreCertificates(t *testing.T) {
	r := newStoreRig(t, "all")
	a := newChain(t, "a.example.com")
	r.srv.PutCertificate("a", string(a.Bundle()), "", string(a.KeyPEM))
	r.sync()
	r.expect(map[string]*testcert.Chain{"a.crt": a})
	app, _, _ := testApp(map[string]string{"TRAEFIK_HOME": r.cfg.Home})
	cfg, log, err := app.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Prepare(cfg, log); err != nil {
		t.Fatal(err)
	}
	r.expect(nil)
	if _, err := os.Stat(storeCertsDir(r.cfg)); !os.IsNotExist(err) {
		t.Errorf("certs/rancher stays: %v", err)
	}
}

func TestFileBase(t *testing.T) {
	for name, want := range map[string]string{
		"site-a":           "site-a",
		"acme-example.com": "acme-example.com",
		"a b/c":            "a_b_c-",
		"..":               "-",
		"":                 "-",
	} {
		got := fileBase(name)
		if !strings.HasPrefix(got, want) || (want != name && len(got) != len(want)+8) {
			t.Errorf("fileBase(%q) = %q, want %q (+ 8 hex digits when changed)", name, got, want)
		}
	}
	if fileBase("a b") == fileBase("a_b") || fileBase("a/b") == fileBase("a b") {
		t.Error("two names share a file")
	}
}
