package metadataserver

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// One test per way the emulator once differed from rancher-metadata
// (issue 14, section 6). Each expected answer is what the real server's
// code writes for the same data: rancher/rancher-metadata main.go
// (RunServer's routes, root, metadata, respondText, respondError),
// server/metadata_controller.go (LookupAnswer), config/generator.go
// (the answers built from Cattle's data), and the vendored gorilla/mux
// (Router.ServeHTTP's clean-path redirect).

// TestTextListingsEndWithNewline: every listed line, the last one too,
// ends with "\n" (respondText prints "%s\n", "%d=%s\n", "%d/\n", "%d\n"),
// so a shell `while read` loop sees every entry; a scalar has none.
func TestTextListingsEndWithNewline(t *testing.T) {
	_, url := serve(t, "testdata/stack.yml", false)
	checkFetches(t, url, []fetchCase{
		{"versions", "/", "", nil, 200, "2015-07-25\n2015-12-19\n2016-07-29\nlatest\n"},
		{"map", "/latest/stacks/iamfoo/services/whoami/labels", "", nil, 200, "io.rancher.stack_service.name\ntraefik.enable\ntraefik.frontend.rule\ntraefik.port\n"},
		{"array of named items", "/latest/stacks", "", nil, 200, "0=iamfoo\n1=infra\n"},
		{"array of names", "/2015-07-25/services/WhoAmI/containers", "", nil, 200, "0\n1\n"},
		{"array of scalars", "/latest/containers/0/ips", "", nil, 200, "0\n"},
		{"scalar", "/latest/containers/iamfoo-whoami-1/primary_ip", "", nil, 200, "127.0.0.2"},
	})
	// What a shell loop reads.
	_, _, body := fetch(t, url+"/latest/services", "")
	var read []string
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		read = append(read, sc.Text())
	}
	if strings.Join(read, " ") != "0=whoami 1=db 2=agent" || !strings.HasSuffix(body, "\n") {
		t.Errorf("services listing %q", body)
	}
}

// TestRootIsVersionMap: in JSON the root is {version: its URL} (the root
// handler builds it with the "Version" route's URL), not an array.
func TestRootIsVersionMap(t *testing.T) {
	_, url := serve(t, "testdata/stack.yml", false)
	checkFetches(t, url, []fetchCase{
		{"json", "/", "application/json", nil, 200, `{"2015-07-25":"/2015-07-25","2015-12-19":"/2015-12-19","2016-07-29":"/2016-07-29","latest":"/latest"}`},
	})
	// An answers document lists its own versions, and latest always.
	_, url = serve(t, "testdata/simple.yml", false)
	checkFetches(t, url, []fetchCase{{"answers document", "/", "application/json", nil, 200, `{"2015-07-25":"/2015-07-25","2015-12-19":"/2015-12-19","latest":"/latest"}`}})
}

// TestInvalidVersion: a version the answers lack is "Invalid version",
// 404; errors go through http.Error, so every body ends with a newline
// and is text/plain, JSON and YAML ones too.
func TestInvalidVersion(t *testing.T) {
	_, url := serve(t, "testdata/stack.yml", false)
	for _, tc := range []struct{ path, accept, body string }{
		{"/1999-01-01", "", "Invalid version\n"},
		{"/1999-01-01/version", "", "Invalid version\n"},
		{"/1999-01-01/version?wait=true&value=x", "", "Invalid version\n"},
		{"/1999-01-01/version", "application/json", `{"code":404,"message":"Invalid version","type":"error"}` + "\n"},
		{"/1999-01-01/version", "text/yaml", "code: 404\nmessage: Invalid version\ntype: error\n\n"},
		{"/latest/nope", "", "Not found\n"},
		{"/latest/nope", "application/json", `{"code":404,"message":"Not found","type":"error"}` + "\n"},
	} {
		got := fetchWith(t, noRedirects, url+tc.path, tc.accept)
		if got.code != 404 || got.body != tc.body || got.ctype != "text/plain; charset=utf-8" {
			t.Errorf("GET %s (Accept %q): %d %q %q, want 404 %q text/plain", tc.path, tc.accept, got.code, got.ctype, got.body, tc.body)
		}
	}
}

// timerCall is one long-poll's maxWait, and the channel that ends it.
type timerCall struct {
	d    time.Duration
	fire chan<- time.Time
}

// serveWithTimers serves a with long-poll timers the test ends itself.
func serveWithTimers(t *testing.T, a Answers) (*Server, string, <-chan timerCall) {
	t.Helper()
	calls := make(chan timerCall, 16)
	s := New(a, quiet())
	s.timer = func(d time.Duration) (<-chan time.Time, func()) {
		c := make(chan time.Time, 1)
		calls <- timerCall{d, c}
		return c, func() {}
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL, calls
}

// getAsync GETs url in a goroutine (text answers).
func getAsync(t *testing.T, url string) <-chan answer {
	ch := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			ch <- answer{body: err.Error()}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		ch <- answer{code: resp.StatusCode, body: string(b)}
	}()
	return ch
}

