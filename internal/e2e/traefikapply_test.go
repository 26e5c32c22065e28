package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"rancher-traefik/internal/atomicfile"
	"rancher-traefik/internal/tomlenc"
)

// applyThrottle is TRAEFIK_PROVIDERS_THROTTLE's default, so the figures
// are Traefik's read and apply, not a wait.
const applyThrottle = "50ms"

// applyConfig is n services (3 servers each, a Host rule each) plus "live",
// whose one server is liveURL; part k of parts holds every service i with
// i%parts == k (live is in part 0).
func applyConfig(n, parts, k int, shared []string, liveURL string) map[string]any {
	routers, services := map[string]any{}, map[string]any{}
	for i := range n {
		if i%parts != k {
			continue
		}
		name := fmt.Sprintf("s%d", i)
		routers[name] = map[string]any{"rule": fmt.Sprintf("Host(`svc%d.example.com`)", i), "service": name, "entryPoints": []string{"web"}}
		var servers []map[string]any
		for c := range 3 {
			servers = append(servers, map[string]any{"url": "http://" + shared[(i+c)%len(shared)]})
		}
		services[name] = map[string]any{"loadBalancer": map[string]any{"servers": servers}}
	}
	if k == 0 {
		routers["live"] = map[string]any{"rule": "Host(`" + liveHost + "`)", "service": "live", "entryPoints": []string{"web"}}
		services["live"] = map[string]any{"loadBalancer": map[string]any{"servers": []map[string]any{{"url": "http://" + liveURL}}}}
	}
	return map[string]any{"http": map[string]any{"routers": routers, "services": services}}
}

// applyVariant is one way of handing Traefik the configuration.
type applyVariant struct {
	name  string
	ext   string // file extension; "" for the REST provider
	parts int
	enc   func(map[string]any) ([]byte, error)
	// tmpOutside writes the temporary file beside the watched directory
	// rather than in it: Traefik's file provider re-reads the whole
	// directory on every event in it, the temporary file's writes included.
	tmpOutside bool
}

var applyVariants = []applyVariant{
	{"TOML, one file", ".toml", 1, encTOML, false},
	{"TOML, one file, temporary file outside the watched directory", ".toml", 1, encTOML, true},
	{"YAML, one file", ".yaml", 1, encYAML, false},
	{"JSON (as .yaml), one file", ".yaml", 1, encJSON, false},
	{"TOML, 10 files (one rewritten)", ".toml", 10, encTOML, false},
	{"REST provider (PUT, JSON)", "", 1, encJSON, false},
}

func encTOML(m map[string]any) ([]byte, error) {
	var b bytes.Buffer
	err := tomlenc.Encode(&b, m)
	return b.Bytes(), err
}

func encJSON(m map[string]any) ([]byte, error) { return json.Marshal(m) }

// BenchmarkTraefikApply measures how long the real Traefik v3 takes to
// serve a configuration of 10, 1,000 and 10,000 services: the first load, and
// a change of one service's server in a full configuration (what a
// scaled container costs), by file format, one file or ten, and through
// the REST provider (PUT /api/providers/rest). Timed from the first byte
// written (or the PUT) to the live service answering from its new server;
// encoding is done before. The change count is benchChanges, at most
// 10: a change at 10,000 services takes seconds, five ways, two sizes.
func BenchmarkTraefikApply(b *testing.B) {
	shared := []string{backend(b, "127.0.0.61", "shared", 0), backend(b, "127.0.0.62", "shared", 0), backend(b, "127.0.0.63", "shared", 0)}
	live := []string{backend(b, "127.0.0.64", "A", 0), backend(b, "127.0.0.65", "B", 0)}
	changes := min(benchChanges(), 10)
	type row struct {
		n       int
		variant string
		bytes   int
		first   time.Duration
		change  stats
	}
	var rows []row
	for _, n := range []int{10, 1000, 10000} {
		for _, v := range applyVariants {
			b.Run(fmt.Sprintf("services=%d/%s", n, strings.NewReplacer(" ", "_", ",", "", "temporary_file_outside_the_watched_directory", "tmp_outside").Replace(v.name)), func(b *testing.B) {
				// Bodies for both live servers, encoded before anything is timed.
				var bodies [2][][]byte
				size := 0
				for s := range 2 {
					for k := range v.parts {
						body, err := v.enc(applyConfig(n, v.parts, k, shared, live[s]))
						if err != nil {
							b.Fatal(err)
						}
						bodies[s] = append(bodies[s], body)
						if s == 0 {
							size += len(body)
						}
					}
				}
				a := startApplyTraefik(b, v)
				first := a.push(b, bodies[0], true, "A")
				var lat []time.Duration
				for c := range changes {
					s := (c + 1) % 2
					lat = append(lat, a.push(b, bodies[s][:1], false, []string{"A", "B"}[s]))
				}
				st := statsOf(lat)
				rows = append(rows, row{n, v.name, size, first, st})
				b.ReportMetric(float64(first.Milliseconds()), "ms-first-load")
				b.ReportMetric(float64(st.med.Milliseconds()), "ms-change-median")
			})
		}
	}
	fmt.Printf("\nTraefik %s applying a configuration (s), providersThrottleDuration %s, %d changes each; %s, %d cores\n", "v3 (bin/traefik)", applyThrottle, changes, time.Now().Format("2006-01-02"), runtime.NumCPU())
	fmt.Printf("| services | how | size (MB) | first load | change median | change p95 | change max |\n|---:|---|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Printf("| %d | %s | %.2f | %s | %s | %s | %s |\n", r.n, r.variant, float64(r.bytes)/1e6, secs(r.first), secs(r.change.med), secs(r.change.p95), secs(r.change.max))
	}
}

