package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"rancher-traefik/internal/metadataserver"
	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/routes"
	"rancher-traefik/internal/testlog"
)

// service is a published Rancher service (router http/<name>-s) with a
// container per IP.
func service(name string, ips ...string) rancher.Service {
	s := rancher.Service{Name: name, Stack: "s", Kind: "service", Labels: map[string]string{"traefik.enable": "true", "traefik.port": "80"}}
	for _, ip := range ips {
		s.Containers = append(s.Containers, rancher.Container{Name: name + "-" + ip, PrimaryIP: ip})
	}
	return s
}

// services are svc0…svc<n-1>, one container each.
func services(n int) []rancher.Service {
	var out []rancher.Service
	for i := range n {
		out = append(out, service(fmt.Sprintf("svc%d", i), fmt.Sprintf("10.0.0.%d", i+1)))
	}
	return out
}

// fileState is what the routes file holds: router name → its servers' URLs.
// deliveredTree is the configuration tree of a body handed to Deliver
// (JSON), its lists of tables as decodeTOML gives them.
func deliveredTree(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var cfg map[string]any
	if err := json.Unmarshal(body, &cfg); err != nil {
		t.Fatalf("the body delivered is not JSON: %v", err)
	}
	normalize(cfg)
	return cfg
}

func fileState(t *testing.T, path string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := decodeTOML(b, &cfg); err != nil {
		t.Fatalf("the routes file does not parse: %v", err)
	}
	out := map[string][]string{}
	http, _ := cfg["http"].(map[string]any)
	rs, _ := http["routers"].(map[string]any)
	ss, _ := http["services"].(map[string]any)
	for name, r := range rs {
		svc, _ := ss[r.(map[string]any)["service"].(string)].(map[string]any)
		lb, _ := svc["loadBalancer"].(map[string]any)
		servers, _ := lb["servers"].([]map[string]any)
		urls := []string{}
		for _, s := range servers {
			urls = append(urls, s["url"].(string))
		}
		slices.Sort(urls)
		out[name] = urls
	}
	return out
}

// state is a fileState written compactly: "svc0:1,2 svc1:2" — routers
// svc0-s with servers 10.0.0.1 and 10.0.0.2, svc1-s with 10.0.0.2.
func state(s string) map[string][]string {
	out := map[string][]string{}
	for _, r := range strings.Fields(s) {
		name, ips, _ := strings.Cut(r, ":")
		urls := []string{}
		for _, ip := range strings.Split(ips, ",") {
			urls = append(urls, "http://10.0.0."+ip+":80")
		}
		slices.Sort(urls)
		out[name+"-s"] = urls
	}
	return out
}

// guardStep is one answer of a guard case.
type guardStep struct {
	at       time.Duration // since the first answer
	services []rancher.Service
	want     string // the file, as state() reads it
	held     bool
}

// guardCase is one row of TestGuardHold: the answers, and how many times
// a hold, a cancel and an apply are logged.
type guardCase struct {
	name                    string
	guard                   float64
	hold                    time.Duration
	steps                   []guardStep
	holds, cancels, applies int
}

