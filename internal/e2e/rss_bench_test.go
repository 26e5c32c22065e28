package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"rancher-traefik/internal/metadataserver"
	"rancher-traefik/internal/teststack"
)

// procStatusKB reads a field (VmRSS, VmHWM) of a process's status, in kB.
func procStatusKB(b *testing.B, pid int, field string) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == field+":" {
			n, _ := strconv.ParseFloat(f[1], 64)
			return n
		}
	}
	b.Fatalf("no %s", field)
	return 0
}

// BenchmarkPublishRSS reports rancher-traefik's own resident memory with
// 10,000 services (3 containers each) from the emulator: idle (a few
// seconds after the first publish, and after a change) and peak (the
// kernel's high-water mark over the first publish and 3 changes). The
// child is fakechild: Traefik's memory is not ours.
func BenchmarkPublishRSS(b *testing.B) {
	const n = 10000
	answers := make([]metadataserver.Answers, 2)
	for k := range answers {
		a, err := metadataserver.Parse([]byte(teststack.Scale(n, k == 1)))
		if err != nil {
			b.Fatal(err)
		}
		answers[k] = a
	}
	var idle, anon, idleAfter, peak []float64
	for range b.N {
		srv := metadataserver.New(answers[0], slog.New(slog.NewTextHandler(io.Discard, nil)))
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { _ = srv.Serve(ctx, l) }()
		env := map[string]string{
			"TRAEFIK_BINARY": fakeBin, "TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_ACCESS_LOG": "false",
			"TRAEFIK_RANCHER_MODE": "metadata", "TRAEFIK_RANCHER_METADATA_URL": "http://" + l.Addr().String() + "/2016-07-29",
		}
		if v := os.Getenv("BENCH_GOMEMLIMIT"); v != "" { // to measure a limit: BENCH_GOMEMLIMIT=40MiB
			env["GOMEMLIMIT"] = v
		}
		i := newInstance(b, env)
		i.start("run")
		i.waitLog(0, fmt.Sprintf("routers=%d ", n), 5*time.Minute)
		pid := i.cmd.Process.Pid
		// Idle is what the process holds once it has settled: measured
		// after a fixed time, the quantity itself, not a wait for a signal.
		time.Sleep(5 * time.Second)
		idle = append(idle, procStatusKB(b, pid, "VmRSS"))
		anon = append(anon, procStatusKB(b, pid, "RssAnon"))
		for c := 1; c <= 3; c++ {
			mark := len(i.stderr.String())
			srv.Set(answers[c%2])
			i.waitLog(mark, "changed=1 ", 5*time.Minute)
		}
		time.Sleep(5 * time.Second)
		idleAfter = append(idleAfter, procStatusKB(b, pid, "VmRSS"))
		peak = append(peak, procStatusKB(b, pid, "VmHWM"))
		i.signal(15)
		i.wait(20 * time.Second)
		cancel()
	}
	med := func(xs []float64) float64 { return quantileF(xs, 0.5) / 1024 }
	b.ReportMetric(med(idle), "MB-idle")
	b.ReportMetric(med(anon), "MB-idle-anon")
	b.ReportMetric(med(idleAfter), "MB-idle-after-changes")
	b.ReportMetric(med(peak), "MB-peak")
}

func quantileF(xs []float64, q float64) float64 {
	s := append([]float64(nil), xs...)
	for a := 1; a < len(s); a++ {
		for c := a; c > 0 && s[c] < s[c-1]; c-- {
			s[c], s[c-1] = s[c-1], s[c]
		}
	}
	return s[int(q*float64(len(s)-1)+0.5)]
}
