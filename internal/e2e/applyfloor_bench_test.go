package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"rancher-traefik/internal/atomicfile"
)

// oursFiles is what rancher-traefik rendered for the bench environment:
// its static traefik.toml, and its dynamic directory (file name → content)
// once per live state (liveStates order).
type oursFiles struct {
	static  string
	dynamic []map[string]string
}

// captureOurs runs rancher-traefik (the bench's defaults: metadata mode,
// HTTP only, no access log) against e and records what it writes for
// every live state, each once the state is live through its Traefik; e is
// back at the state it started from.
func captureOurs(b *testing.B, e *benchEmulator, metaAddr string) oursFiles {
	p, url := ours(nil)(b, nil, metaAddr)
	home := oursHome[p]
	c := plainClient()
	states := liveStates()
	waitServing(b, p, c, url, states[e.state])
	raw, err := os.ReadFile(filepath.Join(home, "etc", "traefik.toml"))
	if err != nil {
		b.Fatal(err)
	}
	f := oursFiles{static: string(raw), dynamic: make([]map[string]string, len(states))}
	for range states {
		dir := filepath.Join(home, "etc", "dynamic")
		ents, err := os.ReadDir(dir)
		if err != nil {
			b.Fatal(err)
		}
		files := map[string]string{}
		for _, ent := range ents {
			raw, err := os.ReadFile(filepath.Join(dir, ent.Name()))
			if err != nil {
				b.Fatal(err)
			}
			files[ent.Name()] = string(raw)
		}
		f.dynamic[e.state] = files
		before, after := e.next()
		waitLive(b, c, url, before, after, time.Now())
	}
	p.stop(b)
	return f
}

// floorVariant takes one candidate cause out of what rancher-traefik
// renders (nil edits: as rendered).
type floorVariant struct {
	name   string
	static func(string) string // edits traefik.toml
	drop   []string            // dynamic files left out
	debug  bool                // Traefik's debug log on (for the stage marks)
}

var (
	reRetryLine = regexp.MustCompile(`(?m)^\s*\[entryPoints\.http\.http\]\n\s*middlewares = \["rancher-traefik-retry@file"\]\n`)
	reAPI       = regexp.MustCompile(`(?m)^\[api\]\n(\s+.*\n)*`)
	reAddress   = regexp.MustCompile(`address = "127\.0\.0\.1:\d+"`)
	reDirectory = regexp.MustCompile(`directory = ".*"`)
	reLogLevel  = regexp.MustCompile(`level = "INFO"`)
)

func noRetry(s string) string { return reRetryLine.ReplaceAllString(s, "") }
func noAPI(s string) string   { return reAPI.ReplaceAllString(s, "") }

// floorVariants are rancher-traefik's files as rendered and with one
// candidate cause taken out at a time. tls.toml carries the default
// certificate (certs.Fallback); without it Traefik makes an RSA-2048 key
// for its default TLS store at every apply (v3.6 pkg/tls/tlsmanager.go:
// UpdateConfigs → getDefaultCertificate → generate.DefaultCertificate;
// v2.11 alike), as it did before rancher-traefik wrote one.
func floorVariants() []floorVariant {
	noTLS := []string{"tls.toml"}
	vs := []floorVariant{
		{name: "as rendered (tls.toml: a default certificate)"},
		{name: "without tls.toml (no default certificate: as before)", drop: noTLS},
		{name: "without tls.toml, no retry middleware", static: noRetry, drop: []string{"tls.toml", "retry.toml"}},
		{name: "without tls.toml, no API/dashboard", static: noAPI, drop: []string{"tls.toml", "admin.toml"}},
		{name: "rancher.toml + tls.toml only (no retry, no API)", static: func(s string) string { return noAPI(noRetry(s)) }, drop: []string{"retry.toml", "admin.toml"}},
	}
	if os.Getenv("FLOOR_TRACE") != "" {
		vs = append(vs,
			floorVariant{name: "as rendered, debug log", debug: true},
			floorVariant{name: "without tls.toml, debug log", drop: noTLS, debug: true})
	}
	return vs
}

// floorEntrant is one system of the comparison and its write→live times.
type floorEntrant struct {
	files, sys string
	change     func(b *testing.B, from, to int) time.Duration
	lat        []time.Duration
	renamed    []time.Duration // ours end to end: rename of rancher.toml → live
}

