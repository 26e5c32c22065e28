package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// setting is one pair of TRAEFIK_RANCHER_DEBOUNCE and
// TRAEFIK_PROVIDERS_THROTTLE.
type setting struct{ debounce, throttle string }

// settings are the pairs BenchmarkChangeToLiveSettings compares; the
// first is the defaults before issue 12, the second today's.
var settings = []setting{
	{"50ms", "50ms"}, {"25ms", "50ms"}, {"10ms", "50ms"}, {"0s", "50ms"},
	{"10ms", "10ms"}, {"0s", "0s"}, {"10ms", "200ms"},
}

// settingRow is a setting's figures at one size.
type settingRow struct {
	n      int
	s      setting
	single stats   // one change at a time
	burst  stats   // two changes 10 ms apart: → the second live
	writes float64 // rancher.toml renames per burst
}

// BenchmarkChangeToLiveSettings chose the defaults of
// TRAEFIK_RANCHER_DEBOUNCE and TRAEFIK_PROVIDERS_THROTTLE: rancher-traefik's
// change→live (as BenchmarkChangeToLiveScale: the emulator's long-poll,
// real backends, the real Traefik) at 10 and 1,000 services for each pair
// of settings, one change at a time, and for bursts — two changes 10 ms
// apart, as a container's start and its health check passing can come —
// the time until the second is live and how many times rancher.toml was
// written for the burst (each write is a full read and apply by Traefik:
// seconds at 10,000 services). Changes: benchChanges; bursts: a third of
// that, at least 1; under 10 changes (CI) only 10 services and the first
// two pairs.
func BenchmarkChangeToLiveSettings(b *testing.B) {
	metaAddr := fmt.Sprintf("127.0.0.1:%d", freePort(b))
	benchBackends(b, nil)
	changes := benchChanges()
	bursts := max(changes/3, 1)
	sizes, pairs := []int{10, 1000}, settings
	if changes < 10 { // CI's -benchtime=1x: show it runs, briefly
		sizes, pairs = sizes[:1], settings[:2]
	}
	pairs = benchSettings(b, pairs)
	var rows []settingRow
	for _, n := range sizes {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			e := newEmulator(b, nil, n, metaAddr)
			for _, s := range pairs {
				rows = append(rows, measureSetting(b, e, metaAddr, n, s, changes, bursts))
				r := rows[len(rows)-1]
				tag := "d" + s.debounce + "-t" + s.throttle
				b.ReportMetric(float64(r.single.p95.Milliseconds()), "ms-p95-"+tag)
			}
		})
	}
	fmt.Printf("\nrancher-traefik change→live by TRAEFIK_RANCHER_DEBOUNCE / TRAEFIK_PROVIDERS_THROTTLE (s); %d single changes, %d bursts of 2 changes 10 ms apart; %s, %d cores\n",
		changes, bursts, time.Now().Format("2006-01-02"), runtime.NumCPU())
	fmt.Printf("| services | debounce | throttle | single median | single p95 | burst median | burst p95 | writes a burst |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Printf("| %d | %s | %s | %s | %s | %s | %s | %.1f |\n", r.n, r.s.debounce, r.s.throttle, secs(r.single.med), secs(r.single.p95), secs(r.burst.med), secs(r.burst.p95), r.writes)
	}
}

// benchSettings keeps the pairs BENCH_SETTINGS names ("25ms/50ms,0s/50ms":
// debounce/throttle, comma separated); unset, all of them.
func benchSettings(b *testing.B, pairs []setting) []setting {
	v := os.Getenv("BENCH_SETTINGS")
	if v == "" {
		return pairs
	}
	var kept []setting
	for item := range strings.SplitSeq(v, ",") {
		d, t, ok := strings.Cut(strings.TrimSpace(item), "/")
		if !ok {
			b.Fatalf("BENCH_SETTINGS: %q is not debounce/throttle", item)
		}
		kept = append(kept, setting{d, t})
	}
	return kept
}

// measureSetting runs rancher-traefik with s against e: changes single
// changes, then bursts bursts.
func measureSetting(b *testing.B, e *benchEmulator, metaAddr string, n int, s setting, changes, bursts int) settingRow {
	sys := ours(map[string]string{"TRAEFIK_RANCHER_DEBOUNCE": s.debounce, "TRAEFIK_PROVIDERS_THROTTLE": s.throttle})
	p, url := sys(b, nil, metaAddr)
	defer p.stop(b)
	c := plainClient()
	waitServing(b, p, c, url, liveStates()[e.state])
	renames := watchRenames(b, filepath.Join(oursHome[p], "etc", "dynamic"), "rancher.toml")
	var single []time.Duration
	for range changes {
		time.Sleep(benchGap())
		p.exited(b)
		t0 := time.Now()
		before, after := e.next()
		single = append(single, waitLive(b, c, url, before, after, t0))
	}
	// A burst adds a container and removes another: it starts from a state
	// of 3 containers (even in liveStates), else the two cancel out.
	if e.state%2 == 1 {
		t0 := time.Now()
		before, after := e.next()
		waitLive(b, c, url, before, after, t0)
	}
	var burst []time.Duration
	writes := 0
	for range bursts {
		p.exited(b)
		t0 := time.Now()
		before, _ := e.next()
		time.Sleep(10 * time.Millisecond) // the burst's spacing, not a wait for a signal
		_, after := e.next()
		burst = append(burst, waitSettled(b, c, url, before, after, t0))
		// Writes of the burst: those until a quiet second after it is live
		// (a debounce ends at most 10 of its periods after the change).
		quiet := time.Now()
		for time.Since(quiet) < time.Second {
			if renames.count(quiet, time.Now()) > 0 {
				quiet = time.Now()
			}
			time.Sleep(50 * time.Millisecond)
		}
		writes += renames.count(t0, time.Now())
	}
	return settingRow{n: n, s: s, single: statsOf(single), burst: statsOf(burst), writes: float64(writes) / float64(bursts)}
}

// waitSettled waits until the proxy serves exactly after's containers as
// far as a change from before shows: an added one has answered, then
// downStreak answers in a row came from none of the removed.
func waitSettled(b *testing.B, c *http.Client, url string, before, after []string, t0 time.Time) time.Duration {
	const downStreak = 8
	added, removed := diff(after, before), diff(before, after)
	seenAdded := len(added) == 0
	streak := 0
	for time.Since(t0) < liveLimit {
		code, body, err := get(c, url, http.Header{"Host": {liveHost}})
		from, _, _ := strings.Cut(body, " ")
		switch {
		case err != nil || code != 200 || slices.Contains(removed, from):
			streak = 0
		default:
			seenAdded = seenAdded || slices.Contains(added, from)
			if streak++; seenAdded && streak >= downStreak {
				return time.Since(t0)
			}
		}
		time.Sleep(time.Millisecond)
	}
	b.Fatalf("the burst %v → %v was not live after %v", before, after, liveLimit)
	return 0
}
