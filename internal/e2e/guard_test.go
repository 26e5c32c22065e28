package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// load sends requests from a few workers until ended, counting every
// outcome by cause ("200", "404", "502", "error") and when each cause was
// first seen.
type load struct {
	t      *testing.T
	mu     sync.Mutex
	counts map[string]int
	first  map[string]time.Time
	total  int
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startLoad sends GET url with Host host to 127.0.0.1:port from workers
// goroutines, over keep-alive connections, each bounded in count.
func startLoad(t *testing.T, port int, host string, workers int) *load {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{t: t, counts: map[string]int{}, first: map[string]time.Time{}, cancel: cancel}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	for range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for n := 0; n < 1_000_000 && ctx.Err() == nil; n++ {
				code, _, err := get(client, url, http.Header{"Host": {host}})
				cause := strconv.Itoa(code)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					cause = "error"
				}
				l.record(cause)
			}
		}()
	}
	t.Cleanup(l.end)
	return l
}

func (l *load) record(cause string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts[cause]++
	l.total++
	if _, seen := l.first[cause]; !seen {
		l.first[cause] = time.Now()
	}
}

// more waits until n more requests have been answered.
func (l *load) more(n int) {
	l.t.Helper()
	l.mu.Lock()
	target := l.total + n
	l.mu.Unlock()
	eventually(l.t, 60*time.Second, fmt.Sprintf("%d more requests", n), func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.total < target {
			return fmt.Errorf("%d of %d", l.total, target)
		}
		return nil
	})
}

func (l *load) end() {
	l.cancel()
	l.wg.Wait()
}

// result is the counts by cause, and when a cause was first seen.
func (l *load) result() (map[string]int, map[string]time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	counts, first := map[string]int{}, map[string]time.Time{}
	for k, v := range l.counts {
		counts[k] = v
	}
	for k, v := range l.first {
		first[k] = v
	}
	return counts, first
}

// guardInstance runs rancher-traefik with the real Traefik over HTTP on
// the emulator serving whoami on ips, with the given guard hold, and
// returns once whoami answers.
func guardInstance(t *testing.T, hold string, ips ...string) (*instance, *emulator) {
	t.Helper()
	backends(t, ips...)
	i := newInstance(t, map[string]string{"TRAEFIK_RANCHER_MODE": "metadata", "TRAEFIK_HTTPS_ENABLE": "false",
		"TRAEFIK_RANCHER_GUARD_HOLD": hold, "TRAEFIK_RANCHER_DOMAIN": "example.com", "TRAEFIK_LOG_LEVEL": "DEBUG"})
	m := startEmulator(t, i.dir, whoamiStack(ips...))
	i.env["TRAEFIK_RANCHER_METADATA_URL"] = m.url()
	i.start("run")
	i.waitReady()
	eventually(t, 20*time.Second, "whoami routed", func() error {
		code, _, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/", i.httpPort), http.Header{"Host": {"whoami.example.com"}})
		if err != nil || code != 200 {
			return fmt.Errorf("%d %v", code, err)
		}
		return nil
	})
	return i, m
}

const (
	logHeld      = `msg="an answer removes TRAEFIK_RANCHER_GUARD of the routes or more: keeping them for TRAEFIK_RANCHER_GUARD_HOLD`
	logStillHeld = `msg="the removal is still held"`
	logCancel    = `msg="an answer restores the routes: the held removal is cancelled"`
	logApplied   = `msg="the removal still stands at the end of the hold: applying it"`
)

// TestGuardHoldUnderLoad: Rancher's metadata serving an empty tree (as it
// can while it restarts) for less than the guard hold costs no request;
// one that stands longer than the hold is applied once, at its end, and
// the log said when. Real Traefik, the emulator, backends and a load
// client on loopback.
func TestGuardHoldUnderLoad(t *testing.T) {
	ips := []string{"127.0.0.61", "127.0.0.62"}
	t.Run("an empty answer shorter than the hold: no failed request", func(t *testing.T) {
		// A hold far longer than the glitch, however slow the machine.
		i, m := guardInstance(t, "10m", ips...)
		l := startLoad(t, i.httpPort, "whoami.example.com", 4)
		l.more(200)
		mark := len(i.stderr.String())
		m.write("stacks: []\n")
		i.waitLog(mark, logHeld, 20*time.Second)
		l.more(250)
		// A second empty answer, of a new version (a resync): it does not
		// confirm the removal, as it did when a second answer sufficed.
		m.write("# resyncing\nstacks: []\n")
		i.waitLog(mark, logStillHeld, 20*time.Second)
		l.more(250) // served while Rancher says there is nothing
		m.write(whoamiStack(ips...))
		i.waitLog(mark, logCancel, 20*time.Second)
		l.more(200)
		l.end()
		counts, _ := l.result()
		t.Logf("requests by outcome: %v", counts)
		if len(counts) != 1 || counts["200"] < 900 {
			t.Errorf("requests by outcome %v, want only 200s", counts)
		}
		if strings.Contains(i.stderr.String()[mark:], logApplied) {
			t.Error("the removal was applied")
		}
	})
	t.Run("an empty answer longer than the hold: applied once, at its end", func(t *testing.T) {
		const hold = 2 * time.Second
		i, m := guardInstance(t, hold.String(), ips...)
		l := startLoad(t, i.httpPort, "whoami.example.com", 4)
		l.more(200)
		mark := len(i.stderr.String())
		written := time.Now()
		m.write("stacks: []\n")
		i.waitLog(mark, logApplied, 30*time.Second)
		eventually(t, 20*time.Second, "404 once the routes are gone", func() error {
			if counts, _ := l.result(); counts["404"] == 0 {
				return fmt.Errorf("no 404 yet: %v", counts)
			}
			return nil
		})
		l.more(100)
		l.end()
		counts, first := l.result()
		t.Logf("requests by outcome: %v; first 404 %v after the empty answer", counts, first["404"].Sub(written).Round(time.Millisecond))
		if len(counts) != 2 || counts["200"] < 200 {
			t.Errorf("requests by outcome %v, want 200s, then 404s", counts)
		}
		if took := first["404"].Sub(written); took < hold {
			t.Errorf("the first 404 came %v after the empty answer, within the %v hold", took, hold)
		}
		out := i.stderr.String()[mark:]
		if strings.Count(out, logHeld) != 1 || strings.Count(out, logApplied) != 1 {
			t.Errorf("held %d times and applied %d times, want once each:\n%s", strings.Count(out, logHeld), strings.Count(out, logApplied), out)
		}
		// The warning said when: the removal applied then, not before.
		appliesAt, applied := logTime(t, out, logHeld, "applies_at"), logTime(t, out, logApplied, "time")
		if applied.Before(appliesAt) {
			t.Errorf("applied at %v, before the announced %v", applied, appliesAt)
		}
	})
}

