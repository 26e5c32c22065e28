package metadataserver

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rancher/go-rancher-metadata/metadata"
)

// The expected bodies in these tests are what rancher-metadata's handlers
// (main.go: root, metadata, respondText, respondError; config/answers.go:
// Matching) write for the same data, byte for byte.

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func serve(t *testing.T, path string, xff bool) (*Server, string) {
	t.Helper()
	a, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return serveAnswers(t, a, xff)
}

func serveAnswers(t *testing.T, a Answers, xff bool) (*Server, string) {
	t.Helper()
	s := New(a, quiet())
	s.XFF = xff
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

func serveStack(t *testing.T, stack string) (*Server, string) {
	t.Helper()
	a, err := Parse([]byte(stack))
	if err != nil {
		t.Fatal(err)
	}
	return serveAnswers(t, a, false)
}

// noRedirects shows a redirect instead of following it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type answer struct {
	code  int
	ctype string
	loc   string
	body  string
}

func fetchWith(t *testing.T, c *http.Client, url, accept string, hdr ...string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Location"), string(b)}
}

func fetch(t *testing.T, url, accept string, hdr ...string) (int, string, string) {
	t.Helper()
	a := fetchWith(t, noRedirects, url, accept, hdr...)
	return a.code, a.ctype, a.body
}

type fetchCase struct {
	name, path, accept string
	hdr                []string
	code               int
	body               string
}

func checkFetches(t *testing.T, url string, tests []fetchCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := fetch(t, url+tt.path, tt.accept, tt.hdr...)
			if code != tt.code || body != tt.body {
				t.Errorf("GET %s (Accept %q):\n got %d %q\nwant %d %q", tt.path, tt.accept, code, body, tt.code, tt.body)
			}
		})
	}
}

// TestAnswersFixture serves the project's answers document.
func TestAnswersFixture(t *testing.T) {
	_, url := serve(t, "testdata/answers.yml", true)
	web1 := []string{"X-Forwarded-For", "10.42.1.11"}
	checkFetches(t, url, []fetchCase{
		{"versions", "/", "", nil, 200, "2015-07-25\n2015-12-19\nlatest\n"},
		{"versions json", "/", "application/json", nil, 200, `{"2015-07-25":"/2015-07-25","2015-12-19":"/2015-12-19","latest":"/latest"}`},
		{"scalar text", "/2015-07-25/version", "", nil, 200, "7-3f2a9c0e5b1d4e8f"},
		{"scalar json", "/2015-07-25/version", "application/json", nil, 200, `"7-3f2a9c0e5b1d4e8f"`},
		{"map text", "/2015-12-19/services/0", "", nil, 200, "containers/\ncreate_index\nexpose/\nexternal_ips/\nfqdn\nhostname\nkind\nlabels/\nlinks/\nmetadata/\nname\nports/\nscale\nsidekicks/\nstack_name\nuuid\nvip\n"},
		{"keys are URL-escaped", "/latest/services/web/labels", "", nil, 200, "io.rancher.scheduler.affinity%3Ahost_label\nio.rancher.stack.name\nio.rancher.stack_service.name\ntraefik.port\n"},
		{"array of named items", "/latest/containers", "", nil, 200, "0=Shop_web_1\n1=Shop_web_2\n2=Shop_db_1\n3=Rancher+Agent\n"},
		{"array of names", "/2015-07-25/stacks/0/services", "", nil, 200, "0\n1\n"},
		{"array of embedded objects", "/2015-12-19/stacks/Shop/services", "", nil, 200, "0=web\n1=db\n"},
		{"by name", "/2015-12-19/stacks/Shop/services/db/name", "", nil, 200, "db"},
		{"by name with +", "/latest/containers/Rancher+Agent/primary_ip", "", nil, 200, "10.42.9.9"},
		{"by name with %20", "/latest/containers/Rancher%20Agent/primary_ip", "", nil, 200, "10.42.9.9"},
		{"by uuid", "/2015-07-25/containers/4c8e2f0a-51b7-4d2e-9a63-0f1d2e3c4b60/name", "", nil, 200, "Shop_db_1"},
		{"latest", "/latest/services/web/containers/1/name", "", nil, 200, "Shop_web_2"},
		{"integer", "/latest/services/web/scale", "", nil, 200, "2"},
		{"null prints nothing", "/latest/services/web/fqdn", "", nil, 200, ""},
		{"null json", "/latest/services/web/fqdn", "application/json", nil, 200, "null"},
		{"empty list", "/latest/services/web/ports", "", nil, 200, ""},
		{"empty list json", "/latest/services/web/ports", "application/json", nil, 200, "[]"},
		{"missing key", "/latest/nope", "", nil, 404, "Not found\n"},
		{"missing key json", "/latest/nope", "application/json", nil, 404, `{"code":404,"message":"Not found","type":"error"}` + "\n"},
		{"missing key yaml", "/latest/nope", "application/x-yaml", nil, 404, "code: 404\nmessage: Not found\ntype: error\n\n"},
		{"index out of range", "/latest/services/5", "", nil, 404, "Not found\n"},
		{"self by client ip", "/latest/self/container/name", "", web1, 200, "Shop_web_1"},
		{"self of a standalone container", "/latest/self/container/name", "", []string{"X-Forwarded-For", "10.42.9.9"}, 200, "Rancher Agent"},
		{"its null service", "/latest/self/service", "", []string{"X-Forwarded-For", "10.42.9.9"}, 200, ""},
		{"self keys", "/latest/self", "", web1, 200, "container/\nhost/\nservice/\nstack/\n"},
		{"a client's own answers plus the default's other keys", "/latest/version", "", web1, 200, "7-3f2a9c0e5b1d4e8f"},
		{"no answers of its own in this version", "/2015-07-25/self", "", web1, 404, "Not found\n"},
		{"self unknown ip", "/latest/self/container/name", "", []string{"X-Forwarded-For", "10.9.9.9"}, 404, "Not found\n"},
	})
	// YAML on request.
	code, _, body := fetch(t, url+"/latest/services/db/labels", "application/x-yaml")
	if code != 200 || body != "io.rancher.stack_service.name: Shop/db\n" {
		t.Errorf("yaml: %d %q", code, body)
	}
}