// guardCases are TestGuardHold's rows.
func guardCases() []guardCase {
	const hold = 30 * time.Second
	four := services(4)
	type step = guardStep
	return []guardCase{
		{name: "an empty answer shorter than the hold removes nothing", guard: 0.5, hold: hold, steps: []step{
			{0, four, "svc0:1 svc1:2 svc2:3 svc3:4", false},
			{time.Second, nil, "svc0:1 svc1:2 svc2:3 svc3:4", true},
			{hold - time.Millisecond, nil, "svc0:1 svc1:2 svc2:3 svc3:4", true},
			{hold, four, "svc0:1 svc1:2 svc2:3 svc3:4", false},
		}, holds: 1, cancels: 1},
		{name: "an empty answer that stands for the hold is applied once, at its end", guard: 0.5, hold: hold, steps: []step{
			{0, four, "svc0:1 svc1:2 svc2:3 svc3:4", false},
			{time.Second, nil, "svc0:1 svc1:2 svc2:3 svc3:4", true},
			{time.Second + hold/2, nil, "svc0:1 svc1:2 svc2:3 svc3:4", true},
			{time.Second + hold, nil, "", false},
			{2 * hold, nil, "", false},
		}, holds: 1, applies: 1},
		{name: "exactly the threshold is a mass removal", guard: 0.5, hold: hold, steps: []step{
			{0, services(2), "svc0:1 svc1:2", false},
			{0, services(1), "svc0:1 svc1:2", true},
		}, holds: 1},
		{name: "below the threshold applies at once", guard: 0.5, hold: hold, steps: []step{
			{0, services(3), "svc0:1 svc1:2 svc2:3", false},
			{0, services(2), "svc0:1 svc1:2", false},
		}},
		{name: "a fraction that is not exact in binary: 0.3 of 10 is 3", guard: 0.3, hold: hold, steps: []step{
			{0, services(10), "svc0:1 svc1:2 svc2:3 svc3:4 svc4:5 svc5:6 svc6:7 svc7:8 svc8:9 svc9:10", false},
			{0, services(7), "svc0:1 svc1:2 svc2:3 svc3:4 svc4:5 svc5:6 svc6:7 svc7:8 svc8:9 svc9:10", true},
		}, holds: 1},
		{name: "while held, what the answer says of the services it lists goes live", guard: 0.5, hold: hold, steps: []step{
			{0, four, "svc0:1 svc1:2 svc2:3 svc3:4", false},
			// svc0 scaled to two containers, svc9 new, svc1-3 gone: held.
			{time.Second, []rancher.Service{service("svc0", "10.0.0.1", "10.0.0.9"), service("svc9", "10.0.0.10")},
				"svc0:1,9 svc1:2 svc2:3 svc3:4 svc9:10", true},
			// A container of svc0 stopped: followed too.
			{2 * time.Second, []rancher.Service{service("svc0", "10.0.0.9"), service("svc9", "10.0.0.10")},
				"svc0:9 svc1:2 svc2:3 svc3:4 svc9:10", true},
			{time.Second + hold, []rancher.Service{service("svc0", "10.0.0.9"), service("svc9", "10.0.0.10")},
				"svc0:9 svc9:10", false},
		}, holds: 1, applies: 1},
		{name: "a partial answer, then the full one", guard: 0.5, hold: hold, steps: []step{
			{0, four, "svc0:1 svc1:2 svc2:3 svc3:4", false},
			{time.Second, services(1), "svc0:1 svc1:2 svc2:3 svc3:4", true},
			{2 * time.Second, services(2), "svc0:1 svc1:2 svc2:3 svc3:4", true},
			{3 * time.Second, four, "svc0:1 svc1:2 svc2:3 svc3:4", false},
		}, holds: 1, cancels: 1},
		{name: "a later mass removal is held afresh", guard: 0.5, hold: hold, steps: []step{
			{0, four, "svc0:1 svc1:2 svc2:3 svc3:4", false},
			{0, nil, "svc0:1 svc1:2 svc2:3 svc3:4", true},
			{hold, four, "svc0:1 svc1:2 svc2:3 svc3:4", false},
			{2 * hold, nil, "svc0:1 svc1:2 svc2:3 svc3:4", true},
			{3*hold - time.Millisecond, nil, "svc0:1 svc1:2 svc2:3 svc3:4", true},
			{3 * hold, nil, "", false},
		}, holds: 2, cancels: 1, applies: 1},
		{name: "guard off", guard: 0, hold: hold, steps: []step{
			{0, four, "svc0:1 svc1:2 svc2:3 svc3:4", false},
			{0, nil, "", false},
		}},
		{name: "no hold", guard: 0.5, hold: 0, steps: []step{
			{0, four, "svc0:1 svc1:2 svc2:3 svc3:4", false},
			{0, nil, "", false},
		}},
	}
}

// TestGuardHold drives the guard answer by answer on a clock of its own:
// what the file holds after each answer, and what is logged.
func TestGuardHold(t *testing.T) {
	for _, tt := range guardCases() {
		t.Run(tt.name, func(t *testing.T) { runGuardCase(t, tt) })
	}
}

