package metadataserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func apiServer(t *testing.T, stack string) (*Server, string) {
	t.Helper()
	a, err := Parse([]byte(stack))
	if err != nil {
		t.Fatal(err)
	}
	s := New(a, quiet())
	s.API = &APIKeys{Access: "AK", Secret: "SK"}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

func apiGet(t *testing.T, url, user, pass string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, resp.Header, body
}

func manyServices(n int) string {
	var b strings.Builder
	b.WriteString("stacks:\n  - name: big\n    services:\n")
	for i := range n {
		fmt.Fprintf(&b, "      - name: s%d\n        containers:\n          - ip: 10.1.%d.%d\n", i, i/250, i%250+1)
	}
	return b.String()
}

func TestAPIAuthAndErrors(t *testing.T) {
	_, url := apiServer(t, manyServices(2))
	for _, tc := range []struct{ user, pass string }{{"", ""}, {"AK", "wrong"}, {"other", "SK"}} {
		code, hdr, body := apiGet(t, url+"/v2-beta/services", tc.user, tc.pass)
		if code != 401 || hdr.Get("WWW-Authenticate") != `Basic realm="Enter API access key and secret key as username and password"` ||
			body["type"] != "error" || body["status"] != float64(401) || body["code"] != "Unauthorized" || body["message"] != "Unauthorized" {
			t.Errorf("%q/%q: %d %v %v", tc.user, tc.pass, code, hdr, body)
		}
	}
	for _, path := range []string{"/v2-beta/nothing", "/v1/stacks", "/v2-beta/environments", "/v2-beta/services/1s1/x"} {
		code, _, body := apiGet(t, url+path, "AK", "SK")
		if code != 404 || body["status"] != float64(404) || body["message"] != "Not Found" {
			t.Errorf("%s: %d %v", path, code, body)
		}
	}
}

func TestAPINaming(t *testing.T) {
	_, url := apiServer(t, "stacks:\n  - name: web\n    services:\n      - name: a\n        labels: {traefik.port: \"80\"}\n        containers:\n          - ip: 10.0.0.1\n")
	_, _, v1 := apiGet(t, url+"/v1/environments", "AK", "SK")
	_, _, v2 := apiGet(t, url+"/v2-beta/projects/1a5/stacks", "AK", "SK")
	e := v1["data"].([]any)[0].(map[string]any)
	st := v2["data"].([]any)[0].(map[string]any)
	if e["id"] != "1e1" || e["type"] != "environment" || st["id"] != "1st1" || st["type"] != "stack" || v1["resourceType"] != "environment" {
		t.Errorf("v1 %v / v2-beta %v", e, st)
	}
	_, _, s1 := apiGet(t, url+"/v1/services", "AK", "SK")
	_, _, s2 := apiGet(t, url+"/v2-beta/services", "AK", "SK")
	a1 := s1["data"].([]any)[0].(map[string]any)
	a2 := s2["data"].([]any)[0].(map[string]any)
	if a1["environmentId"] != "1e1" || a2["stackId"] != "1st1" || a2["type"] != "service" || a2["launchConfig"].(map[string]any)["labels"].(map[string]any)["traefik.port"] != "80" {
		t.Errorf("services: %v / %v", a1, a2)
	}
	_, _, cs := apiGet(t, url+"/v2-beta/containers", "AK", "SK")
	c := cs["data"].([]any)[0].(map[string]any)
	if c["primaryIpAddress"] != "10.0.0.1" || c["serviceIds"].([]any)[0] != "1s1" || c["healthState"] != nil || c["labels"].(map[string]any)["io.rancher.stack_service.name"] != "web/a" {
		t.Errorf("container: %v", c)
	}
}

func TestAPIPagination(t *testing.T) {
	_, url := apiServer(t, manyServices(3500))
	tests := []struct {
		query     string
		wantLimit int
		wantFirst int
	}{
		{"", 100, 100}, {"?limit=1000", 1000, 1000}, {"?limit=0", 3000, 3000}, {"?limit=-1", 3000, 3000}, {"?limit=5000", 3000, 3000},
	}
	for _, tt := range tests {
		_, _, body := apiGet(t, url+"/v2-beta/services"+tt.query, "AK", "SK")
		p := body["pagination"].(map[string]any)
		if len(body["data"].([]any)) != tt.wantFirst || p["limit"] != float64(tt.wantLimit) || p["partial"] != true || !strings.HasSuffix(p["next"].(string), fmt.Sprintf("&marker=m%d", tt.wantFirst)) {
			t.Errorf("%q: %d items, pagination %v", tt.query, len(body["data"].([]any)), p)
		}
	}
	// Following next reads every item once.
	seen := map[string]bool{}
	next := url + "/v2-beta/services?limit=1000"
	pages := 0
	for next != "" {
		_, _, body := apiGet(t, next, "AK", "SK")
		for _, it := range body["data"].([]any) {
			id := it.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("%s twice", id)
			}
			seen[id] = true
		}
		next, _ = body["pagination"].(map[string]any)["next"].(string)
		pages++
	}
	if len(seen) != 3500 || pages != 4 {
		t.Errorf("%d items in %d pages, want 3500 in 4", len(seen), pages)
	}
	_, _, last := apiGet(t, url+"/v2-beta/services?limit=1000&marker=m3000", "AK", "SK")
	if p := last["pagination"].(map[string]any); p["partial"] != false || p["next"] != nil {
		t.Errorf("last page: %v", p)
	}
}

func TestAPIEvents(t *testing.T) {
	s, url := apiServer(t, manyServices(2))
	hdr := http.Header{}
	req, _ := http.NewRequest("GET", url, nil)
	req.SetBasicAuth("AK", "SK")
	hdr.Set("Authorization", req.Header.Get("Authorization"))
	ws := "ws" + strings.TrimPrefix(url, "http") + "/v2-beta/subscribe?eventNames=resource.change"
	if _, resp, err := websocket.DefaultDialer.Dial(ws, nil); err == nil || resp.StatusCode != 401 {
		t.Errorf("subscribing without a key: %v", err)
	}
	conn, _, err := websocket.DefaultDialer.Dial(ws, hdr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The stream watches before it answers the upgrade: no wait needed.
	a, _ := Parse([]byte(manyServices(3)))
	s.Set(a)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	types := map[string]int{}
	for range 1 + 3 + 3 { // stack, services, containers
		var ev map[string]any
		if err := conn.ReadJSON(&ev); err != nil {
			t.Fatal(err)
		}
		if ev["name"] != "resource.change" || ev["resourceId"] == "" {
			t.Errorf("event %v", ev)
		}
		types[ev["resourceType"].(string)]++
	}
	if types["service"] != 3 || types["container"] != 3 || types["stack"] != 1 {
		t.Errorf("events by type: %v", types)
	}
}
