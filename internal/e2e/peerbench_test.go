package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// traefik2Bin is Traefik v2.11.53 (make traefik2), the peer: its own
// Rancher provider reads the same metadata long-poll.
func traefik2Bin() string {
	if p := os.Getenv("TRAEFIK2_TEST_BINARY"); p != "" {
		return p
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "bin", "traefik2")
}

// liveLimit bounds the wait for one change (10,000 services included).
const liveLimit = 120 * time.Second

// waitLive polls the live service through the proxy at url until the
// change from before to after shows: an added container answers (up), or
// downStreak answers in a row come from the others (down: with round
// robin over the 4 servers before, the removed one would answer at least
// once in 4). It returns the time from t0.
func waitLive(b *testing.B, c *http.Client, url string, before, after []string, t0 time.Time) time.Duration {
	const downStreak = 6
	added, removed := diff(after, before), diff(before, after)
	streak := 0
	for time.Since(t0) < liveLimit {
		code, body, err := get(c, url, http.Header{"Host": {liveHost}})
		from, _, _ := strings.Cut(body, " ")
		switch {
		case err != nil || code != 200:
			streak = 0
		case len(added) > 0 && slices.Contains(added, from):
			return time.Since(t0)
		case len(removed) > 0 && !slices.Contains(removed, from):
			if streak++; streak == downStreak {
				return time.Since(t0)
			}
		default:
			streak = 0
		}
		time.Sleep(time.Millisecond)
	}
	b.Fatalf("the change %v → %v was not live after %v", before, after, liveLimit)
	return 0
}

