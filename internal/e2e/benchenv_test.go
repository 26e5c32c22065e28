package e2e

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"rancher-traefik/internal/metadataserver"
)

// benchChanges is how many changes a change→live benchmark makes: the N
// of -benchtime=Nx when given (CI runs -benchtime=1x), else BENCH_CHANGES,
// else 30; BENCH_CHANGES, when set, wins over both.
func benchChanges() int {
	if v := os.Getenv("BENCH_CHANGES"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
	}
	if f := flag.Lookup("test.benchtime"); f != nil {
		if s := f.Value.String(); strings.HasSuffix(s, "x") {
			if n, err := strconv.Atoi(strings.TrimSuffix(s, "x")); err == nil && n > 0 {
				return n
			}
		}
	}
	return 30
}

// benchGap is the pause before each change of a change→live series
// (BENCH_GAP, a duration; none by default: each change follows the last
// one's going live at once). Traefik forwards a provider's configuration
// and then sleeps providersThrottleDuration (v3.6 and v2.11
// pkg/provider/aggregator: maybeThrottledProvide), so a change that comes
// sooner than that after the last one waits out the rest: a gap longer
// than the throttle measures changes one at a time, as scaling events
// usually come.
func benchGap() time.Duration {
	d, err := time.ParseDuration(os.Getenv("BENCH_GAP"))
	if err != nil || d < 0 {
		return 0
	}
	return d
}

// The environment of the change→live benchmarks: n services of 3
// containers in stacks of 50, half labelled in Traefik v1's dialect and
// half in v2's, plus "live" (v2 labels, which both systems understand),
// the one service that is scaled. Thousands of services cannot each have a
// listener: their containers share sharedBackends addresses, all real; the
// live service's containers are livePool addresses, each its own backend
// answering with its address, so an answer names the container.
const (
	benchPort   = 8080
	liveHost    = "live.example.com"
	stackSize   = 50
	sharedCount = 16
)

var livePool = []string{"127.0.2.1", "127.0.2.2", "127.0.2.3", "127.0.2.4"}

func sharedBackend(i int) string { return fmt.Sprintf("127.0.1.%d", i%sharedCount+1) }

// envDoc is the stack file (as JSON, which is YAML) for n services with
// the live service's containers live.
func envDoc(n int, live []string) []byte {
	type container struct {
		IP          string `json:"ip"`
		HealthState string `json:"health_state"`
	}
	type service struct {
		Name        string            `json:"name"`
		HealthCheck bool              `json:"health_check"`
		Labels      map[string]string `json:"labels"`
		Ports       []string          `json:"ports,omitempty"`
		Containers  []container       `json:"containers"`
	}
	type stack struct {
		Name     string    `json:"name"`
		Services []service `json:"services"`
	}
	liveSvc := service{Name: "live", HealthCheck: true, Labels: map[string]string{
		"traefik.enable":                                      "true",
		"traefik.http.routers.live.rule":                      "Host(`" + liveHost + "`)",
		"traefik.http.services.live.loadbalancer.server.port": strconv.Itoa(benchPort),
	}}
	for _, ip := range live {
		liveSvc.Containers = append(liveSvc.Containers, container{ip, "healthy"})
	}
	stacks := []stack{{Name: "bench", Services: []service{liveSvc}}}
	for i := range n - 1 {
		if i%stackSize == 0 {
			stacks = append(stacks, stack{Name: fmt.Sprintf("stack%d", i/stackSize)})
		}
		s := service{Name: fmt.Sprintf("svc%d", i), HealthCheck: true}
		host := fmt.Sprintf("svc%d.example.com", i)
		if i%2 == 0 { // Traefik v1's dialect, as the seed image's users wrote it
			s.Labels = map[string]string{
				"traefik.enable": "true", "traefik.port": strconv.Itoa(benchPort),
				"traefik.frontend.rule":           "Host:" + host,
				"traefik.frontend.passHostHeader": "true",
				"io.rancher.container.pull_image": "always",
			}
			// A published port, which Traefik v2 takes when a service has
			// no v2 labels: the peer routes these too (by its default rule).
			s.Ports = []string{strconv.Itoa(benchPort) + "/tcp"}
		} else {
			s.Labels = map[string]string{
				"traefik.enable": "true",
				fmt.Sprintf("traefik.http.routers.r%d.rule", i):                      "Host(`" + host + "`)",
				fmt.Sprintf("traefik.http.services.s%d.loadbalancer.server.port", i): strconv.Itoa(benchPort),
				"io.rancher.scheduler.affinity:host_label":                           "role=web",
			}
		}
		for c := range 3 {
			s.Containers = append(s.Containers, container{sharedBackend(3*i + c), "healthy"})
		}
		stacks[len(stacks)-1].Services = append(stacks[len(stacks)-1].Services, s)
	}
	b, err := json.Marshal(map[string]any{"stacks": stacks})
	if err != nil {
		panic(err) // plain types: cannot fail
	}
	return b
}

