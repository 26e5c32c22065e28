package acmejson

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// traefikFile is acme.json as Traefik v3.6 writes it (the account trimmed).
var traefikFile = `{
  "acme": {
    "Account": {"Email": "ops@example.com", "Registration": {"uri": "https://ca/acct/1"}, "PrivateKey": "S0VZ", "KeyType": "4096"},
    "Certificates": [
      {"domain": {"main": "a.example.com"}, "certificate": "` + b64("CERT-A") + `", "key": "` + b64("KEY-A") + `", "Store": "default"},
      {"domain": {"main": "*.example.org", "sans": ["example.org"]}, "certificate": "` + b64("CERT-W") + `", "key": "` + b64("KEY-W") + `", "Store": "default"}
    ]
  },
  "other": {"Account": null, "Certificates": null}
}`

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParse(t *testing.T) {
	got, err := Parse([]byte(traefikFile), "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Main != "a.example.com" || string(got[0].Bundle) != "CERT-A" || string(got[0].Key) != "KEY-A" ||
		got[1].Main != "*.example.org" || strings.Join(got[1].Domains(), ",") != "*.example.org,example.org" {
		t.Errorf("Parse = %+v", got)
	}
	for _, tc := range []struct{ name, in, resolver string }{
		{"empty file", "", "acme"}, {"no such resolver", traefikFile, "nope"}, {"null resolver", traefikFile, "other"},
	} {
		if got, err := Parse([]byte(tc.in), tc.resolver); err != nil || got != nil {
			t.Errorf("%s: %v %v, want none", tc.name, got, err)
		}
	}
}

func TestParseBadInput(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"not JSON", `{"acme": SECRET`, "acme.json is not Traefik's ACME storage: invalid JSON at offset"},
		{"not an object", `["x"]`, "the top level is a JSON array"},
		{"certificate not base64", `{"acme":{"Certificates":[{"domain":{"main":"a"},"certificate":"SECRET!","key":"eA=="}]}}`, "acme.json is not Traefik's ACME storage"},
		{"no key", `{"acme":{"Certificates":[{"domain":{"main":"a"},"certificate":"eA=="}]}}`, "resolver acme: certificate 0 lacks its domain, certificate or key"},
		{"no domain", `{"acme":{"Certificates":[{"certificate":"eA==","key":"eA=="}]}}`, "certificate 0 lacks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in), "acme")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("the error quotes the content: %v", err)
			}
		})
	}
}

// TestMerge: a certificate for the same domains replaces the old one, a new
// one is added, and the account and other resolvers stay.
func TestMerge(t *testing.T) {
	b, err := Merge([]byte(traefikFile), "acme", []Cert{
		{Main: "a.example.com", Bundle: []byte("CERT-A2"), Key: []byte("KEY-A2")},
		{Main: "b.example.com", SANs: []string{"c.example.com"}, Bundle: []byte("CERT-B"), Key: []byte("KEY-B")},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b, "acme")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range got {
		names = append(names, strings.Join(c.Domains(), "+")+"="+string(c.Bundle)+"/"+c.Store)
	}
	if want := "a.example.com=CERT-A2/default *.example.org+example.org=CERT-W/default b.example.com+c.example.com=CERT-B/default"; strings.Join(names, " ") != want {
		t.Errorf("after Merge: %s, want %s", strings.Join(names, " "), want)
	}
	if !bytes.Contains(b, []byte(`"https://ca/acct/1"`)) || !bytes.Contains(b, []byte(`"other"`)) {
		t.Errorf("the account or the other resolver was lost:\n%s", b)
	}
	// Into nothing: a file Traefik reads.
	b, err = Merge(nil, "acme", []Cert{{Main: "a.example.com", Bundle: []byte("C"), Key: []byte("K")}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Parse(b, "acme"); err != nil || len(got) != 1 {
		t.Errorf("Merge into nothing: %v %v\n%s", got, err, b)
	}
	if _, err := Merge([]byte(`{"acme": 1}`), "acme", nil); err == nil {
		t.Error("Merge into a resolver that is not an object: no error")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(traefikFile))
	f.Add([]byte(`{"acme":null}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, b []byte) {
		certs, err := Parse(b, "acme")
		if err != nil {
			return
		}
		for _, c := range certs {
			if c.Main == "" || len(c.Bundle) == 0 || len(c.Key) == 0 {
				t.Fatalf("Parse accepted an incomplete certificate: %+v", c)
			}
		}
		// What parses merges back to the same certificates.
		m, err := Merge(nil, "acme", certs)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(m, "acme")
		if err != nil || len(again) > len(certs) || (len(certs) > 0 && len(again) == 0) {
			t.Fatalf("round trip: %d → %d certificates, %v", len(certs), len(again), err)
		}
	})
}