func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// waitServing waits until the live service answers from one of want.
func waitServing(b *testing.B, p *benchProc, c *http.Client, url string, want []string) {
	t0 := time.Now()
	for time.Since(t0) < liveLimit {
		p.exited(b)
		code, body, err := get(c, url, http.Header{"Host": {liveHost}})
		from, _, _ := strings.Cut(body, " ")
		if err == nil && code == 200 && slices.Contains(want, from) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatalf("%v: the live service never answered in %v\n%s", p.cmd.Args, liveLimit, p.out.tail(40))
}

// stats are a series' median, p95 and max.
type stats struct{ med, p95, max time.Duration }

func statsOf(ds []time.Duration) stats {
	if len(ds) == 0 {
		return stats{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return stats{quantile(s, 0.5), quantile(s, 0.95), s[len(s)-1]}
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// ratio is how many times slower other is than ours ("-" without it).
func ratio(other, ours time.Duration) string {
	if other == 0 || ours == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", float64(other)/float64(ours))
}

// oursFile is rancher-traefik with the default delivery (the file
// provider), the systems' reference; "ours, rest" pushes to Traefik's REST
// provider (TRAEFIK_ROUTES_DELIVERY=rest).
const oursFile = "ours, file"

// system is one of those measured: ours (file or REST delivery), or the
// peer with a throttle.
type system struct {
	name  string
	start func(b *testing.B, ns *netns, metaAddr string) (p *benchProc, url string)
}

// ours starts rancher-traefik (metadata mode, the defaults otherwise)
// inside ns; extra adds variables (the breakdown's debug log).
func ours(extra map[string]string) func(*testing.B, *netns, string) (*benchProc, string) {
	return func(b *testing.B, ns *netns, metaAddr string) (*benchProc, string) {
		env := map[string]string{
			"TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_ACCESS_LOG": "false",
			"TRAEFIK_RANCHER_MODE":         "metadata",
			"TRAEFIK_RANCHER_METADATA_URL": "http://" + metaAddr + "/2016-07-29",
		}
		for k, v := range extra {
			env[k] = v
		}
		i := newInstance(b, env)
		p := startProc(b, i.environ(), ns.exec(ourBin, "run")...)
		b.Cleanup(func() { _ = os.RemoveAll(i.home) })
		oursHome[p] = i.home
		return p, fmt.Sprintf("http://127.0.0.1:%d/", i.httpPort)
	}
}

// oursHome finds the instance's home (for the dynamic file's ctime).
var oursHome = map[*benchProc]string{}

// peer starts Traefik v2.11.53 with its Rancher provider on the metadata
// long-poll (intervalPoll = false; refreshSeconds is the long-poll's
// maxWait) inside ns. throttle "" keeps providersThrottleDuration's
// default (2 s); it is a [providers] option — at the top level Traefik
// ignores it (pkg/config/static: Providers.ProvidersThrottleDuration).
func peer(throttle string) func(*testing.B, *netns, string) (*benchProc, string) {
	return func(b *testing.B, ns *netns, _ string) (*benchProc, string) {
		dir := b.TempDir()
		web, api := freePort(b), freePort(b)
		var t string
		if throttle != "" {
			t = fmt.Sprintf("  providersThrottleDuration = %q\n", throttle)
		}
		static := bareStatic(web, api, t+`[providers.rancher]
  watch = true
  exposedByDefault = false
  enableServiceHealthFilter = true
  refreshSeconds = 15
  intervalPoll = false
  prefix = "latest"
`)
		cfg := filepath.Join(dir, "traefik.toml")
		if err := os.WriteFile(cfg, []byte(static), 0o644); err != nil {
			b.Fatal(err)
		}
		p := startProc(b, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, ns.exec(traefik2Bin(), "--configFile="+cfg)...)
		return p, fmt.Sprintf("http://127.0.0.1:%d/", web)
	}
}

// bareStatic is the static configuration the benchmarks' and tests' own
// Traefiks start with: the web entry point, the admin one (ping), and
// providers, the lines of the [providers] table.
func bareStatic(web, api int, providers string) string {
	return fmt.Sprintf(`[global]
  checkNewVersion = false
  sendAnonymousUsage = false
[entryPoints.web]
  address = "127.0.0.1:%d"
[entryPoints.traefik]
  address = "127.0.0.1:%d"
[ping]
[providers]
`, web, api) + providers
}

// run starts sys against e, waits for its first routes, makes changes
// changes, and returns their change→live times; each is also handed to
// each (for the breakdown).
func run(b *testing.B, ns *netns, e *benchEmulator, metaAddr string, sys system, changes int, ready func(p *benchProc), each func(t0 time.Time, live time.Duration, p *benchProc)) []time.Duration {
	p, url := sys.start(b, ns, metaAddr)
	c := ns.client()
	waitServing(b, p, c, url, liveStates()[e.state])
	if ready != nil {
		ready(p)
	}
	var lat []time.Duration
	for range changes {
		time.Sleep(benchGap())
		p.exited(b)
		t0 := time.Now()
		before, after := e.next()
		d := waitLive(b, c, url, before, after, t0)
		lat = append(lat, d)
		if each != nil {
			each(t0, d, p)
		}
	}
	p.stop(b)
	return lat
}

// BenchmarkChangeToLiveScale measures change→live of the whole system —
// the metadata emulator announcing a change through the long-poll, real
// backends, the real Traefik — in environments of 10, 1,000 and 10,000
// services, for rancher-traefik and for Traefik v2.11.53's own Rancher
// provider (the peer) with its default 2 s providersThrottleDuration and
// with 50 ms, side by side. A change scales the live service by one
// container, up or down in turn; it is live when the new container
// answers through the proxy, or the removed one has stopped answering.
// The change count is benchChanges (30 for make bench, -benchtime=Nx or
// BENCH_CHANGES otherwise). At 10 and 1,000 services a series of ours with
// the debug log on splits each change into stages (measureBreakdown).
func BenchmarkChangeToLiveScale(b *testing.B) {
	var ns *netns
	skipPeer := netnsUnavailable()
	if skipPeer == "" {
		var err error
		if ns, err = newNetns(b); err != nil {
			skipPeer = err.Error()
		}
	}
	if skipPeer == "" {
		if _, err := os.Stat(traefik2Bin()); err != nil {
			skipPeer = "no Traefik v2 at " + traefik2Bin() + " (make traefik2)"
		}
	}
	metaAddr := "127.0.0.1:80" // the peer's provider knows no port
	if ns == nil {
		metaAddr = fmt.Sprintf("127.0.0.1:%d", freePort(b))
	}
	benchBackends(b, ns)
	systems := []system{{oursFile, ours(nil)}, {"ours, rest", ours(map[string]string{"TRAEFIK_ROUTES_DELIVERY": "rest"})}}
	if skipPeer == "" {
		systems = append(systems, system{"peer 2s", peer("")}, system{"peer 50ms", peer("50ms")})
	}
	changes := benchChanges()
	results := map[int]map[string]stats{}
	var breakdowns []*stageTable
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			e := newEmulator(b, ns, n, metaAddr)
			results[n] = map[string]stats{}
			for _, sys := range systems {
				st := statsOf(run(b, ns, e, metaAddr, sys, changes, nil, nil))
				results[n][sys.name] = st
				tag := strings.NewReplacer(", ", "-", " ", "-").Replace(sys.name)
				b.ReportMetric(float64(st.med.Milliseconds()), "ms-median-"+tag)
				b.ReportMetric(float64(st.p95.Milliseconds()), "ms-p95-"+tag)
			}
			if n <= 1000 {
				breakdowns = append(breakdowns, measureBreakdown(b, ns, e, metaAddr, n, changes))
			}
		})
	}
	printScale(changes, systems, results, skipPeer)
	for _, t := range breakdowns {
		t.print()
	}
}

func printScale(changes int, systems []system, results map[int]map[string]stats, skipPeer string) {
	fmt.Printf("\nchange→live (s), %d changes each, one container up or down at a time; %s, %d cores, %s\n",
		changes, time.Now().Format("2006-01-02"), runtime.NumCPU(), runtime.GOARCH)
	if skipPeer != "" {
		fmt.Printf("peer (Traefik v2.11.53) skipped: %s — it needs a network namespace (root and ip) and bin/traefik2\n", skipPeer)
	}
	fmt.Printf("| services | system | median | p95 | max | ×ours-file median | ×ours-file p95 |\n|---:|---|---:|---:|---:|---:|---:|\n")
	for _, n := range []int{10, 1000, 10000} {
		o := results[n][oursFile]
		for _, sys := range systems {
			s, ok := results[n][sys.name]
			if !ok {
				continue
			}
			fmt.Printf("| %d | %s | %s | %s | %s | %s | %s |\n", n, sys.name, secs(s.med), secs(s.p95), secs(s.max), ratio(s.med, o.med), ratio(s.p95, o.p95))
		}
	}
}

// stageTable is where change→live goes, stage by stage.
type stageTable struct {
	services int
	names    []string
	stages   [][]time.Duration // [stage][change]
	total    []time.Duration
	missed   int
}

// measureBreakdown runs rancher-traefik once more at n services with
// TRAEFIK_LOG_LEVEL=DEBUG (Traefik logs "Configuration received" when its
// file provider has read the file) and splits every change by timestamps:
// the emulator's record of the requests it answered (our long-poll's
// return, the fetch), the rename of the dynamic file (inotify), the arrival
// of Traefik's log line, and the first answer.
// At 1,000 services Traefik's debug log itself costs (it logs every
// configuration it receives, whole): its stages read high there.
func measureBreakdown(b *testing.B, ns *netns, e *benchEmulator, metaAddr string, n, changes int) *stageTable {
	t := &stageTable{services: n, names: []string{
		"long-poll wake (change → our long-poll answered)",
		"debounce (→ first fetch request)",
		"fetch (metadata requests)",
		"build + encode + write (→ file renamed)",
		"Traefik file event + read + parse (→ \"Configuration received\")",
		"Traefik throttle + apply + first answer (→ live)",
	}, stages: make([][]time.Duration, 6)}
	sys := system{"rancher-traefik (debug log)", ours(map[string]string{"TRAEFIK_LOG_LEVEL": "DEBUG", "TRAEFIK_LOG_FORMAT": "json"})}
	var renames *renameWatch
	ready := func(p *benchProc) {
		renames = watchRenames(b, filepath.Join(oursHome[p], "etc", "dynamic"), "rancher.toml")
	}
	run(b, ns, e, metaAddr, sys, changes, ready, func(t0 time.Time, live time.Duration, p *benchProc) {
		marks, ok := stageMarks(e, p, renames.first(t0), t0)
		if !ok {
			b.Logf("breakdown: change at %s: a mark is missing or out of order: %v", t0.Format("15:04:05.000"), marks)
			t.missed++
			return
		}
		marks = append(marks, t0.Add(live))
		prev := t0
		for k, m := range marks {
			t.stages[k] = append(t.stages[k], m.Sub(prev))
			prev = m
		}
		t.total = append(t.total, live)
	})
	return t
}

// stageMarks are the instants that end each stage but the last; renamed
// is when the dynamic file was renamed into place (inotify: the file's
// ctime has the kernel's coarse clock, 4 ms steps, too coarse here).
func stageMarks(e *benchEmulator, p *benchProc, renamed, t0 time.Time) ([]time.Time, bool) {
	var wake, fetchStart, fetchEnd time.Time
	for _, r := range e.since(t0) {
		switch {
		case r.wait && wake.IsZero():
			wake = r.end
		case !r.wait && !wake.IsZero() && r.start.After(wake) && r.start.Before(renamed):
			if fetchStart.IsZero() {
				fetchStart = r.start
			}
			fetchEnd = r.end
		}
	}
	// The emulator's handler returns a moment after its client has the
	// answer (the goroutine is scheduled late on 2 busy cores): a fetch
	// that "ends" after the rename ended at the latest then.
	if fetchEnd.After(renamed) {
		fetchEnd = renamed
	}
	var received time.Time
	for _, l := range p.out.since(renamed, "Configuration received") {
		if strings.Contains(l.text, `"providerName":"file"`) {
			received = l.at
			break
		}
	}
	marks := []time.Time{wake, fetchStart, fetchEnd, renamed, received}
	for k, m := range marks {
		if m.IsZero() || m.Before(t0) || (k > 0 && m.Before(marks[k-1])) {
			return marks, false
		}
	}
	return marks, true
}

func (t *stageTable) print() {
	fmt.Printf("\nwhere change→live goes, rancher-traefik at %d services (%d changes, %d without every mark left out; debug log on)\n", t.services, len(t.total), t.missed)
	fmt.Printf("| stage | median (ms) | p95 (ms) | max (ms) |\n|---|---:|---:|---:|\n")
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) }
	for k, name := range t.names {
		s := statsOf(t.stages[k])
		fmt.Printf("| %s | %s | %s | %s |\n", name, ms(s.med), ms(s.p95), ms(s.max))
	}
	s := statsOf(t.total)
	fmt.Printf("| change → live (total) | %s | %s | %s |\n", ms(s.med), ms(s.p95), ms(s.max))
}