// runGuardCase publishes tt's answers at their times and checks the file
// and the hold after each, then the log. Deliver (REST delivery) is handed
// what the file holds, a held removal's union included: it writes it to a
// file of its own, compared with the routes file.
func runGuardCase(t *testing.T, tt guardCase) {
	logs := &testlog.Buffer{}
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	var now time.Time
	delivered := filepath.Join(t.TempDir(), "delivered.toml")
	p := &Publisher{Options: routes.Options{Domain: "example.com"}, Path: filepath.Join(t.TempDir(), "rancher.toml"),
		Guard: tt.guard, GuardHold: tt.hold, Log: slog.New(slog.NewTextHandler(logs, nil)), now: func() time.Time { return now },
		Deliver: func(body []byte) error {
			b, err := routes.Encode(deliveredTree(t, body))
			if err != nil {
				return err
			}
			return os.WriteFile(delivered, b, 0o600)
		}}
	for i, s := range tt.steps {
		now = t0.Add(s.at)
		snap := &rancher.Snapshot{Version: fmt.Sprint(i), Services: slices.Clone(s.services)} // the publisher's to change
		if err := p.publish(snap); err != nil {
			t.Fatal(err)
		}
		if got, want := fileState(t, p.Path), state(s.want); !mapsEqual(got, want) {
			t.Errorf("step %d (at %v): the file holds %v, want %v", i, s.at, got, want)
		}
		if got, want := fileState(t, delivered), state(s.want); !mapsEqual(got, want) {
			t.Errorf("step %d (at %v): delivered %v, want %v", i, s.at, got, want)
		}
		if (p.held != nil) != s.held {
			t.Errorf("step %d (at %v): held %v, want %v", i, s.at, p.held != nil, s.held)
		}
	}
	out := logs.String()
	for _, c := range []struct {
		msg  string
		want int
	}{
		{"an answer removes TRAEFIK_RANCHER_GUARD of the routes or more", tt.holds},
		{"an answer restores the routes: the held removal is cancelled", tt.cancels},
		{"the removal still stands at the end of the hold: applying it", tt.applies},
	} {
		if n := strings.Count(out, c.msg); n != c.want {
			t.Errorf("%q logged %d times, want %d:\n%s", c.msg, n, c.want, out)
		}
	}
}

func mapsEqual(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !slices.Equal(v, w) {
			return false
		}
	}
	return true
}

// TestGuardLogSaysWhen: the hold's warning names what is removed, the hold
// and the moment the removal applies.
func TestGuardLogSaysWhen(t *testing.T) {
	logs := &testlog.Buffer{}
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	p := &Publisher{Options: routes.Options{Domain: "example.com"}, Path: filepath.Join(t.TempDir(), "rancher.toml"),
		Guard: 0.5, GuardHold: 45 * time.Second, Log: slog.New(slog.NewTextHandler(logs, nil)), now: func() time.Time { return now }}
	for _, svcs := range [][]rancher.Service{services(3), services(1)} {
		if err := p.publish(&rancher.Snapshot{Version: "1", Services: svcs}); err != nil {
			t.Fatal(err)
		}
	}
	want := `level=WARN msg="an answer removes TRAEFIK_RANCHER_GUARD of the routes or more: keeping them for TRAEFIK_RANCHER_GUARD_HOLD in case Rancher is restarting or resyncing; the removal applies then if Rancher still says so" component=publish removes=2 of=3 hold=45s applies_at=2024-05-01T12:00:45Z removed_names=http/svc1-s,http/svc2-s`
	if !strings.Contains(logs.String(), want) {
		t.Errorf("the hold's warning, want\n%s\nin\n%s", want, logs.String())
	}
}

// TestGuardComparesWithTheFileLeft: after a restart, the first answer is
// compared with the routes an earlier run left, and the held routes are
// kept as they were in that file.
func TestGuardComparesWithTheFileLeft(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rancher.toml")
	earlier := &Publisher{Options: routes.Options{Domain: "example.com"}, Path: path, Log: slog.New(slog.NewTextHandler(&testlog.Buffer{}, nil))}
	if err := earlier.publish(&rancher.Snapshot{Version: "1", Services: services(4)}); err != nil {
		t.Fatal(err)
	}
	logs := &testlog.Buffer{}
	p := &Publisher{Options: routes.Options{Domain: "example.com"}, Path: path, Guard: 0.5, GuardHold: time.Minute, Log: slog.New(slog.NewTextHandler(logs, nil))}
	if err := p.publish(&rancher.Snapshot{Version: "1", Services: []rancher.Service{service("svc7", "10.0.0.7")}}); err != nil {
		t.Fatal(err)
	}
	if got, want := fileState(t, path), state("svc0:1 svc1:2 svc2:3 svc3:4 svc7:7"); !mapsEqual(got, want) {
		t.Errorf("the file holds %v, want %v", got, want)
	}
	if !strings.Contains(logs.String(), "removes=4 of=4") {
		t.Errorf("not held against the file left:\n%s", logs.String())
	}
}