// TestNegotiation picks the answer format by golang/gddo's rules, which
// the real server uses: offers in the order text, JSON, YAML; highest q,
// then the most specific match, then the earlier offer.
func TestNegotiation(t *testing.T) {
	_, url := serve(t, "testdata/answers.yml", false)
	for accept, want := range map[string]string{
		"":                                   "Shop",
		"*/*":                                "Shop",
		"text/html":                          "Shop",
		"application/json":                   `"Shop"`,
		"application/json, text/plain":       "Shop", // equal q: the earlier offer, text
		"text/plain;q=0.5, application/json": `"Shop"`,
		"application/*":                      `"Shop"`,
		"application/json;q=0, */*":          "Shop",
		"text/yaml":                          "Shop\n",
		"application/yaml;q=0.9, text/plain;q=0.1": "Shop\n",
	} {
		if code, _, body := fetch(t, url+"/latest/stacks/0/name", accept); code != 200 || body != want {
			t.Errorf("Accept %q: %d %q, want %q", accept, code, body, want)
		}
	}
}

func TestLowerCaseRetry(t *testing.T) {
	_, url := serve(t, "testdata/simple.yml", false)
	checkFetches(t, url, []fetchCase{
		{"exact upper case", "/latest/MODE", "", nil, 200, "lenient"},
		{"exact lower case", "/latest/mode", "", nil, 200, "strict"},
		{"retried lower-cased", "/latest/Color", "", nil, 200, "blue"},
		{"whole path lower-cased", "/latest/DEEPLY/Nested/0", "", nil, 200, "text"},
		{"latest is the highest version", "/latest/color", "", nil, 200, "blue"},
		{"older version", "/2015-07-25/color", "", nil, 200, "yellow"},
		{"list of mixed items", "/latest/deeply/nested", "", nil, 200, "0\n1\n2\n3\n4\n5\n6/\n7/\n"},
		{"int", "/latest/deeply/nested/1", "", nil, 200, "7"},
		{"float", "/latest/deeply/nested/2", "", nil, 200, "2.5"},
		{"float without fraction", "/latest/deeply/nested/3", "", nil, 200, "3"},
		{"null", "/latest/deeply/nested/4", "", nil, 200, ""},
		{"bool", "/latest/deeply/nested/5", "", nil, 200, "true"},
		{"empty map", "/2015-07-25/deeply", "", nil, 200, ""},
	})
}

// dialFrom is a client whose connections come from the loopback address ip.
func dialFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{
		Transport:     &http.Transport{DialContext: d.DialContext},
		CheckRedirect: noRedirects.CheckRedirect,
	}
}

