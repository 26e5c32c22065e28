package metadataserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"rancher-traefik/internal/testcert"
)

// apiDo sends a JSON body (nil: none) with the test keys.
func apiDo(t *testing.T, method, url string, body any) (int, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.SetBasicAuth("AK", "SK")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func chainFor(t *testing.T, hosts ...string) *testcert.Chain {
	t.Helper()
	c, err := testcert.New(testcert.Options{Hosts: hosts})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func names(items []any) []string {
	var out []string
	for _, it := range items {
		m := it.(map[string]any)
		out = append(out, m["name"].(string)+"="+m["state"].(string))
	}
	return out
}

// TestCertificatesCollection: create, read, list with filters, update and
// remove, with Rancher's resource shape and errors.
func TestCertificatesCollection(t *testing.T) {
	_, url := apiServer(t, manyServices(1))
	col := url + "/v2-beta/projects/1a5/certificates"
	a := chainFor(t, "a.example.com", "www.a.example.com")
	code, created := apiDo(t, http.MethodPost, col, map[string]any{"name": "site-a", "cert": string(a.LeafPEM), "certChain": string(a.CAPEM), "key": string(a.KeyPEM), "description": "from a test"})
	if code != 201 || created["id"] != "1c1" || created["type"] != "certificate" || created["state"] != "active" || created["key"] != string(a.KeyPEM) ||
		created["CN"] != "a.example.com" || strings.Join(toStrings(created["subjectAlternativeNames"]), ",") != "a.example.com,www.a.example.com" ||
		created["expiresAt"] != a.Leaf.NotAfter.UTC().Format(time.RFC3339) || created["links"].(map[string]any)["self"] != col+"/1c1" {
		t.Fatalf("create: %d %v", code, created)
	}
	for _, tc := range []struct {
		name string
		body map[string]any
		code int
		want string
	}{
		{"no name", map[string]any{"cert": "x", "key": "y"}, 422, "MissingRequired name"},
		{"no key", map[string]any{"name": "b", "cert": "x"}, 422, "MissingRequired key"},
		{"name taken", map[string]any{"name": "site-a", "cert": "x", "key": "y"}, 422, "NotUnique name"},
	} {
		code, body := apiDo(t, http.MethodPost, col, tc.body)
		if got := body["code"].(string) + " " + body["fieldName"].(string); code != tc.code || got != tc.want {
			t.Errorf("%s: %d %q, want %d %q", tc.name, code, got, tc.code, tc.want)
		}
	}
	b := chainFor(t, "b.example.com")
	apiDo(t, http.MethodPost, url+"/v1/certificates", map[string]any{"name": "site-b", "cert": string(b.Bundle()), "key": string(b.KeyPEM)})

	a2 := chainFor(t, "a.example.com")
	code, updated := apiDo(t, http.MethodPut, col+"/1c1", map[string]any{"cert": string(a2.LeafPEM), "key": string(a2.KeyPEM)})
	if code != 200 || updated["cert"] != string(a2.LeafPEM) || updated["certChain"] != string(a.CAPEM) || updated["description"] != "from a test" || updated["CN"] != "a.example.com" {
		t.Errorf("update: %d %v", code, updated)
	}
	code, removed := apiDo(t, http.MethodDelete, col+"/1c2", nil)
	if code != 200 || removed["state"] != "removed" || removed["removed"] == nil {
		t.Errorf("delete: %d %v", code, removed)
	}
	for _, tc := range []struct{ query, want string }{
		{"", "site-a=active,site-b=removed"},
		{"?removed_null=1", "site-a=active"},
		{"?name=site-b", "site-b=removed"},
		{"?name=site-b&removed_null=1", ""},
		{"?id=1c1", "site-a=active"},
	} {
		_, list := apiDo(t, http.MethodGet, col+tc.query, nil)
		if got := strings.Join(names(list["data"].([]any)), ","); got != tc.want || list["resourceType"] != "certificate" {
			t.Errorf("list %q: %q, want %q", tc.query, got, tc.want)
		}
	}
	// The name of a removed certificate is free again; an update of a
	// removed one is refused.
	if code, _ := apiDo(t, http.MethodPost, col, map[string]any{"name": "site-b", "cert": "x", "key": "y"}); code != 201 {
		t.Errorf("re-creating a removed name: %d", code)
	}
	if code, _ := apiDo(t, http.MethodPut, col+"/1c2", map[string]any{"cert": "x"}); code != 409 {
		t.Errorf("updating a removed certificate: %d", code)
	}
	for _, tc := range []struct{ method, path string }{{http.MethodGet, "/1c99"}, {http.MethodPut, "/1c99"}, {http.MethodDelete, "/1c99"}} {
		if code, body := apiDo(t, tc.method, col+tc.path, map[string]any{}); code != 404 || body["code"] != "NotFound" {
			t.Errorf("%s %s: %d %v", tc.method, tc.path, code, body)
		}
	}
	if code, _ := apiDo(t, http.MethodPost, url+"/v2-beta/services", map[string]any{}); code != 405 {
		t.Errorf("POST on a read-only collection: %d", code)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestCertificateKeysHidden: for an environment-role key, the key is in the
// answer to its create only.
func TestCertificateKeysHidden(t *testing.T) {
	s, url := apiServer(t, manyServices(1))
	s.API.CertKeysHidden = true
	c := chainFor(t, "a.example.com")
	col := url + "/v2-beta/certificates"
	_, created := apiDo(t, http.MethodPost, col, map[string]any{"name": "a", "cert": string(c.LeafPEM), "key": string(c.KeyPEM)})
	if created["key"] != string(c.KeyPEM) {
		t.Errorf("the create's answer has no key")
	}
	_, got := apiDo(t, http.MethodGet, col+"/1c1", nil)
	_, list := apiDo(t, http.MethodGet, col, nil)
	for what, m := range map[string]map[string]any{"get": got, "list": list["data"].([]any)[0].(map[string]any)} {
		if _, has := m["key"]; has || m["cert"] != string(c.LeafPEM) {
			t.Errorf("%s: key shown or cert missing: %v", what, m)
		}
	}
}

// TestCertificateEvents: every write is a resource.change of type
// certificate on the event stream, carrying the resource.
func TestCertificateEvents(t *testing.T) {
	s, url := apiServer(t, manyServices(1))
	hdr := http.Header{}
	req, _ := http.NewRequest("GET", url, nil)
	req.SetBasicAuth("AK", "SK")
	hdr.Set("Authorization", req.Header.Get("Authorization"))
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"/v2-beta/subscribe?eventNames=resource.change", hdr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := chainFor(t, "a.example.com")
	// The stream watches the store before it answers the upgrade: a write
	// once subscribed is never missed.
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	s.PutCertificate("a", string(c.LeafPEM), "", string(c.KeyPEM))
	var ev map[string]any
	if err := conn.ReadJSON(&ev); err != nil {
		t.Fatal(err)
	}
	s.RemoveCertificate("a")
	var ev2 map[string]any
	if err := conn.ReadJSON(&ev2); err != nil {
		t.Fatal(err)
	}
	for i, e := range []map[string]any{ev, ev2} {
		res, _ := e["data"].(map[string]any)["resource"].(map[string]any)
		wantState := []string{"active", "removed"}[i]
		if e["name"] != "resource.change" || e["resourceType"] != "certificate" || e["resourceId"] != "1c1" || res["state"] != wantState || res["name"] != "a" {
			t.Errorf("event %d: %v", i, e)
		}
	}
}