// deadline bounds how long a test waits for something that must happen
// (a broken emulator fails rather than hangs); it never decides a result.
const deadline = 20 * time.Second

func nextTimer(t *testing.T, calls <-chan timerCall) timerCall {
	t.Helper()
	select {
	case c := <-calls:
		return c
	case <-time.After(deadline):
		t.Fatal("no long-poll started its maxWait")
		return timerCall{}
	}
}

func result(t *testing.T, ch <-chan answer) answer {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(deadline):
		t.Fatal("no answer")
		return answer{}
	}
}

// parked checks that the long-poll is waiting and has not answered.
func parked(t *testing.T, s *Server, ch <-chan answer) {
	t.Helper()
	if err := s.AwaitLongPolls(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-ch:
		t.Fatalf("the long-poll answered while it should wait: %d %q", a.code, a.body)
	default:
	}
}

// TestLongPollOnMissingKeyWaits: LookupAnswer returns early only for a
// value that exists and differs; a missing key waits maxWait like an
// unchanged one, then answers what is there (404 when still nothing).
func TestLongPollOnMissingKeyWaits(t *testing.T) {
	a, err := Load("testdata/stack.yml")
	if err != nil {
		t.Fatal(err)
	}
	s, url, timers := serveWithTimers(t, a)
	res := getAsync(t, url+"/latest/services/nope?wait=true&value=x&maxWait=2")
	if c := nextTimer(t, timers); c.d != 2*time.Second {
		t.Errorf("maxWait=2 waits %s", c.d)
	} else {
		parked(t, s, res)
		c.fire <- time.Now()
	}
	if got := result(t, res); got.code != 404 || got.body != "Not found\n" {
		t.Errorf("after maxWait: %d %q, want 404 \"Not found\\n\"", got.code, got.body)
	}

	// A key that appears in a reload ends the wait with its value.
	res = getAsync(t, url+"/latest/services/fresh/kind?wait=true&value=x&maxWait=30")
	nextTimer(t, timers)
	parked(t, s, res)
	b, err := Parse([]byte("stacks:\n  - name: s\n    services:\n      - name: fresh\n"))
	if err != nil {
		t.Fatal(err)
	}
	s.Set(b)
	if got := result(t, res); got.code != 200 || got.body != "service" {
		t.Errorf("after the key appeared: %d %q", got.code, got.body)
	}

	// With the real clock: a second's maxWait, then 404.
	_, url = serveStack(t, "stacks: []\n")
	start := time.Now()
	if code, _, body := fetch(t, url+"/latest/services/nope?wait=true&value=x&maxWait=1", ""); code != 404 || body != "Not found\n" {
		t.Errorf("real clock: %d %q", code, body)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("answered after %s, before maxWait", waited)
	}
}

// TestLongPoll: the rest of LookupAnswer and the "Wait" route.
func TestLongPoll(t *testing.T) {
	a, err := Load("testdata/answers.yml")
	if err != nil {
		t.Fatal(err)
	}
	s, url, timers := serveWithTimers(t, a)
	old := s.Version()
	noTimer := func(what string) {
		t.Helper()
		select {
		case c := <-timers:
			t.Errorf("%s: started a %s wait", what, c.d)
		default:
		}
	}
	// Answered at once: a value that differs (compared as the raw text,
	// so a quoted one differs too); a path without a key (the "/{version}"
	// route has no wait); no value= (not the "Wait" route); maxWait < 0.
	for _, tc := range []struct{ path, body string }{
		{"/latest/version?wait=true&value=other", old},
		{"/latest/version?wait=true&value=%22" + old + "%22", old},
		{"/latest/services/web/fqdn?wait=true&value=", ""}, // null prints as Go's "<nil>", not ""
		{"/latest?wait=true&value=x", "containers/\nhost\nhosts/\nservices/\nstacks/\nversion\n"},
		{"/latest/version?wait=true", old},
		{"/latest/version?wait=1&value=" + old, old},
		{"/latest/version?wait=true&value=" + old + "&maxWait=-1", old},
	} {
		if got := result(t, getAsync(t, url+tc.path)); got.code != 200 || got.body != tc.body {
			t.Errorf("%s: %d %q, want %q", tc.path, got.code, got.body, tc.body)
		}
		noTimer(tc.path)
	}
	// maxWait: seconds; missing, 0 or not a number is a minute; capped at two.
	for raw, want := range map[string]time.Duration{"": time.Minute, "&maxWait=0": time.Minute, "&maxWait=x": time.Minute, "&maxWait=7": 7 * time.Second, "&maxWait=500": 2 * time.Minute} {
		res := getAsync(t, url+"/latest/version?wait=true&value="+old+raw)
		c := nextTimer(t, timers)
		if c.d != want {
			t.Errorf("maxWait %q waits %s, want %s", raw, c.d, want)
		}
		parked(t, s, res)
		c.fire <- time.Now()
		if got := result(t, res); got.code != 200 || got.body != old {
			t.Errorf("maxWait %q, unchanged: %d %q", raw, got.code, got.body)
		}
	}
	// The same null waits.
	res := getAsync(t, url+"/latest/services/web/fqdn?wait=true&value=%3Cnil%3E&maxWait=3")
	c := nextTimer(t, timers)
	parked(t, s, res)
	c.fire <- time.Now()
	if got := result(t, res); got.code != 200 || got.body != "" {
		t.Errorf("null: %d %q", got.code, got.body)
	}
	// A reload bumps the version and ends the wait with the new one.
	res = getAsync(t, url+"/latest/version?wait=true&value="+old+"&maxWait=60")
	nextTimer(t, timers)
	parked(t, s, res)
	b, _ := Load("testdata/answers.yml")
	s.Set(b)
	if got := result(t, res); got.code != 200 || got.body == old || got.body != s.Version() {
		t.Errorf("after a reload: %d %q, want the new version %q", got.code, got.body, s.Version())
	}
}

