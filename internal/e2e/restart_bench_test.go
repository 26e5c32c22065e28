package e2e

import (
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// restartGap is one restart of Traefik, killed with SIGKILL under
// rancher-traefik: from the kill to the first answer through the proxy
// of any kind (the new Traefik's entry point open), and to the first
// answer of the live service (its Rancher routes applied).
type restartGap struct{ open, live time.Duration }

// BenchmarkRestartToLive measures what a restarted Traefik costs the
// routes with each delivery (TRAEFIK_ROUTES_DELIVERY): with the file a
// new Traefik reads rancher.toml at start; with rest it has no Rancher
// routes until the supervisor's push is applied, and answers 404 between
// its entry point opening and then — the gap README "How routes reach
// Traefik" speaks of. Environments of 10, 1,000 and 10,000 services
// (benchenv), TRAEFIK_RESTART_BACKOFF=10ms so that the restart delay is not
// in the figures; benchChanges restarts a series (5 at most: each is a
// full first load). It prints kill → entry point open, kill → routes live
// and the gap between them, median and max.
func BenchmarkRestartToLive(b *testing.B) {
	metaAddr := fmt.Sprintf("127.0.0.1:%d", freePort(b))
	benchBackends(b, nil)
	restarts := min(benchChanges(), 5)
	deliveries := []string{"file", "rest"}
	results := map[int]map[string][]restartGap{}
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			e := newEmulator(b, nil, n, metaAddr)
			results[n] = map[string][]restartGap{}
			for _, d := range deliveries {
				results[n][d] = restartSeries(b, e, metaAddr, d, restarts)
			}
		})
	}
	printRestarts(restarts, deliveries, results)
}

// restartSeries starts rancher-traefik with delivery d against e and
// kills its Traefik restarts times, each once the last is live again.
func restartSeries(b *testing.B, e *benchEmulator, metaAddr, d string, restarts int) []restartGap {
	p, url := ours(map[string]string{"TRAEFIK_ROUTES_DELIVERY": d, "TRAEFIK_RESTART_BACKOFF": "10ms", "TRAEFIK_RESTART_MAX": "100"})(b, nil, metaAddr)
	defer p.stop(b)
	c := (*netns)(nil).client()
	want := liveStates()[e.state]
	waitServing(b, p, c, url, want)
	var gaps []restartGap
	for range restarts {
		old := traefikChild(b, p.cmd.Process.Pid)
		t0 := time.Now()
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			b.Fatal(err)
		}
		gaps = append(gaps, awaitRestarted(b, p, c, url, want, t0))
	}
	return gaps
}

// awaitRestarted polls url every millisecond from t0 until the live
// service answers from one of want again.
func awaitRestarted(b *testing.B, p *benchProc, c *http.Client, url string, want []string, t0 time.Time) restartGap {
	var g restartGap
	for time.Since(t0) < liveLimit {
		p.exited(b)
		code, body, err := get(c, url, http.Header{"Host": {liveHost}})
		if err == nil && g.open == 0 {
			g.open = time.Since(t0)
		}
		from, _, _ := strings.Cut(body, " ")
		if err == nil && code == 200 && slices.Contains(want, from) {
			g.live = time.Since(t0)
			return g
		}
		time.Sleep(time.Millisecond)
	}
	b.Fatalf("the live service did not answer %v after Traefik was killed", liveLimit)
	return g
}

func printRestarts(restarts int, deliveries []string, results map[int]map[string][]restartGap) {
	fmt.Printf("\nTraefik killed (SIGKILL) under rancher-traefik and restarted, %d times a row (s); %s, %d cores, %s\n", restarts, time.Now().Format("2006-01-02"), runtime.NumCPU(), runtime.GOARCH)
	fmt.Println("| services | delivery | kill → entry point open, median | kill → routes live, median | max | routes live after open (404 meanwhile), median | max |")
	fmt.Println("|---:|---|---:|---:|---:|---:|---:|")
	for _, n := range []int{10, 1000, 10000} {
		for _, d := range deliveries {
			gs := results[n][d]
			if len(gs) == 0 {
				continue
			}
			var open, live, gap []time.Duration
			for _, g := range gs {
				open, live, gap = append(open, g.open), append(live, g.live), append(gap, g.live-g.open)
			}
			o, l, w := statsOf(open), statsOf(live), statsOf(gap)
			fmt.Printf("| %d | %s | %s | %s | %s | %s | %s |\n", n, d, secs(o.med), secs(l.med), secs(l.max), secs(w.med), secs(w.max))
		}
	}
}
