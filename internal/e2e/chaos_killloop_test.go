package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"rancher-traefik/internal/testlog"
)

// Kill -9 of rancher-traefik (PID 1 of its namespace: everything in it
// dies) at random instants while Rancher changes fast and every change is
// written: every rancher.toml ever seen parses, and no temp file a kill
// left survives the next start (§6).
func chaosKillLoop(t *testing.T, row *chaosRow) {
	services := pick(200, 400)
	r := newRig(t, rigOptions{noStart: true, services: map[string][]chaosCtr{}})
	dyn := filepath.Join(r.i.home, "etc", "dynamic")
	must(t, os.MkdirAll(dyn, 0o755))
	path := filepath.Join(dyn, "rancher.toml")
	// What a kill during a write leaves (kills below may leave more): the
	// next start must remove it.
	planted := filepath.Join(dyn, ".rancher.toml.2718281828.tmp")
	must(t, os.WriteFile(planted, []byte("[http.routers.half"), 0o644))
	// The temporary files of writes are made in etc/.staging, outside the
	// watched directory: a kill leaves them there (an older version left
	// them beside rancher.toml, as the planted one).
	staging := filepath.Join(r.i.home, "etc", ".staging")
	temps := &tempTracker{patterns: []string{filepath.Join(dyn, ".rancher.toml.*.tmp"), filepath.Join(staging, ".rancher.toml.*.tmp")}, left: map[string]bool{planted: true}, stale: map[string]bool{}}
	c := startChurn(r, services, path)
	defer c.stop()

	r.i.env["TRAEFIK_BINARY"] = fakeBin // the writes are under test, not Traefik
	r.i.env["TRAEFIK_RANCHER_DEBOUNCE"] = "1ms"
	r.i.asPID1()
	kills := pick(25, 340)
	for k := range kills {
		// Temp files an earlier kill left are gone once it has published.
		killPID1During(t, r.i, temps.checkStale)
		temps.afterKill()
		if err := parseFile(path, &map[string]any{}); err != nil {
			t.Fatalf("after kill %d: %v", k+1, err)
		}
	}
	c.stop()
	// A last clean run with the real Traefik: stale temp files are removed
	// at start, and Traefik loads every router of the file.
	r.i.wrap = nil
	r.i.env["TRAEFIK_BINARY"] = traefikBin
	r.i.start("run")
	r.i.waitReady()
	temps.checkStale()
	routers := allRoutersLoaded(t, r.i, path)
	if n, all, first := c.parseErrors(); n != 0 {
		t.Errorf("%d of %d reads of rancher.toml did not parse: %v", n, all, first)
	}
	if len(temps.stale) != 0 {
		t.Errorf("%d temp files left by a kill (or planted) were still there after a later start published", len(temps.stale))
	}
	_, reads, _ := c.parseErrors()
	row.check("%d kill -9 at random instants among writes of %d services every 30 ms: every rancher.toml (%d reads meanwhile, one after each kill) parsed; temp files left behind (1 planted half-written, %d by kills): %d still there after a later start; Traefik loaded all %d routers after",
		kills, services, reads, temps.byKills, len(temps.stale), routers)
}

// churn is Rancher changing fast (a new generation of every service's
// containers every 30 ms) and a reader parsing rancher.toml every 2 ms,
// as Traefik's file provider would.
type churn struct {
	stop         func()
	parses, errs atomic.Int64
	firstErr     atomic.Value
}

func startChurn(r *rig, services int, path string) *churn {
	stack := func(gen int) string { // data only: nothing is sent to these addresses
		all := map[string][]chaosCtr{}
		for s := range services {
			all[fmt.Sprintf("s%03d", s)] = running(fmt.Sprintf("127.%d.%d.1", 100+gen%100, s%250), fmt.Sprintf("127.%d.%d.2", 100+gen%100, s%250))
		}
		return chaosStack(r.port, all)
	}
	r.m.write(stack(0))
	c := &churn{}
	done := make(chan struct{})
	var wg sync.WaitGroup
	c.stop = sync.OnceFunc(func() { close(done); wg.Wait() })
	every := func(d time.Duration, max int, f func(n int)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 1; n < max; n++ {
				select {
				case <-done:
					return
				case <-time.After(d):
				}
				f(n)
			}
		}()
	}
	every(30*time.Millisecond, 100_000, func(gen int) { r.m.write(stack(gen)) })
	every(2*time.Millisecond, 10_000_000, func(int) {
		if _, err := os.Stat(path); err != nil {
			return
		}
		if err := parseFile(path, &map[string]any{}); err != nil {
			c.errs.Add(1)
			c.firstErr.CompareAndSwap(nil, err.Error())
		}
		c.parses.Add(1)
	})
	return c
}