// staticFor is rancher-traefik's traefik.toml on fresh ports, reading dir,
// with v's edits, adapted to sys.
func staticFor(b *testing.B, f oursFiles, v floorVariant, sys, dir string) (static string, web int) {
	web = freePort(b)
	ports := []int{web, freePort(b)}
	static = reAddress.ReplaceAllStringFunc(f.static, func(string) string {
		p := ports[0]
		ports = ports[1:]
		return fmt.Sprintf("address = \"127.0.0.1:%d\"", p)
	})
	if len(ports) != 0 {
		b.Fatalf("the rendered traefik.toml has not 2 loopback addresses:\n%s", f.static)
	}
	static = reDirectory.ReplaceAllString(static, fmt.Sprintf("directory = %q", dir))
	if v.static != nil {
		static = v.static(static)
	}
	if sys == "v2" { // v2 has no log.noColor (v3 added it); nothing else differs
		static = strings.Replace(static, "  noColor = true\n", "", 1)
	}
	if v.debug {
		static = reLogLevel.ReplaceAllString(static, `level = "DEBUG"`)
	}
	return static, web
}

// floorTraefik starts a Traefik (bin) on v's files at state 0; a change
// writes rancher.toml as rancher-traefik does (staged outside the watched
// directory: one rename).
func floorTraefik(b *testing.B, sys, bin string, v floorVariant, f oursFiles) *floorEntrant {
	base := b.TempDir()
	dir, stage := filepath.Join(base, "dynamic"), filepath.Join(base, "stage")
	for _, d := range []string{dir, stage} {
		if err := os.Mkdir(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	static, web := staticFor(b, f, v, sys, dir)
	cfg := filepath.Join(base, "traefik.toml")
	if err := os.WriteFile(cfg, []byte(static), 0o644); err != nil {
		b.Fatal(err)
	}
	for name, body := range f.dynamic[0] {
		if slices.Contains(v.drop, name) {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	p := startProc(b, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + base}, bin, "--configFile="+cfg)
	url := fmt.Sprintf("http://127.0.0.1:%d/", web)
	waitServing(b, p, plainClient(), url, liveStates()[0])
	en := &floorEntrant{files: v.name, sys: sys}
	ch := writeChange(f, filepath.Join(dir, "rancher.toml"), stage, url)
	en.change = func(b *testing.B, from, to int) time.Duration {
		t0 := time.Now()
		d := ch(b, from, to)
		if v.debug && os.Getenv("FLOOR_TRACE") != "" {
			var tl strings.Builder
			for _, l := range p.out.since(t0, "") {
				fmt.Fprintf(&tl, "%6.1f ms %.200s\n", float64(l.at.Sub(t0).Microseconds())/1000, l.text)
			}
			fmt.Printf("%s %s change %d→%d live at %.1f ms:\n%s", sys, v.name, from, to, float64(d.Microseconds())/1000, tl.String())
		}
		return d
	}
	return en
}

// writeChange writes state to's rancher.toml at path and waits for it.
func writeChange(f oursFiles, path, stage, url string) func(*testing.B, int, int) time.Duration {
	return func(b *testing.B, from, to int) time.Duration {
		t0 := time.Now()
		if _, err := atomicfile.WriteStaged(path, stage, []byte(f.dynamic[to]["rancher.toml"]), 0o644); err != nil {
			b.Fatal(err)
		}
		states := liveStates()
		return waitLive(b, plainClient(), url, states[from], states[to], t0)
	}
}

// oursEndToEnd is rancher-traefik on the emulator: a change is the
// emulator's (e.next); the rename of rancher.toml is marked too.
func oursEndToEnd(b *testing.B, e *benchEmulator, metaAddr string) *floorEntrant {
	p, url := ours(nil)(b, nil, metaAddr)
	c := plainClient()
	waitServing(b, p, c, url, liveStates()[e.state])
	renames := watchRenames(b, filepath.Join(oursHome[p], "etc", "dynamic"), "rancher.toml")
	en := &floorEntrant{files: "rancher-traefik end to end (emulator change → live)", sys: "v3 (its child)"}
	en.change = func(b *testing.B, from, _ int) time.Duration {
		if e.state != from {
			b.Fatalf("the emulator is at state %d, not %d", e.state, from)
		}
		t0 := time.Now()
		before, after := e.next()
		d := waitLive(b, c, url, before, after, t0)
		if r := renames.first(t0); !r.IsZero() {
			en.renamed = append(en.renamed, t0.Add(d).Sub(r))
		}
		return d
	}
	return en
}

// oursChild is rancher-traefik with discovery off, its Traefik child
// serving the file the benchmark writes into its dynamic directory
// (bench.toml; rancher.toml is discovery's): Traefik as rancher-traefik
// runs it, without rancher-traefik's own work at a change.
func oursChild(b *testing.B, f oursFiles) *floorEntrant {
	i := newInstance(b, map[string]string{"TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_ACCESS_LOG": "false"})
	stage := b.TempDir()
	path := filepath.Join(i.home, "etc", "dynamic", "bench.toml")
	i.start("run")
	i.waitReady()
	url := fmt.Sprintf("http://127.0.0.1:%d/", i.httpPort)
	if _, err := atomicfile.WriteStaged(path, stage, []byte(f.dynamic[0]["rancher.toml"]), 0o644); err != nil {
		b.Fatal(err)
	}
	waitServing(b, &benchProc{done: i.done, cmd: i.cmd}, plainClient(), url, liveStates()[0])
	return &floorEntrant{files: "as rendered, in rancher-traefik's own directory", sys: "v3 (its child, discovery off)", change: writeChange(f, path, stage, url)}
}

// BenchmarkApplyFloor feeds Traefik v3 (bin/traefik) and Traefik v2
// (bin/traefik2) the same files — what rancher-traefik renders for the
// bench environment of 10 and of 1,000 services, static and dynamic, and
// variants with one candidate cause taken out — and times write→live for
// each: the rename of rancher.toml to the new container answering (or,
// for a removal, 6 answers in a row from the others), as
// BenchmarkChangeToLiveScale judges it. Every Traefik runs at once and the
// changes are interleaved (change c goes to each in turn, the order
// rotating), so the machine's load falls on all alike. Beside them:
// rancher-traefik end to end on the emulator (and, of that, the rename of
// rancher.toml → live), and rancher-traefik with discovery off serving the
// file the benchmark writes (Traefik as its child). FLOOR_TRACE=1 adds
// debug-log variants and prints each of their changes with Traefik's log
// lines stamped from the write.
func BenchmarkApplyFloor(b *testing.B) {
	benchBackends(b, nil)
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) { applyFloor(b, n) })
	}
}

