package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"rancher-traefik/internal/metadataserver"
	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/routes"
	"rancher-traefik/internal/teststack"
)

// benchTree is the JSON the metadata service answers for teststack.Scale:
// the root tree, its version and its stacks, by path.
func benchTree(b *testing.B, n int, changed bool) map[string][]byte {
	a, err := metadataserver.Parse([]byte(teststack.Scale(n, changed)))
	if err != nil {
		b.Fatal(err)
	}
	root := a["2016-07-29"]["default"]
	out := map[string][]byte{}
	for path, v := range map[string]any{"": root, "/version": root.(map[string]any)["version"], "/stacks": root.(map[string]any)["stacks"]} {
		if out[path], err = json.Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

// pipelineFigures are one size's averages, for the summary.
type pipelineFigures struct {
	services int
	st       stages
	total    time.Duration
	allocs   float64
	mb       float64
}

// BenchmarkPipeline measures one publish of 10, 1,000 and 10,000 services
// (3 containers each) through our whole pipeline: fetch and decode of the
// metadata version and stacks (served pre-rendered on loopback, so the emulator's own
// JSON encoding is not counted), build, diff, encode and write. Each
// iteration is a change: the answer alternates between two trees that
// differ in one container. It reports every stage per publish and prints a
// summary table with the 10,000 / 1,000 ratio. Returning a large
// publish's memory to the system waits for a quiet second (releaseDelay):
// changes in a row, as here, do not pay for it.
func BenchmarkPipeline(b *testing.B) {
	var figs []pipelineFigures
	for _, n := range []int{10, 1000, 10000} {
		trees := []map[string][]byte{benchTree(b, n, false), benchTree(b, n, true)}
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			figs = append(figs, benchPipeline(b, n, trees))
		})
	}
	if len(figs) == 0 {
		return
	}
	var t strings.Builder
	fmt.Fprintf(&t, "\n%9s %9s %9s %9s %9s %9s %10s %10s %8s\n", "services", "fetch ms", "build ms", "diff ms", "encode ms", "write ms", "total ms", "allocs/op", "MB/op")
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	for _, f := range figs {
		fmt.Fprintf(&t, "%9d %9.2f %9.2f %9.2f %9.2f %9.2f %10.2f %10.0f %8.1f\n", f.services,
			ms(f.st.fetch), ms(f.st.build), ms(f.st.diff), ms(f.st.encode), ms(f.st.write), ms(f.total), f.allocs, f.mb)
	}
	if len(figs) == 3 && figs[1].total > 0 {
		fmt.Fprintf(&t, "10,000 / 1,000 services: %.1f×\n", float64(figs[2].total)/float64(figs[1].total))
	}
	// b.Log is not printed for a benchmark with sub-benchmarks without -v.
	fmt.Print(t.String())
}

func benchPipeline(b *testing.B, n int, trees []map[string][]byte) pipelineFigures {
	var served atomic.Int64 // a change a snapshot: each asks the version first
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.Path, "/2016-07-29")
		if path == "/version" || path == "" {
			served.Add(1)
		}
		body, ok := trees[served.Load()%2][path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer ts.Close()
	p := &Publisher{
		Source: &rancher.Client{Base: ts.URL + "/2016-07-29"}, Options: routes.Options{Domain: "example.com", HTTPS: true},
		Path: filepath.Join(b.TempDir(), "rancher.toml"), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	defer p.cancelRelease()
	ctx := context.Background()
	if err := p.refresh(ctx); err != nil { // the first publish writes every route
		b.Fatal(err)
	}
	var sum stages
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := p.refresh(ctx); err != nil {
			b.Fatal(err)
		}
		sum.fetch += p.stages.fetch
		sum.build += p.stages.build
		sum.diff += p.stages.diff
		sum.encode += p.stages.encode
		sum.write += p.stages.write + p.stages.deliver // credential files: none here
	}
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	per := func(d time.Duration) time.Duration { return d / time.Duration(b.N) }
	f := pipelineFigures{services: n, total: b.Elapsed() / time.Duration(b.N),
		st:     stages{fetch: per(sum.fetch), build: per(sum.build), diff: per(sum.diff), encode: per(sum.encode), write: per(sum.write)},
		allocs: float64(m1.Mallocs-m0.Mallocs) / float64(b.N), mb: float64(m1.TotalAlloc-m0.TotalAlloc) / float64(b.N) / (1 << 20)}
	for _, s := range []struct {
		unit string
		d    time.Duration
	}{{"ms-fetch", f.st.fetch}, {"ms-build", f.st.build}, {"ms-diff", f.st.diff}, {"ms-encode", f.st.encode}, {"ms-write", f.st.write}} {
		b.ReportMetric(float64(s.d.Microseconds())/1000, s.unit)
	}
	return f
}

// BenchmarkIndexRouters measures the diff stage's index of one publish at
// 10,000 services: made from the encoded items (indexEncoded, what a
// publish does), and by reading the routes file back (indexRouters, for a
// file left by an earlier run or a held removal's union).
func BenchmarkIndexRouters(b *testing.B) {
	snap, err := rancher.Decode(benchTree(b, 10000, false)[""])
	if err != nil {
		b.Fatal(err)
	}
	built := routes.BuildEncoded(snap, routes.Options{Domain: "example.com", HTTPS: true}, routes.EncodeOptions{})
	enc, err := built.TOML()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("items", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			indexEncoded(built)
		}
	})
	b.Run("file", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := indexRouters(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
