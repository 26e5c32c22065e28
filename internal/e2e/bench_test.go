package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"rancher-traefik/internal/metadataserver"
)

// untilAnswered polls url (Host host) until a 200 whose body starts with
// prefix, and returns the time since t0.
func untilAnswered(b *testing.B, client *http.Client, url, host, prefix string, t0 time.Time) time.Duration {
	b.Helper()
	for {
		code, body, err := get(client, url, http.Header{"Host": {host}})
		if err == nil && code == 200 && strings.HasPrefix(body, prefix) {
			return time.Since(t0)
		}
		if time.Since(t0) > 60*time.Second {
			b.Fatalf("%s never answered %q", host, prefix)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

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
				lat = append(lat, untilAnswered(b, client, fmt.Sprintf("http://127.0.0.1:%d/", i.httpPort), host, "bench", t0))
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

// rssKB reads a process's resident set size.
func rssKB(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseFloat(f[1], 64)
			return n
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// BenchmarkSupervisorRSS reports rancher-traefik's resident memory while the
// real Traefik idles beside it (Traefik's own for scale).
func BenchmarkSupervisorRSS(b *testing.B) {
	var ours, theirs []float64
	for n := 0; n < b.N; n++ {
		i := newInstance(b, nil)
		i.withCert("rss.example.com")
		i.start("run")
		i.waitReady()
		time.Sleep(time.Second)
		ours = append(ours, rssKB(b, i.cmd.Process.Pid))
		if c := children(i.cmd.Process.Pid); len(c) == 1 {
			theirs = append(theirs, rssKB(b, c[0]))
		}
		i.signal(syscall.SIGTERM)
		i.wait(20 * time.Second)
	}
	slices.Sort(ours)
	slices.Sort(theirs)
	b.ReportMetric(ours[len(ours)/2]/1024, "MB-rancher-traefik")
	if len(theirs) > 0 {
		b.ReportMetric(theirs[len(theirs)/2]/1024, "MB-traefik")
	}
}

// BenchmarkSignalRelay measures from kill(2) on rancher-traefik to the
// child's handler running.
func BenchmarkSignalRelay(b *testing.B) {
	i := newInstance(b, map[string]string{"TRAEFIK_BINARY": fakeBin, "TRAEFIK_CHILD_ENV": "FAKE_SIGNAL_TIMES"})
	times := filepath.Join(i.dir, "times")
	i.env["FAKE_SIGNAL_TIMES"] = times
	i.start("run")
	i.waitLog(0, "traefik started", 10*time.Second)
	time.Sleep(100 * time.Millisecond)
	var lat []time.Duration
	for n := 0; n < b.N; n++ {
		t0 := time.Now()
		i.signal(syscall.SIGUSR1)
		var last string
		for {
			raw, _ := os.ReadFile(times)
			lines := strings.Fields(string(raw))
			if len(lines) == n+1 {
				last = lines[n]
				break
			}
			if time.Since(t0) > 10*time.Second {
				b.Fatalf("signal %d never arrived", n)
			}
			time.Sleep(100 * time.Microsecond)
		}
		ns, _ := strconv.ParseInt(last, 10, 64)
		lat = append(lat, time.Unix(0, ns).Sub(t0))
	}
	b.ReportMetric(float64(quantile(lat, 0.5).Microseconds()), "µs-median")
	b.ReportMetric(float64(quantile(lat, 0.99).Microseconds()), "µs-p99")
}

// BenchmarkStopIdle measures SIGTERM to exit with an idle real Traefik.
func BenchmarkStopIdle(b *testing.B) {
	var lat []time.Duration
	for n := 0; n < b.N; n++ {
		i := newInstance(b, nil)
		i.start("run")
		i.waitReady()
		t0 := time.Now()
		i.signal(syscall.SIGTERM)
		if code := i.wait(20 * time.Second); code != 0 {
			b.Fatalf("exit %d", code)
		}
		lat = append(lat, time.Since(t0))
	}
	b.ReportMetric(float64(quantile(lat, 0.5).Milliseconds()), "ms-median")
	b.ReportMetric(float64(quantile(lat, 0.95).Milliseconds()), "ms-p95")
}

// BenchmarkChangeToLive measures, with the default settings, the time from
// the change in Rancher (the emulator reloading a scaled stack, which bumps
// the metadata version and sends the API's events) to the first request
// answered by the new container, through the real Traefik: from the
// metadata service, from the API with events, and from the API polling.
func BenchmarkChangeToLive(b *testing.B) {
	for _, mode := range []string{"metadata", "api-events", "api-polling"} {
		b.Run(mode, func(b *testing.B) { changeToLive(b, mode) })
	}
}

func changeToLive(b *testing.B, mode string) {
	ips := []string{"127.0.0.31", "127.0.0.32", "127.0.0.33", "127.0.0.34"}
	backends(b, ips...)
	a, err := metadataserver.Parse([]byte(whoamiStack(ips[0])))
	if err != nil {
		b.Fatal(err)
	}
	srv := metadataserver.New(a, slog.New(slog.NewTextHandler(io.Discard, nil)))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = srv.Serve(ctx, l) }()
	env := map[string]string{"TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_ACCESS_LOG": "false"}
	if mode == "metadata" {
		env["TRAEFIK_RANCHER_MODE"] = "metadata"
		env["TRAEFIK_RANCHER_METADATA_URL"] = "http://" + l.Addr().String() + "/2016-07-29"
	} else {
		srv.API = &metadataserver.APIKeys{Access: "AK", Secret: "SK", NoEvents: mode == "api-polling"}
		env["TRAEFIK_RANCHER_MODE"] = "api"
		env["TRAEFIK_RANCHER_ENDPOINT"] = "http://" + l.Addr().String() + "/v1"
		env["TRAEFIK_RANCHER_ACCESSKEY"] = "AK"
		env["TRAEFIK_RANCHER_SECRET"] = "SK"
	}
	i := newInstance(b, env)
	i.start("run")
	i.waitReady()
	client := plainClient()
	url := fmt.Sprintf("http://127.0.0.1:%d/", i.httpPort)
	eventually(b, 20*time.Second, "first route", func() error {
		code, body, err := get(client, url, http.Header{"Host": {"whoami.example.com"}})
		if err != nil || code != 200 || !strings.HasPrefix(body, ips[0]) {
			return fmt.Errorf("%d %q %v", code, body, err)
		}
		return nil
	})
	var lat []time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		next := ips[(n+1)%len(ips)]
		a, err := metadataserver.Parse([]byte(whoamiStack(next)))
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		srv.Set(a)
		lat = append(lat, untilAnswered(b, client, url, "whoami.example.com", next, t0))
	}
	b.StopTimer()
	b.ReportMetric(float64(quantile(lat, 0.5).Milliseconds()), "ms-median")
	b.ReportMetric(float64(quantile(lat, 0.95).Milliseconds()), "ms-p95")
}