// TestNullArraysListWithSlash: the real generator leaves an empty list as
// a nil slice (and links as a nil map): JSON null, yet respondText's type
// check still lists it with "/".
func TestNullArraysListWithSlash(t *testing.T) {
	_, url := serveStack(t, "stacks:\n  - name: Empty\n    services:\n      - name: idle\n  - name: bare\n")
	checkFetches(t, url, []fetchCase{
		{"top level", "/latest", "", nil, 200, "containers/\nenvironment_name\nenvironment_uuid\nhosts/\nnetworks/\nself/\nservices/\nstacks/\nversion\n"},
		{"service", "/latest/services/idle", "", nil, 200, "containers/\nexternal_ips/\nfqdn\nhealth_check\nhostname\nkind\nlabels/\nlinks/\nname\nports/\nprimary_service_name\nscale\nsidekicks/\nstack_name\nstack_uuid\nstate\nsystem\nuuid\nvip\n"},
		{"stack", "/latest/stacks/bare", "", nil, 200, "environment_name\nname\nservices/\nsystem\nuuid\n"},
		{"null list text", "/latest/services/idle/containers", "", nil, 200, ""},
		{"null list json", "/latest/services/idle/containers", "application/json", nil, 200, "null"},
		{"null top-level list json", "/latest/containers", "application/json", nil, 200, "null"},
		{"null links json", "/latest/services/idle/links", "application/json", nil, 200, "null"},
		{"null sidekicks json", "/latest/services/idle/sidekicks", "application/json", nil, 200, "null"},
		{"older versions keep []", "/2015-12-19/services/idle/sidekicks", "application/json", nil, 200, "[]"},
		{"nothing inside", "/latest/services/idle/containers/0", "", nil, 404, "Not found\n"},
		{"stack without services", "/latest/stacks/bare/services", "application/json", nil, 200, "null"},
	})
}

// TestUncleanPathsRedirect: gorilla/mux answers a path that is not clean
// with 301 to path.Clean of it (a trailing slash kept), query kept, and no
// body; a client that follows it gets the answer.
func TestUncleanPathsRedirect(t *testing.T) {
	_, url := serve(t, "testdata/stack.yml", false)
	for path, loc := range map[string]string{
		"//":                        "/",
		"//latest":                  "/latest",
		"/latest//stacks":           "/latest/stacks",
		"/latest/./version":         "/latest/version",
		"/latest/stacks/../version": "/latest/version",
		"/latest//version?wait=true&value=x&maxWait=1": "/latest/version?wait=true&value=x&maxWait=1",
		"/latest/stacks//": "/latest/stacks/",
	} {
		got := fetchWith(t, noRedirects, url+path, "")
		if got.code != http.StatusMovedPermanently || got.loc != loc || got.body != "" {
			t.Errorf("GET %s: %d Location %q body %q, want 301 %q and no body", path, got.code, got.loc, got.body, loc)
		}
	}
	if got := fetchWith(t, http.DefaultClient, url+"/latest//stacks", ""); got.code != 200 || got.body != "0=iamfoo\n1=infra\n" {
		t.Errorf("following the redirect: %d %q", got.code, got.body)
	}
	// A clean path with a trailing slash is answered, not redirected.
	if got := fetchWith(t, noRedirects, url+"/latest/stacks/", ""); got.code != 200 || got.body != "0=iamfoo\n1=infra\n" {
		t.Errorf("trailing slash: %d %q", got.code, got.body)
	}
}

