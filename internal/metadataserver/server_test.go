package metadataserver

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rancher/go-rancher-metadata/metadata"
)

func fixture(t *testing.T, name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "fixtures", "rancher-metadata", name)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func serve(t *testing.T, path string, xff bool) (*Server, string) {
	t.Helper()
	a, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s := New(a, quiet())
	s.XFF = xff
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

func fetch(t *testing.T, url, accept string, hdr ...string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func TestAnswersFixture(t *testing.T) {
	_, url := serve(t, fixture(t, "answers.yml"), true)
	tests := []struct {
		name, path, accept string
		hdr                []string
		code               int
		body               string
	}{
		{"versions", "/", "", nil, 200, "2015-07-25\n2015-12-19\n2016-07-29\nlatest"},
		{"unknown version", "/1999-01-01/version", "", nil, 404, "Not found"},
		{"unknown version json", "/1999-01-01/version", "application/json", nil, 404, `{"code":404,"message":"Not found","type":"error"}`},
		{"scalar text", "/2015-07-25/version", "", nil, 200, "20-aff454dabf2760385d247a5955488ff375b8230edefe079d3748ab44426edd9f"},
		{"scalar json", "/2015-07-25/version", "application/json", nil, 200, `"20-aff454dabf2760385d247a5955488ff375b8230edefe079d3748ab44426edd9f"`},
		{"map text", "/2015-07-25/services/0", "", nil, 200, "containers/\ncreate_index\nexpose/\nexternal_ips/\nfqdn\nhostname\nkind\nlabels/\nlinks/\nmetadata/\nname\nports/\nscale\nsidekicks/\nstack_name\nuuid\nvip"},
		{"array of named items", "/2015-07-25/stacks", "", nil, 200, "0=Default"},
		{"array of names", "/2015-12-19/stacks/0/services", "", nil, 200, "0"},
		{"by name", "/2015-07-25/stacks/Default/services/alena/name", "", nil, 200, "alena"},
		{"by uuid", "/2015-07-25/containers/57ad0af4-01a9-44cb-862c-0e2ed80c6bdb/primary_ip", "", nil, 200, "10.42.75.49"},
		{"latest", "/latest/services/alena/kind", "", nil, 200, "service"},
		{"missing key", "/latest/nope", "", nil, 404, "Not found"},
		{"index out of range", "/latest/services/5", "", nil, 404, "Not found"},
		{"self by client ip", "/latest/self/container/name", "", []string{"X-Forwarded-For", "10.42.75.49"}, 200, "Default_alena_1"},
		{"self of another ip", "/latest/self/container/name", "", []string{"X-Forwarded-For", "10.42.185.183"}, 200, "Network Agent"},
		{"self unknown ip", "/latest/self/container/name", "", []string{"X-Forwarded-For", "10.9.9.9"}, 404, "Not found"},
		{"null prints empty", "/latest/services/alena/fqdn", "", nil, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := fetch(t, url+tt.path, tt.accept, tt.hdr...)
			if code != tt.code || body != tt.body {
				t.Errorf("GET %s: %d %q, want %d %q", tt.path, code, body, tt.code, tt.body)
			}
		})
	}
	// YAML on request.
	code, ctype, body := fetch(t, url+"/latest/services/0/labels", "application/x-yaml")
	if code != 200 || !strings.Contains(ctype, "yaml") || strings.TrimSpace(body) != "io.rancher.container.pull_image: always" {
		t.Errorf("yaml: %d %s %q", code, ctype, body)
	}
}

func TestLowerCaseRetry(t *testing.T) {
	_, url := serve(t, fixture(t, "simple.yml"), false)
	// KEY3 exists as such; Key1 only in lower case.
	for path, want := range map[string]string{"/latest/KEY3": "value3b", "/latest/key3": "value3a", "/latest/Key1": "value1", "/latest/arbitrarily/nested/4": "42"} {
		if code, _, body := fetch(t, url+path, ""); code != 200 || body != want {
			t.Errorf("%s: %d %q, want %q", path, code, body, want)
		}
	}
}

func TestSelfByAddress(t *testing.T) {
	a, err := Load(fixture(t, "simple.yml"))
	if err != nil {
		t.Fatal(err)
	}
	s := New(a, quiet())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = s.Serve(ctx, l) }()
	// Without --xff the real source address decides: 127.0.0.1 has no entry
	// of its own, so default answers; X-Forwarded-For is ignored.
	code, _, body := fetch(t, "http://"+l.Addr().String()+"/2015-12-19/key1", "", "X-Forwarded-For", "192.168.0.2")
	if code != 200 || body != "value1" {
		t.Errorf("got %d %q, want the default value1", code, body)
	}
}

func TestLongPoll(t *testing.T) {
	s, url := serve(t, fixture(t, "answers.yml"), false)
	old := s.Version()
	// A value that differs answers at once.
	if code, _, body := fetch(t, url+"/latest/version?wait=true&value=other&maxWait=60", ""); code != 200 || body != old {
		t.Errorf("different value: %d %q", code, body)
	}
	// The same value waits until maxWait…
	start := time.Now()
	if code, _, body := fetch(t, url+"/latest/version?wait=true&value="+old+"&maxWait=1", ""); code != 200 || body != old {
		t.Errorf("timeout: %d %q", code, body)
	}
	if time.Since(start) < time.Second {
		t.Error("an unchanged long-poll answered before maxWait")
	}
	// …or until a reload bumps the version.
	done := make(chan string, 1)
	go func() {
		_, _, body := fetch(t, url+"/latest/version?wait=true&value="+old+"&maxWait=60", "")
		done <- body
	}()
	time.Sleep(100 * time.Millisecond)
	a, _ := Load(fixture(t, "answers.yml"))
	s.Set(a)
	select {
	case got := <-done:
		if got == old || got != s.Version() {
			t.Errorf("long-poll answered %q, want the new version %q", got, s.Version())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("long-poll did not return on reload")
	}
	// Any path can be long-polled.
	if code, _, body := fetch(t, url+"/latest/services/alena/kind?wait=true&value=x&maxWait=5", ""); code != 200 || body != "service" {
		t.Errorf("long-poll on a path: %d %q", code, body)
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
	for _, in := range []string{"- a\n- b\n", "x: [\n", "'2016-07-29': 5\n", "stacks:\n  - services: []\n", "{}"} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%q) succeeded", in)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("stacks:\n  - name: a\n    services:\n      - name: b\n        containers:\n          - ip: 1.2.3.4\n"))
	f.Add([]byte("latest:\n  default:\n    version: x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Parse(b)
		if err != nil {
			return
		}
		s := New(a, quiet())
		ts := httptest.NewServer(s)
		defer ts.Close()
		resp, err := http.Get(ts.URL + "/latest")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		_ = json.Valid
	})
}