// applyTraefik is a Traefik v3 with a file or REST provider.
type applyTraefik struct {
	p        *benchProc
	v        applyVariant
	dir      string // the file provider's directory
	tmpDir   string // beside it, on the same file system
	web, api int
	client   *http.Client
}

func startApplyTraefik(b *testing.B, v applyVariant) *applyTraefik {
	base := b.TempDir()
	a := &applyTraefik{v: v, dir: filepath.Join(base, "dynamic"), tmpDir: filepath.Join(base, "tmp"), web: freePort(b), api: freePort(b), client: plainClient()}
	for _, d := range []string{a.dir, a.tmpDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	provider := fmt.Sprintf("[providers.file]\n  directory = %q\n  watch = true\n", a.dir)
	if v.ext == "" {
		provider = "[providers.rest]\n  insecure = true\n"
	}
	static := bareStatic(a.web, a.api, fmt.Sprintf("  providersThrottleDuration = %q\n", applyThrottle)+provider)
	cfg := filepath.Join(b.TempDir(), "traefik.toml")
	if err := os.WriteFile(cfg, []byte(static), 0o644); err != nil {
		b.Fatal(err)
	}
	a.p = startProc(b, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + a.dir}, traefikBin, "--configFile="+cfg)
	t0 := time.Now()
	for {
		a.p.exited(b)
		if code, _, err := get(a.client, fmt.Sprintf("http://127.0.0.1:%d/ping", a.api), nil); err == nil && code == 200 {
			return a
		}
		if time.Since(t0) > 60*time.Second {
			b.Fatalf("Traefik never answered /ping\n%s", a.p.out.tail(40))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// push hands Traefik bodies (every part when all, else part 0) and returns
// the time until the live service answers from want.
func (a *applyTraefik) push(b *testing.B, bodies [][]byte, all bool, want string) time.Duration {
	t0 := time.Now()
	if a.v.ext == "" {
		req, err := http.NewRequest(http.MethodPut, fmt.Sprintf("http://127.0.0.1:%d/api/providers/rest", a.api), bytes.NewReader(bodies[0]))
		if err != nil {
			b.Fatal(err)
		}
		resp, err := a.client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("PUT /api/providers/rest: %s", resp.Status)
		}
	} else {
		// Part 0 (the live service's) last: on a first load, the live
		// service answering then means every part was read.
		for k := len(bodies) - 1; k >= 0; k-- {
			if !all && k > 0 {
				continue
			}
			// As rancher-traefik writes: atomicfile, staged or beside.
			path := filepath.Join(a.dir, fmt.Sprintf("part%d%s", k, a.v.ext))
			stage := ""
			if a.v.tmpOutside {
				stage = a.tmpDir
			}
			if _, err := atomicfile.WriteStaged(path, stage, bodies[k], 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	for time.Since(t0) < liveLimit {
		code, body, err := get(a.client, fmt.Sprintf("http://127.0.0.1:%d/", a.web), http.Header{"Host": {liveHost}})
		if err == nil && code == 200 && strings.HasPrefix(body, want+" ") {
			return time.Since(t0)
		}
		time.Sleep(time.Millisecond)
	}
	b.Fatalf("%s: the live service never answered %s in %v\n%s", a.v.name, want, liveLimit, a.p.out.tail(40))
	return 0
}

func encYAML(m map[string]any) ([]byte, error) { return yaml.Marshal(m) }