// TestStackFileSelf: addClientToAnswers gives every container with an IP
// answers of its own — the default ones plus self.container, self.service
// and self.stack — so a client at a container's address reads its self.
func TestStackFileSelf(t *testing.T) {
	a, err := Load("testdata/stack.yml")
	if err != nil {
		t.Fatal(err)
	}
	url := listen(t, New(a, quiet()))
	for _, tc := range []struct {
		from, path, accept, body string
		code                     int
	}{
		{"127.0.0.3", "/latest/self", "", "container/\nservice/\nstack/\n", 200},
		{"127.0.0.3", "/latest/self/container/name", "", "iamfoo-whoami-2", 200},
		{"127.0.0.3", "/latest/self/container/primary_ip", "application/json", `"127.0.0.3"`, 200},
		{"127.0.0.3", "/latest/self/container/health_state", "", "unhealthy", 200},
		{"127.0.0.3", "/latest/self/service/name", "", "whoami", 200},
		{"127.0.0.3", "/latest/self/service/containers", "", "0=iamfoo-whoami-1\n1=iamfoo-whoami-2\n", 200},
		{"127.0.0.3", "/latest/self/stack/name", "", "iamfoo", 200},
		{"127.0.0.3", "/2015-07-25/self/stack/services", "", "0\n1\n", 200},
		{"127.0.0.3", "/2015-07-25/self/container/name", "", "IamFoo_WhoAmI_2", 200},
		{"127.0.0.3", "/latest/services", "", "0=whoami\n1=db\n2=agent\n", 200},
		{"127.0.0.10", "/latest/self/stack/system", "", "true", 200},
		{"127.0.0.1", "/latest/self", "", "", 200},
		{"127.0.0.1", "/latest/self/container", "", "Not found\n", 404},
	} {
		got := fetchWith(t, dialFrom(tc.from), url+tc.path, tc.accept)
		if got.code != tc.code || got.body != tc.body {
			t.Errorf("%s from %s: %d %q, want %d %q", tc.path, tc.from, got.code, got.body, tc.code, tc.body)
		}
	}
}

// TestStackFileVersions: what each version of the generator builds from
// one stack: names or embedded objects, lower case, container ports.
func TestStackFileVersions(t *testing.T) {
	_, url := serveStack(t, `stacks:
  - name: Web
    services:
      - name: Front
        containers:
          - ip: 10.1.0.1
            ports: ["80/tcp", "8080:80/tcp", "10.0.0.1:8443:443/tcp"]
          - ip: 10.1.0.2
`)
	checkFetches(t, url, []fetchCase{
		{"2015-07-25 names", "/2015-07-25/services/Front/containers", "application/json", nil, 200, `["Web_Front_1","Web_Front_2"]`},
		{"2015-07-25 stack names", "/2015-07-25/stacks/Web/services", "application/json", nil, 200, `["Front"]`},
		{"2015-12-19 objects", "/2015-12-19/services/Front/containers", "", nil, 200, "0=Web_Front_1\n1=Web_Front_2\n"},
		{"2016-07-29 lower case", "/2016-07-29/stacks/web/services/front/containers", "", nil, 200, "0=web-front-1\n1=web-front-2\n"},
		{"2016-07-29 ports get an IP", "/2016-07-29/containers/0/ports", "application/json", nil, 200, `["0.0.0.0:80/tcp","0.0.0.0:8080:80/tcp","10.0.0.1:8443:443/tcp"]`},
		{"2016-07-29 no ports is null", "/2016-07-29/containers/1/ports", "application/json", nil, 200, "null"},
		{"older versions keep ports", "/2015-12-19/containers/0/ports", "application/json", nil, 200, `["80/tcp","8080:80/tcp","10.0.0.1:8443:443/tcp"]`},
		{"older versions keep []", "/2015-12-19/containers/1/ports", "application/json", nil, 200, "[]"},
	})
}

func Example_text() {
	fmt.Printf("%q\n", text(map[string]any{"b": []any(nil), "a:b": 1, "c": map[string]any(nil), "d": nil}))
	fmt.Printf("%q\n", text([]any{map[string]any{"name": "x y"}, map[string]any{"uuid": "u"}, map[string]any{}, []any{}, 5, nil}))
	// Output:
	// "a%3Ab\nb/\nc/\nd\n"
	// "0=x+y\n1=u\n2/\n3/\n4\n5\n"
}