// logTime reads the time attribute key of the first line containing msg.
func logTime(t *testing.T, out, msg, key string) time.Time {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, msg) {
			continue
		}
		m := regexp.MustCompile(`(?:^| )` + key + `=(\S+)`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("no %s in %q", key, line)
		}
		ts, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		return ts
	}
	t.Fatalf("no line %q in\n%s", msg, out)
	return time.Time{}
}

// TestWaitCapsStartWithSilentRancher: a metadata service that accepts
// connections and never answers delays Traefik's start by
// TRAEFIK_RANCHER_WAIT, not by the 10 s a request allows itself.
func TestWaitCapsStartWithSilentRancher(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	accepted := make(chan time.Time, 64)
	go func() {
		var held []net.Conn // never answered
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
			select {
			case accepted <- time.Now():
			default:
			}
		}
	}()
	started := filepath.Join(t.TempDir(), "started")
	i := newInstance(t, map[string]string{
		"TRAEFIK_RANCHER_MODE": "metadata", "TRAEFIK_RANCHER_METADATA_URL": "http://" + l.Addr().String() + "/2016-07-29",
		"TRAEFIK_RANCHER_WAIT": "1s", "TRAEFIK_BINARY": fakeBin,
		"TRAEFIK_CHILD_ENV": "FAKE_STARTED", "FAKE_STARTED": started,
	})
	i.start("run")
	var first time.Time
	select {
	case first = <-accepted:
	case <-time.After(30 * time.Second):
		t.Fatal("rancher-traefik never asked the metadata service")
	}
	var line string
	eventually(t, 30*time.Second, "the child started", func() error {
		b, err := os.ReadFile(started)
		line = string(b)
		return err
	})
	_, nanos, _ := strings.Cut(strings.TrimSpace(line), " ")
	n, err := strconv.ParseInt(nanos, 10, 64)
	if err != nil {
		t.Fatalf("FAKE_STARTED line %q: %v", line, err)
	}
	// The first request would have run for its full 10 s before.
	if took := time.Unix(0, n).Sub(first); took >= 10*time.Second {
		t.Errorf("the child started %v after the first request to a silent metadata service, with TRAEFIK_RANCHER_WAIT=1s", took)
	} else {
		t.Logf("the child started %v after the first request", took.Round(time.Millisecond))
	}
	i.waitLog(0, "starting Traefik without fresh Rancher routes", 10*time.Second)
}

// TestStaleTempFilesRemovedAtStart: a temporary file left by a write that
// was killed is removed at start; a file that only looks alike stays.
func TestStaleTempFilesRemovedAtStart(t *testing.T) {
	i := newInstance(t, map[string]string{"TRAEFIK_BINARY": fakeBin})
	dyn := filepath.Join(i.home, "etc", "dynamic")
	if err := os.MkdirAll(dyn, 0o755); err != nil {
		t.Fatal(err)
	}
	// Writes stage their temporary files in etc/.staging; an older
	// version left them beside the file.
	staging := filepath.Join(i.home, "etc", ".staging")
	if err := os.MkdirAll(staging, 0o700); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dyn, ".rancher.toml.3141592653.tmp")
	staged := filepath.Join(staging, ".rancher.toml.2718281828.tmp")
	kept := []string{filepath.Join(dyn, ".mine.toml.12.tmp"), filepath.Join(dyn, ".rancher.toml.tmp"), filepath.Join(staging, ".mine.toml.13.tmp")}
	for _, f := range append(kept, stale, staged) {
		if err := os.WriteFile(f, []byte("[http.routers.x]\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	i.start("run")
	for _, f := range []string{stale, staged} {
		i.waitLog(0, `msg="removed a temporary file left by an interrupted write" file=`+f, 20*time.Second)
		if _, err := os.Stat(f); err == nil {
			t.Errorf("the stale temporary file %s is still there", f)
		}
	}
	for _, f := range kept {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s was removed: %v", f, err)
		}
	}
}