// listen serves s on a real socket, so the source address of a request is
// the client's.
func listen(t *testing.T, s *Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(ctx, l) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + l.Addr().String()
}

func TestSelfByAddress(t *testing.T) {
	a, err := Load("testdata/simple.yml")
	if err != nil {
		t.Fatal(err)
	}
	url := listen(t, New(a, quiet()))
	for _, tc := range []struct {
		from, path, xff string
		code            int
		body            string
	}{
		{"127.0.0.1", "/2015-12-19/color", "", 200, "blue"},
		// Without --xff the source address decides; the header is ignored.
		{"127.0.0.1", "/2015-12-19/color", "10.0.0.7", 200, "blue"},
		{"127.0.0.2", "/2015-12-19/color", "", 200, "green"},
		{"127.0.0.2", "/2015-12-19/mode", "", 200, "strict"},
		{"127.0.0.2", "/2015-12-19/extra", "", 404, "Not found\n"},
		{"127.0.0.2", "/2015-07-25/color", "", 200, "orange"},
	} {
		got := fetchWith(t, dialFrom(tc.from), url+tc.path, "", "X-Forwarded-For", tc.xff)
		if got.code != tc.code || got.body != tc.body {
			t.Errorf("%s from %s (XFF %q): %d %q, want %d %q", tc.path, tc.from, tc.xff, got.code, got.body, tc.code, tc.body)
		}
	}
}

// TestGoRancherMetadataClient holds the emulator to the real client library.
func TestGoRancherMetadataClient(t *testing.T) {
	s, url := serve(t, "testdata/stack.yml", false)
	c, err := metadata.NewClientAndWait(url + "/2016-07-29")
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.GetVersion()
	if err != nil || v != `"`+s.Version()+`"` { // the library returns the JSON text
		t.Errorf("GetVersion = %q %v, want %q", v, err, s.Version())
	}
	services, err := c.GetServices()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, sv := range services {
		got = append(got, sv.StackName+"/"+sv.Name+":"+sv.Labels["traefik.port"])
	}
	if diff := cmp.Diff(got, []string{"iamfoo/whoami:80", "iamfoo/db:", "infra/agent:"}); diff != "" {
		t.Errorf("services (-got +want):\n%s", diff)
	}
	cs, err := c.GetServiceContainers("whoami", "iamfoo")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].PrimaryIp != "127.0.0.2" || cs[1].HealthState != "unhealthy" {
		t.Errorf("containers: %+v", cs)
	}
	stacks, err := c.GetStacks()
	if err != nil || len(stacks) != 2 || stacks[0].Name != "iamfoo" || len(stacks[0].Services) != 2 {
		t.Errorf("stacks: %+v %v", stacks, err)
	}
	// OnChangeWithError fires once at start ("init"), then on a reload.
	versions := make(chan string, 4)
	go func() { _ = c.OnChangeWithError(5, func(v string) { versions <- v }) }()
	first := <-versions
	if err := s.AwaitLongPolls(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	a, _ := Load("testdata/stack.yml")
	s.Set(a)
	select {
	case second := <-versions:
		if second == first {
			t.Errorf("OnChange fired with the same version %q", first)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("OnChange did not fire after a reload")
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"- a\n- b\n", "x: [\n", "'2016-07-29': 5\n", "stacks:\n  - services: []\n", "stacks:\n  - name: a\n    services:\n      - labels: {}\n", "{}"} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%q) succeeded", in)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("stacks:\n  - name: a\n    services:\n      - name: b\n        containers:\n          - ip: 1.2.3.4\n"))
	f.Add([]byte("latest:\n  default:\n    version: x\n"))
	f.Add([]byte("'2015-12-19':\n  default:\n    a: [1, 2.5, null, {name: x}, {name: 3}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Parse(b)
		if err != nil {
			return
		}
		s := New(a, quiet())
		ts := httptest.NewServer(s)
		defer ts.Close()
		for _, p := range []string{"/", "/latest", "/latest/a", "/latest/a/0"} {
			for _, accept := range []string{"", "application/json"} {
				req, _ := http.NewRequest(http.MethodGet, ts.URL+p, nil)
				req.Header.Set("Accept", accept)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if accept != "" && resp.StatusCode == 200 && !json.Valid(body) {
					t.Fatalf("GET %s: invalid JSON %q", p, body)
				}
			}
		}
	})
}
