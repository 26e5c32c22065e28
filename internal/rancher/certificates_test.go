package rancher

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"rancher-traefik/internal/secrets"
	"rancher-traefik/internal/testcert"
)

func certAPI(t *testing.T) (*API, func(hidden bool)) {
	t.Helper()
	s, url := apiEmulator(t, "../metadataserver/testdata/stack.yml")
	api := &API{Endpoint: url + "/v1/projects/1a5", AccessKey: secrets.New("AK"), Secret: secrets.New("SK"), PageSize: 2, Log: quietLog()}
	return api, func(hidden bool) { s.API.CertKeysHidden = hidden }
}

func newChain(t *testing.T, host string) *testcert.Chain {
	t.Helper()
	c, err := testcert.New(testcert.Options{Hosts: []string{host}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPutAndListCertificates: create by name, update by name, list every
// page sorted by name, removed ones left out — against the emulator.
func TestPutAndListCertificates(t *testing.T) {
	ctx := context.Background()
	api, _ := certAPI(t)
	chains := map[string]*testcert.Chain{}
	for _, name := range []string{"c", "a", "b"} {
		chains[name] = newChain(t, name+".example.com")
		got, err := api.PutCertificate(ctx, name, "test", chains[name].LeafPEM, chains[name].CAPEM, secrets.New(string(chains[name].KeyPEM)))
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != name || got.Key.Reveal() != string(chains[name].KeyPEM) || got.State != "active" {
			t.Errorf("created %+v", got)
		}
	}
	a1 := chains["a"]
	a2 := newChain(t, "a.example.com")
	got, err := api.PutCertificate(ctx, "a", "renewed", a2.Bundle(), nil, secrets.New(string(a2.KeyPEM)))
	if err != nil {
		t.Fatal(err)
	}
	byName, err := api.CertificateByName(ctx, "a")
	if err != nil || byName == nil || byName.ID != got.ID || byName.Cert != string(a2.Bundle()) || byName.CertChain != "" || byName.Key.Reveal() != string(a2.KeyPEM) {
		t.Fatalf("a after the update: %+v %v (first was %s)", byName, err, a1.Fingerprint())
	}
	list, err := api.Certificates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range list {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "a,b,c" {
		t.Errorf("listed %v, want a,b,c (every page, by name)", names)
	}
	if b := list[1]; string(b.ChainPEM()) != string(chains["b"].LeafPEM)+string(chains["b"].CAPEM) {
		t.Errorf("b's chain is not cert then certChain:\n%s", b.ChainPEM())
	}
	if none, err := api.CertificateByName(ctx, "nothing"); none != nil || err != nil {
		t.Errorf("an absent name: %+v %v", none, err)
	}
}

func TestRemovedCertificatesLeftOut(t *testing.T) {
	ctx := context.Background()
	s, url := apiEmulator(t, "../metadataserver/testdata/stack.yml")
	api := &API{Endpoint: url + "/v2-beta", AccessKey: secrets.New("AK"), Secret: secrets.New("SK")}
	c := newChain(t, "gone.example.com")
	s.PutCertificate("gone", string(c.LeafPEM), "", string(c.KeyPEM))
	s.PutCertificate("kept", string(c.LeafPEM), "", string(c.KeyPEM))
	s.RemoveCertificate("gone")
	list, err := api.Certificates(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "kept" {
		t.Errorf("listed %+v %v, want kept alone", list, err)
	}
	// A new certificate may take a removed one's name.
	if _, err := api.PutCertificate(ctx, "gone", "", c.LeafPEM, nil, secrets.New(string(c.KeyPEM))); err != nil {
		t.Errorf("re-creating gone: %v", err)
	}
}

// TestCertificateKeysHiddenFromEnvironmentKeys: a key of the environment
// role reads no key back; PutCertificate still gets it in its create's
// answer, not in an update's.
func TestCertificateKeysHiddenFromEnvironmentKeys(t *testing.T) {
	ctx := context.Background()
	api, hide := certAPI(t)
	hide(true)
	c := newChain(t, "a.example.com")
	created, err := api.PutCertificate(ctx, "a", "", c.LeafPEM, nil, secrets.New(string(c.KeyPEM)))
	if err != nil || !created.Key.IsSet() {
		t.Fatalf("create: %+v %v", created, err)
	}
	updated, err := api.PutCertificate(ctx, "a", "", c.LeafPEM, nil, secrets.New(string(c.KeyPEM)))
	if err != nil || updated.Key.IsSet() {
		t.Errorf("update: key shown %v, %v", updated.Key.IsSet(), err)
	}
	list, err := api.Certificates(ctx)
	if err != nil || len(list) != 1 || list[0].Key.IsSet() || list[0].Cert == "" {
		t.Errorf("list: %+v %v", list, err)
	}
}

func TestPutCertificateErrors(t *testing.T) {
	ctx := context.Background()
	api, _ := certAPI(t)
	c := newChain(t, "a.example.com")
	for _, tc := range []struct {
		name, certName string
		cert           []byte
		key            string
		api            *API
		want           string
	}{
		{"no name", "", c.LeafPEM, "k", api, "a name, a certificate and a key are required"},
		{"no key", "x", c.LeafPEM, "", api, "a name, a certificate and a key are required"},
		{"wrong secret", "x", c.LeafPEM, "k", &API{Endpoint: api.Endpoint, AccessKey: secrets.New("AK"), Secret: secrets.New("NOPE")}, "check TRAEFIK_RANCHER_ACCESSKEY/SECRET"},
	} {
		_, err := tc.api.PutCertificate(ctx, tc.certName, "", tc.cert, nil, secrets.New(tc.key))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "NOPE") {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// Rancher's own refusal names its code and field.
	err := api.do(ctx, "POST", strings.Replace(api.Endpoint, "/v1", "/v2-beta", 1)+"/certificates", map[string]any{"name": "x"}, &struct{}{})
	if err == nil || !strings.Contains(err.Error(), "422 Unprocessable Entity: MissingRequired (cert)") {
		t.Errorf("422: %v", err)
	}
	if err := api.get(ctx, strings.Replace(api.Endpoint, "/v1", "/v2-beta", 1)+"/certificates/1c99", &struct{}{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("404: %v", err)
	}
}

// TestWaitCertificates: subscribing and a certificate event wake the wait,
// and without events the wait ends after maxWait (a poll).
func TestWaitCertificates(t *testing.T) {
	s, url := apiEmulator(t, "../metadataserver/testdata/stack.yml")
	api := &API{Endpoint: url + "/v2-beta", AccessKey: secrets.New("AK"), Secret: secrets.New("SK"), Log: quietLog()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v0, err := api.WaitCertificates(ctx, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- api.Events(ctx) }()
	defer func() { cancel(); <-done }()
	// Subscribing bumps once (changes may have happened meanwhile).
	v1, err := api.WaitCertificates(ctx, v0, time.Hour)
	if err != nil || v1 == v0 {
		t.Fatalf("subscribing: %q → %q %v", v0, v1, err)
	}
	c := newChain(t, "a.example.com")
	got := make(chan string, 1)
	go func() { v, _ := api.WaitCertificates(ctx, v1, time.Hour); got <- v }()
	s.PutCertificate("a", string(c.LeafPEM), "", string(c.KeyPEM))
	select {
	case v2 := <-got:
		if v2 == v1 {
			t.Errorf("woken without a new version")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a certificate event did not wake WaitCertificates")
	}
	// No event: the wait is a poll of maxWait.
	v3, _ := api.WaitCertificates(ctx, "", time.Hour)
	if v4, err := api.WaitCertificates(ctx, v3, 10*time.Millisecond); err != nil || v4 == v3 {
		t.Errorf("poll: %q → %q %v", v3, v4, err)
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
