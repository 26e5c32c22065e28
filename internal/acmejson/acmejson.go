// Package acmejson reads and extends Traefik's ACME storage file
// (certificatesResolvers.<name>.acme.storage, acme.json): an object keyed by
// resolver name, each {"Account": …, "Certificates": [{"domain": {"main",
// "sans"}, "certificate", "key", "Store"}]}, certificate and key being PEM
// encoded in base64 (Traefik v3.6 pkg/provider/acme: StoredData,
// CertAndStore, Certificate; LocalStore writes it with mode 0600 and
// refuses a more open one).
package acmejson

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Cert is one certificate of a resolver.
type Cert struct {
	Main string
	SANs []string
	// Bundle is the PEM chain Traefik serves (leaf first); Key its PEM key.
	Bundle, Key []byte
	// Store is Traefik's TLS store ("default").
	Store string
}

// Domains is Main then the SANs.
func (c Cert) Domains() []string { return append([]string{c.Main}, c.SANs...) }

type wireDomain struct {
	Main string   `json:"main,omitempty"`
	SANs []string `json:"sans,omitempty"`
}

type wireCert struct {
	Domain      wireDomain `json:"domain"`
	Certificate []byte     `json:"certificate,omitempty"`
	Key         []byte     `json:"key,omitempty"`
	Store       string     `json:"Store"`
}

type wireResolver struct {
	Account      json.RawMessage `json:"Account"`
	Certificates []wireCert      `json:"Certificates"`
}

// Parse returns the certificates of resolver in acme.json's content b. An
// empty file (Traefik creates it so) holds none. Errors never quote the
// content: it holds private keys.
func Parse(b []byte, resolver string) ([]Cert, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var all map[string]*wireResolver
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, fmt.Errorf("acme.json is not Traefik's ACME storage: %w", errNoContent(err))
	}
	r := all[resolver]
	if r == nil {
		return nil, nil
	}
	var out []Cert
	for i, w := range r.Certificates {
		if w.Domain.Main == "" || len(w.Certificate) == 0 || len(w.Key) == 0 {
			return nil, fmt.Errorf("acme.json: resolver %s: certificate %d lacks its domain, certificate or key", resolver, i)
		}
		out = append(out, Cert{Main: w.Domain.Main, SANs: w.Domain.SANs, Bundle: w.Certificate, Key: w.Key, Store: w.Store})
	}
	return out, nil
}

// Merge puts certs into resolver's certificates of acme.json's content b
// (empty: a new file), replacing one for the same domains, and keeps
// everything else (the account, other resolvers) as it was.
func Merge(b []byte, resolver string, certs []Cert) ([]byte, error) {
	all := map[string]json.RawMessage{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &all); err != nil {
			return nil, fmt.Errorf("acme.json is not Traefik's ACME storage: %w", errNoContent(err))
		}
	}
	var r wireResolver
	if raw, ok := all[resolver]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("acme.json: resolver %s: %w", resolver, errNoContent(err))
		}
	}
	for _, c := range certs {
		w := wireCert{Domain: wireDomain{Main: c.Main, SANs: c.SANs}, Certificate: c.Bundle, Key: c.Key, Store: c.Store}
		if w.Store == "" {
			w.Store = "default"
		}
		i := slices.IndexFunc(r.Certificates, func(x wireCert) bool {
			return x.Domain.Main == c.Main && slices.Equal(x.Domain.SANs, c.SANs)
		})
		if i >= 0 {
			r.Certificates[i] = w
		} else {
			r.Certificates = append(r.Certificates, w)
		}
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("acme.json: %w", err)
	}
	all[resolver] = raw
	return json.MarshalIndent(all, "", "  ")
}

// errNoContent keeps the kind of a JSON error, never the bytes it quotes.
func errNoContent(err error) error {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Errorf("invalid JSON at offset %d", e.Offset)
	case *json.UnmarshalTypeError:
		return fmt.Errorf("%s is a JSON %s, not a %s", cmpOr(e.Field, "the top level"), e.Value, e.Type)
	}
	return fmt.Errorf("invalid JSON")
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