// TestGuardHoldsAnotherWritersFile: a file left in another TOML layout
// (no comment of ours, dotted headers only, inline tables) is the baseline
// too, and the routes a mass removal would remove are kept from it.
func TestGuardHoldsAnotherWritersFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rancher.toml")
	var left strings.Builder
	for _, i := range []int{0, 1} {
		fmt.Fprintf(&left, "[http.routers.svc%d-s]\nrule = \"Host(`svc%d.s.example.com`)\"\nservice = \"svc%d-s\"\n", i, i, i)
		fmt.Fprintf(&left, "[http.services.svc%d-s.loadBalancer]\nservers = [{ url = \"http://10.0.0.%d:80\" }]\n", i, i+1)
	}
	if err := os.WriteFile(path, []byte(left.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &testlog.Buffer{}
	p := &Publisher{Options: routes.Options{Domain: "example.com"}, Path: path, Guard: 0.5, GuardHold: time.Minute, Log: slog.New(slog.NewTextHandler(logs, nil))}
	if err := p.publish(&rancher.Snapshot{Version: "1", Services: []rancher.Service{service("svc7", "10.0.0.7")}}); err != nil {
		t.Fatal(err)
	}
	if got, want := fileState(t, path), state("svc0:1 svc1:2 svc7:7"); !mapsEqual(got, want) {
		t.Errorf("the file holds %v, want %v", got, want)
	}
	if !strings.Contains(logs.String(), "removes=2 of=2") {
		t.Errorf("not held against the file left:\n%s", logs.String())
	}
}

// runOn serves srv to a running Publisher with hold. A snapshot request
// for which fail says so is answered 503 (the version long-poll keeps
// answering) and counted in failed.
func runOn(t *testing.T, srv http.Handler, hold time.Duration, fail func() bool, failed *atomic.Int32) (*Publisher, *testlog.Buffer) {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/version") && fail() {
			failed.Add(1)
			http.Error(w, "restarting", http.StatusServiceUnavailable)
			return
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	logs := &testlog.Buffer{}
	p := &Publisher{
		Source: &rancher.Client{Base: ts.URL + "/2016-07-29"}, Options: routes.Options{Domain: "example.com"},
		Path: filepath.Join(t.TempDir(), "rancher.toml"), Refresh: 5, Debounce: 10 * time.Millisecond, Guard: 0.5, GuardHold: hold,
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	p.First(context.Background(), 5*time.Second)
	run(t, p)
	return p, logs
}

var removedSome = regexp.MustCompile(`msg="routes changed".* removed=[1-9]`)

// TestRunGuardHold: the hold in the running loop, on the emulator.
func TestRunGuardHold(t *testing.T) {
	parse := func(s string) metadataserver.Answers {
		a, err := metadataserver.Parse([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	const held = "an answer removes TRAEFIK_RANCHER_GUARD of the routes or more"
	t.Run("an empty answer shorter than the hold removes nothing", func(t *testing.T) {
		srv := metadataserver.New(parse(stack(4)), slog.New(slog.NewTextHandler(io.Discard, nil)))
		var failed atomic.Int32
		// A hold far longer than the test: the answer recovers inside it
		// however slow the machine.
		p, logs := runOn(t, srv, time.Hour, func() bool { return false }, &failed)
		srv.Set(parse("stacks: []\n"))
		wait(t, "held", func() bool { return strings.Contains(logs.String(), held) })
		srv.Set(parse(stack(4)))
		wait(t, "cancelled", func() bool { return strings.Contains(logs.String(), "the held removal is cancelled") })
		if n := routersIn(t, p.Path); n != 4 {
			t.Errorf("%d routers, want 4", n)
		}
		if removedSome.MatchString(logs.String()) {
			t.Errorf("a route was removed:\n%s", logs.String())
		}
	})
	t.Run("an empty answer longer than the hold is applied once", func(t *testing.T) {
		const hold = 300 * time.Millisecond
		srv := metadataserver.New(parse(stack(4)), slog.New(slog.NewTextHandler(io.Discard, nil)))
		var failed atomic.Int32
		p, logs := runOn(t, srv, hold, func() bool { return false }, &failed)
		start := time.Now()
		srv.Set(parse("stacks: []\n"))
		wait(t, "applied", func() bool { return routersIn(t, p.Path) == 0 })
		if took := time.Since(start); took < hold {
			t.Errorf("applied after %v, before the end of the %v hold", took, hold)
		}
		// The next answer is compared with the removal applied: nothing is
		// held, cancelled or applied again.
		srv.Set(parse(stack(1)))
		wait(t, "the next answer published", func() bool { return routersIn(t, p.Path) == 1 })
		out := logs.String()
		if n := strings.Count(out, "applying it"); n != 1 {
			t.Errorf("applied %d times, want 1:\n%s", n, out)
		}
		if n := strings.Count(out, held); n != 1 || strings.Contains(out, "cancelled") {
			t.Errorf("held %d times, want 1, and not cancelled:\n%s", n, out)
		}
	})
	t.Run("Rancher failing at the end of the hold: nothing applied until it answers", func(t *testing.T) {
		const hold = 300 * time.Millisecond
		srv := metadataserver.New(parse(stack(4)), slog.New(slog.NewTextHandler(io.Discard, nil)))
		// Armed, the first snapshot passes (the empty answer, held) and the
		// next ones fail: the loop asks again only at the end of the hold.
		var armed atomic.Bool
		var snapshots, failed atomic.Int32
		p, logs := runOn(t, srv, hold, func() bool { return armed.Load() && snapshots.Add(1) > 1 }, &failed)
		armed.Store(true)
		srv.Set(parse("stacks: []\n"))
		wait(t, "held", func() bool { return strings.Contains(logs.String(), held) })
		wait(t, "two failed answers after the hold", func() bool { return failed.Load() >= 2 })
		if n := routersIn(t, p.Path); n != 4 {
			t.Errorf("%d routers while Rancher fails after the hold, want 4", n)
		}
		srv.Set(parse(stack(4)))
		armed.Store(false)
		wait(t, "cancelled", func() bool { return strings.Contains(logs.String(), "the held removal is cancelled") })
		if n := routersIn(t, p.Path); n != 4 || removedSome.MatchString(logs.String()) || strings.Contains(logs.String(), "applying it") {
			t.Errorf("%d routers, want 4, none removed:\n%s", n, logs.String())
		}
	})
}

// TestFirstIsBoundedByWait: a metadata service that accepts connections and
// never answers delays the start by the wait, not by a request's own 10 s
// timeout; the request is cut at the deadline.
func TestFirstIsBoundedByWait(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	conns := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns <- c // never answered
		}
	}()
	logs := &testlog.Buffer{}
	p := &Publisher{Source: &rancher.Client{Base: "http://" + l.Addr().String() + "/2016-07-29"}, Options: routes.Options{Domain: "example.com"},
		Path: filepath.Join(t.TempDir(), "rancher.toml"), Log: slog.New(slog.NewTextHandler(logs, nil))}
	const wait = 500 * time.Millisecond
	start := time.Now()
	p.First(context.Background(), wait)
	took := time.Since(start)
	// The client's own timeout per request is 10 s: returning before it
	// shows the wait bounded the request.
	if took >= 10*time.Second {
		t.Errorf("First took %v with a %v wait", took, wait)
	}
	var c net.Conn
	select {
	case c = <-conns:
	default:
		t.Fatal("First returned without its request reaching the server")
	}
	defer c.Close()
	// The request was abandoned, not left open: the client closed it.
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Errorf("the request's connection was not closed by the client: %v", err)
	}
	if !strings.Contains(logs.String(), "starting Traefik without fresh Rancher routes") || !strings.Contains(logs.String(), "limit=500ms") {
		t.Errorf("not logged:\n%s", logs.String())
	}
	t.Logf("First returned after %v", took.Round(time.Millisecond))
}

// TestChangeLogCapsNames: one change of a thousand routers logs every count
// and twenty names.
func TestChangeLogCapsNames(t *testing.T) {
	logs := &testlog.Buffer{}
	p := &Publisher{Options: routes.Options{Domain: "example.com"}, Path: filepath.Join(t.TempDir(), "rancher.toml"),
		Log: slog.New(slog.NewTextHandler(logs, nil))}
	if err := p.publish(&rancher.Snapshot{Version: "1", Services: services(1000)}); err != nil {
		t.Fatal(err)
	}
	line := logs.String()
	if !strings.Contains(line, "routers=1000 servers=1000 added=1000 removed=0 changed=0 added_names=") {
		t.Errorf("counts: %s", line)
	}
	_, listed, _ := strings.Cut(line, "added_names=")
	listed, more, ok := strings.Cut(strings.Trim(strings.TrimSpace(listed), `"`), " and ")
	if n := len(strings.Split(listed, ",")); n != maxNames || !ok || more != "980 more" {
		t.Errorf("%d names then %q, want %d then \"980 more\": %s", n, more, maxNames, line)
	}
	if len(line) > 2000 {
		t.Errorf("a %d-character line", len(line))
	}
}