// liveStates are the live service's container sets, cycled: a container
// added (up), then the oldest removed (down), 3 and 4 containers in turn;
// after 2×len(livePool) changes the first state comes back.
func liveStates() [][]string {
	cur := slices.Clone(livePool[:3])
	next := 3
	states := [][]string{slices.Clone(cur)}
	for range 2*len(livePool) - 1 {
		if len(cur) == 3 {
			cur = append(cur, livePool[next%len(livePool)])
			next++
		} else {
			cur = cur[1:]
		}
		states = append(states, slices.Clone(cur))
	}
	return states
}

// benchEmulator is the metadata emulator serving inside the namespace, with a
// record of the requests it answered (for the breakdown).
type benchEmulator struct {
	srv   *metadataserver.Server
	docs  []metadataserver.Answers // one per liveStates entry
	state int

	mu   sync.Mutex
	reqs []reqRecord
}

type reqRecord struct {
	wait       bool // a long-poll (?wait=true)
	start, end time.Time
}

func (e *benchEmulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := reqRecord{wait: r.URL.Query().Get("wait") == "true", start: time.Now()}
	e.srv.ServeHTTP(w, r)
	rec.end = time.Now()
	e.mu.Lock()
	e.reqs = append(e.reqs, rec)
	e.mu.Unlock()
}

func (e *benchEmulator) since(t time.Time) []reqRecord {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []reqRecord
	for _, r := range e.reqs {
		if r.end.After(t) {
			out = append(out, r)
		}
	}
	return out
}

// newEmulator parses one document per live state (parsing 10,000
// services takes seconds: done once, before anything is timed) and serves
// the first on addr inside ns.
func newEmulator(b *testing.B, ns *netns, n int, addr string) *benchEmulator {
	e := &benchEmulator{}
	for _, st := range liveStates() {
		a, err := metadataserver.Parse(envDoc(n, st))
		if err != nil {
			b.Fatal(err)
		}
		e.docs = append(e.docs, a)
	}
	e.srv = metadataserver.New(e.docs[0], slog.New(slog.NewTextHandler(io.Discard, nil)))
	l, err := ns.listen(addr)
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	b.Cleanup(func() { _ = srv.Close() })
	return e
}

// next installs the next live state (the emulator bumps the version and
// wakes the long-polls) and returns the containers before and after.
func (e *benchEmulator) next() (before, after []string) {
	states := liveStates()
	before = states[e.state]
	e.state = (e.state + 1) % len(states)
	e.srv.Set(e.docs[e.state])
	return before, states[e.state]
}

// benchBackends starts the shared and the live backends inside ns, each on
// port benchPort answering "<its address> <path>".
func benchBackends(b *testing.B, ns *netns) {
	ips := slices.Clone(livePool)
	for i := range sharedCount {
		ips = append(ips, sharedBackend(i))
	}
	for _, ip := range ips {
		l, err := ns.listen(fmt.Sprintf("%s:%d", ip, benchPort))
		if err != nil {
			b.Fatalf("backend %s: %v", ip, err)
		}
		name := ip
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s %s", name, r.URL.Path)
		}), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(l) }()
		b.Cleanup(func() { _ = srv.Close() })
	}
}