func (c *churn) parseErrors() (n, of int64, first any) {
	return c.errs.Load(), c.parses.Load(), c.firstErr.Load()
}

// parseFile decodes a TOML file with the project's TOML library.
func parseFile(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if _, err := toml.Decode(string(b), v); err != nil {
		return fmt.Errorf("%s does not parse: %w", filepath.Base(path), err)
	}
	return nil
}

// tempTracker follows the temp files kills leave: left are those not yet
// checked against a later start, stale those still there after one.
type tempTracker struct {
	patterns    []string
	left, stale map[string]bool
	byKills     int
}

func (tt *tempTracker) checkStale() {
	for f := range tt.left {
		if _, err := os.Stat(f); err == nil {
			tt.stale[f] = true
		}
	}
	tt.left = map[string]bool{}
}

func (tt *tempTracker) afterKill() {
	for _, p := range tt.patterns {
		tmps, _ := filepath.Glob(p)
		for _, f := range tmps {
			if !tt.stale[f] {
				tt.left[f] = true
				tt.byKills++
			}
		}
	}
}

// allRoutersLoaded waits (bounded) until Traefik has every router of the
// file, enabled, and returns their number.
func allRoutersLoaded(t *testing.T, i *instance, path string) int {
	t.Helper()
	var file struct {
		HTTP struct {
			Routers map[string]any `toml:"routers"`
		} `toml:"http"`
	}
	must(t, parseFile(path, &file))
	eventually(t, 30*time.Second, "every router of rancher.toml enabled in Traefik", func() error {
		got, err := enabledFileRouters(i)
		if err != nil {
			return err
		}
		for name := range file.HTTP.Routers {
			if !got[name] {
				return fmt.Errorf("router %s not enabled in Traefik (%d of the file's %d are)", name, len(got), len(file.HTTP.Routers))
			}
		}
		return nil
	})
	return len(file.HTTP.Routers)
}

// killPID1During starts rancher-traefik as PID 1 of a PID namespace, waits
// for its first publish, runs published, then kill -9s it at a random
// instant among the writes that follow (the namespace dies with it).
func killPID1During(t *testing.T, i *instance, published func()) {
	t.Helper()
	argv := append(append([]string{}, i.wrap...), ourBin, "run")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = i.environ()
	var out testlog.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	must(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	defer func() {
		_ = cmd.Process.Kill() // unshare --kill-child takes the namespace along
		<-done
		if t.Failed() {
			t.Logf("the last run's output:\n%s", out.String())
		}
	}()
	var p1 int
	eventually(t, 10*time.Second, "PID 1", func() error {
		c := children(cmd.Process.Pid)
		if len(c) != 1 {
			return fmt.Errorf("unshare has %d children", len(c))
		}
		p1 = c[0]
		return nil
	})
	eventually(t, 30*time.Second, "first publish", func() error {
		if !strings.Contains(out.String(), `msg="routes changed"`) {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	published()
	time.Sleep(time.Duration(rand.IntN(60)) * time.Millisecond) // a random instant among the writes
	must(t, syscall.Kill(p1, syscall.SIGKILL))
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the namespace did not end within 30 s of kill -9 of its PID 1")
	}
}

// enabledFileRouters is the routers Traefik has enabled from the file
// provider (its API), by name.
func enabledFileRouters(i *instance) (map[string]bool, error) {
	code, body, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/api/http/routers?per_page=10000", i.admin), nil)
	if err != nil || code != 200 {
		return nil, fmt.Errorf("API: %d %v", code, err)
	}
	var routers []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
	}
	if err := jsonUnmarshal(body, &routers); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, r := range routers {
		if name, ok := strings.CutSuffix(r.Name, "@file"); ok && r.Status == "enabled" {
			out[name] = true
		}
	}
	return out, nil
}
