package rancher

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"rancher-traefik/internal/secrets"
)

// Rancher 1.6 keeps TLS certificates per environment: the certificates
// collection of the API (v1 and v2-beta alike), the store behind
// Infrastructure → Certificates. Followed:
//   - cattle's schema (resources/content/schema/base/certificate.json):
//     name (unique), cert and key required, certChain optional; CN,
//     subjectAlternativeNames, expiresAt, … derived and read-only;
//   - its authorization (user-auth.json "certificate.key": "curo" — the key
//     is read on create only — for environment API keys and the environment
//     agent role; projectadmin-auth.json "cur" for the environmentAdmin
//     agent role): only some keys may read a certificate's key back;
//   - go-rancher v2 (generated_certificate.go), as janeczku/rancher-letsencrypt
//     uses it (rancher/certificate.go: find by name with the removed_null
//     filter, create by POST to the collection, update by PUT of cert, key
//     and description) and rancher/lb-controller reads it
//     (certificate_fetcher.go: the served chain is cert, then certChain).

// Certificate is one entry of Rancher's certificate store.
type Certificate struct {
	ID        string
	Name      string
	State     string
	Cert      string // PEM: the certificate (a bundle, when uploaded as one)
	CertChain string // PEM: the intermediates, when given apart
	// Key is the private key; unset when the API key may not read it.
	Key secrets.Secret
}

// ChainPEM is what a server presents: cert, then certChain.
func (c *Certificate) ChainPEM() []byte {
	s := strings.TrimRight(c.Cert, "\n") + "\n"
	if strings.TrimSpace(c.CertChain) != "" {
		s += strings.TrimRight(c.CertChain, "\n") + "\n"
	}
	return []byte(s)
}

type apiCertificate struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	State     string  `json:"state"`
	Cert      string  `json:"cert"`
	CertChain *string `json:"certChain"`
	Key       *string `json:"key"`
	Removed   *string `json:"removed"`
}

func (c *apiCertificate) model() Certificate {
	out := Certificate{ID: c.ID, Name: c.Name, State: c.State, Cert: c.Cert}
	if c.CertChain != nil {
		out.CertChain = *c.CertChain
	}
	if c.Key != nil {
		out.Key = secrets.New(*c.Key)
	}
	return out
}

// live reports whether the entry is in the store: not removed nor being
// removed (Rancher lists a removed resource until it is purged).
func (c *apiCertificate) live() bool {
	switch c.State {
	case "removed", "removing", "purging", "purged":
		return false
	}
	return c.Removed == nil
}

// Certificates lists the certificates of the environment that are not
// removed, sorted by name.
func (a *API) Certificates(ctx context.Context) ([]Certificate, error) {
	return a.certificates(ctx, url.Values{"removed_null": {"1"}})
}

// CertificateByName is the certificate called name, or nil when there is none.
func (a *API) CertificateByName(ctx context.Context, name string) (*Certificate, error) {
	cs, err := a.certificates(ctx, url.Values{"removed_null": {"1"}, "name": {name}})
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	return &cs[0], nil
}

func (a *API) certificates(ctx context.Context, filters url.Values) ([]Certificate, error) {
	raws, err := a.listWhere(ctx, "certificates", filters)
	if err != nil {
		return nil, err
	}
	wire, err := decodeAll[apiCertificate](raws, "certificate")
	if err != nil {
		return nil, err
	}
	out := make([]Certificate, 0, len(wire))
	for i := range wire {
		if wire[i].live() {
			out = append(out, wire[i].model())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// PutCertificate creates the certificate name, or updates it when the store
// has one by that name, and returns it as the API answers (the key is in the
// answer to a create whatever the API key's role). chain may be empty.
func (a *API) PutCertificate(ctx context.Context, name, description string, cert, chain []byte, key secrets.Secret) (*Certificate, error) {
	if name == "" || len(cert) == 0 || !key.IsSet() {
		return nil, errors.New("rancher API certificates: a name, a certificate and a key are required")
	}
	base, err := a.base()
	if err != nil {
		return nil, err
	}
	body := map[string]any{"cert": string(cert), "certChain": string(chain), "key": key.Reveal(), "description": description}
	old, err := a.CertificateByName(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("certificate %q: %w", name, err)
	}
	var got apiCertificate
	if old == nil {
		body["name"] = name
		err = a.do(ctx, "POST", base+"/certificates", body, &got)
	} else {
		err = a.do(ctx, "PUT", base+"/certificates/"+url.PathEscape(old.ID), body, &got)
	}
	if err != nil {
		return nil, fmt.Errorf("certificate %q: %w", name, err)
	}
	c := got.model()
	return &c, nil
}

// certGen counts certificate events (or polls), as gen does for routes.
type certGen struct {
	n       int
	changed chan struct{}
}

// bumpCerts moves the certificates' generation and wakes WaitCertificates.
func (a *API) bumpCerts() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.certs.n++
	if a.certs.changed != nil {
		close(a.certs.changed)
	}
	a.certs.changed = make(chan struct{})
}

// WaitCertificates returns when a certificate event has arrived since old
// (a value it returned; "" for the first call), or after maxWait: a poll,
// the caller re-reads the store and applies only what changed.
func (a *API) WaitCertificates(ctx context.Context, old string, maxWait time.Duration) (string, error) {
	a.mu.Lock()
	if a.certs.changed == nil {
		a.certs.changed = make(chan struct{})
	}
	ch, cur := a.certs.changed, strconv.Itoa(a.certs.n)
	a.mu.Unlock()
	if cur != old {
		return cur, nil
	}
	t := time.NewTimer(maxWait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case <-ch:
	case <-t.C:
		a.bumpCerts()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return strconv.Itoa(a.certs.n), nil
}