func applyFloor(b *testing.B, n int) {
	metaAddr := fmt.Sprintf("127.0.0.1:%d", freePort(b))
	e := newEmulator(b, nil, n, metaAddr)
	f := captureOurs(b, e, metaAddr)
	bins := [][2]string{{"v3", traefikBin}}
	if _, err := os.Stat(traefik2Bin()); err == nil {
		bins = append(bins, [2]string{"v2", traefik2Bin()})
	} else {
		fmt.Printf("Traefik v2 skipped: no %s (make traefik2)\n", traefik2Bin())
	}
	ts := []*floorEntrant{oursEndToEnd(b, e, metaAddr), oursChild(b, f)}
	for _, v := range floorVariants() {
		for _, bin := range bins {
			ts = append(ts, floorTraefik(b, bin[0], bin[1], v, f))
		}
	}
	states := liveStates()
	changes := benchChanges()
	for c := range changes {
		from, to := c%len(states), (c+1)%len(states)
		for k := range ts {
			t := ts[(k+c)%len(ts)]
			t.lat = append(t.lat, t.change(b, from, to))
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("\nwrite→live (s), the files rancher-traefik renders at %d services, %d changes each, interleaved; %s, %d cores, load %s\n",
		n, changes, time.Now().Format("2006-01-02 15:04"), runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:3], " "))
	fmt.Printf("| files | Traefik | median | p95 | max |\n|---|---|---:|---:|---:|\n")
	for _, t := range ts {
		s := statsOf(t.lat)
		fmt.Printf("| %s | %s | %s | %s | %s |\n", t.files, t.sys, secs(s.med), secs(s.p95), secs(s.max))
		if len(t.renamed) > 0 {
			s := statsOf(t.renamed)
			fmt.Printf("| … of which rename of rancher.toml → live (%d marked) | %s | %s | %s | %s |\n", len(t.renamed), t.sys, secs(s.med), secs(s.p95), secs(s.max))
		}
	}
}
