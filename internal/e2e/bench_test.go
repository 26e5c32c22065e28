package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// quantile returns the q-quantile of ds (sorted in place).
func quantile(ds []time.Duration, q float64) time.Duration {
	slices.Sort(ds)
	if len(ds) == 0 {
		return 0
	}
	return ds[int(q*float64(len(ds)-1)+0.5)]
}

// BenchmarkFileToLive measures how long a dynamic file renamed into the
// watched directory takes to become a live route, for several values of
// TRAEFIK_PROVIDERS_THROTTLE. It chose the default.
func BenchmarkFileToLive(b *testing.B) {
	for _, throttle := range []string{"10ms", "50ms", "200ms", "2s"} {
		b.Run("throttle="+throttle, func(b *testing.B) {
			i := newInstance(b, map[string]string{"TRAEFIK_PROVIDERS_THROTTLE": throttle, "TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_ACCESS_LOG": "false"})
			addr := backend(b, "127.0.0.4", "bench", 0)
			i.start("run")
			i.waitReady()
			client := plainClient()
			var lat []time.Duration
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				host := fmt.Sprintf("h%d.example.com", n)
				t0 := time.Now()
				i.writeDynamic("bench.toml", route("bench", host, "http", addr))
				for {
					code, _, err := get(client, fmt.Sprintf("http://127.0.0.1:%d/", i.httpPort), http.Header{"Host": {host}})
					if err == nil && code == 200 {
						break
					}
					if time.Since(t0) > 30*time.Second {
						b.Fatalf("route %s never went live", host)
					}
					time.Sleep(2 * time.Millisecond)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			b.ReportMetric(float64(quantile(lat, 0.5).Milliseconds()), "ms-median")
			b.ReportMetric(float64(quantile(lat, 0.95).Milliseconds()), "ms-p95")
		})
	}
}

// BenchmarkStartOverhead measures the time from exec of rancher-traefik to
// the start of its child (preparing secrets, certificates and traefik.toml
// included). The child is fakechild, which records when it starts.
func BenchmarkStartOverhead(b *testing.B) {
	i := newInstance(b, nil)
	i.withCert("bench.example.com")
	started := filepath.Join(i.dir, "started")
	i.env["TRAEFIK_BINARY"] = fakeBin
	i.env["TRAEFIK_CHILD_ENV"] = "FAKE_STARTED,FAKE_EXIT"
	i.env["FAKE_STARTED"] = started
	i.env["FAKE_EXIT"] = "0"
	i.env["TRAEFIK_RESTART"] = "never"
	var lat []time.Duration
	for n := 0; n < b.N; n++ {
		_ = os.Remove(started)
		cmd := exec.Command(ourBin, "run")
		cmd.Env = i.environ()
		t0 := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("run: %v\n%s", err, out)
		}
		raw, err := os.ReadFile(started)
		if err != nil {
			b.Fatal(err)
		}
		ns, err := strconv.ParseInt(strings.Fields(string(raw))[1], 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Unix(0, ns).Sub(t0))
	}
	b.ReportMetric(float64(quantile(lat, 0.5).Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(quantile(lat, 0.95).Microseconds())/1000, "ms-p95")
}
