package supervisor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"rancher-traefik/internal/reaper"
	"rancher-traefik/internal/testlog"
)

// testReaper is the one reaper of this test process: two would race for
// each other's children (wait4(-1) reaps any).
var testReaper = sync.OnceValue(func() *reaper.Reaper {
	r, err := reaper.New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		panic(err)
	}
	go func() { _ = r.Run(context.Background()) }() // for the test process's life
	return r
})

// harness runs a Supervisor whose child is this test binary (see TestMain),
// started through the test binary as trampoline, with a real reaper.
type harness struct {
	t      *testing.T
	sup    *Supervisor
	sigs   chan os.Signal
	log    testlog.Buffer
	record string
	pids   chan int
}

func newHarness(t *testing.T, mode string, opts Options) *harness {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, sigs: make(chan os.Signal, 32), record: filepath.Join(t.TempDir(), "signals"), pids: make(chan int, 8)}
	log := slog.New(slog.NewTextHandler(&h.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := testReaper()
	if opts.Path == "" {
		opts.Path = exe
	}
	opts.Trampoline = exe
	opts.Env = []string{"SUPERVISOR_TEST_CHILD=" + mode, "SUPERVISOR_TEST_RECORD=" + h.record, "SUPERVISOR_TEST_PIDS=" + h.readPids()}
	opts.Restart = RestartNever
	if opts.StopGrace == 0 {
		opts.StopGrace = 10 * time.Second
	}
	h.sup = New(opts, r, log)
	return h
}

// readPids makes a FIFO on which each child writes its pid as it starts
// (see testChild), and passes what comes to h.pids until the test ends.
func (h *harness) readPids() string {
	h.t.Helper()
	path := filepath.Join(h.t.TempDir(), "pids")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		h.t.Fatal(err)
	}
	// Read-write: opening does not wait for a writer, and no EOF comes
	// between two children.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	done := make(chan struct{})
	h.t.Cleanup(func() { close(done); f.Close() })
	go func() {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			pid, err := strconv.Atoi(sc.Text())
			if err != nil {
				panic(fmt.Sprintf("pid FIFO: %q", sc.Text()))
			}
			select {
			case h.pids <- pid:
			case <-done:
				return
			}
		}
	}()
	return path
}

type result struct {
	code int
	err  error
}

// start runs the supervisor in the background.
func (h *harness) start() <-chan result {
	res := make(chan result, 1)
	go func() {
		code, err := h.sup.Run(context.Background(), h.sigs)
		res <- result{code, err}
	}()
	return res
}

// wait waits for the supervisor to end (bounded).
func (h *harness) wait(res <-chan result) (int, error) {
	h.t.Helper()
	select {
	case r := <-res:
		return r.code, r.err
	case <-time.After(30 * time.Second):
		h.t.Fatalf("supervisor still running after 30s; log:\n%s", h.log.String())
		return 0, nil
	}
}

// run supervises until the child ends for good.
func (h *harness) run() (int, error) {
	h.t.Helper()
	return h.wait(h.start())
}

// TestSignalsHeldUntilHandlers: signals sent the moment the child is exec'd
// (it sets its handlers 150 ms later, as Traefik does tens of milliseconds
// after exec) are held, then all arrive: the stop ends it with 0. They are
// relayed in order, but the child's runtime may read them in another (its
// threads take them concurrently), so the set is what is checked.
func TestSignalsHeldUntilHandlers(t *testing.T) {
	h := newHarness(t, "late:150ms", Options{})
	h.sup.opts.Env = append(h.sup.opts.Env, "SUPERVISOR_TEST_EXPECT=3")
	go func() {
		<-h.pids
		for _, s := range []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGTERM} {
			h.sigs <- s
		}
	}()
	code, err := h.run()
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v; want 0 (handled stop)\n%s", code, err, h.log.String())
	}
	b, _ := os.ReadFile(h.record)
	got := strings.Fields(strings.ReplaceAll(string(b), " ", "_"))
	slices.Sort(got)
	if want := []string{"hangup", "terminated", "user_defined_signal_1"}; !slices.Equal(got, want) {
		t.Errorf("child received %v, want %v", got, want)
	}
	for _, s := range []string{`msg="signal held until traefik has set its handlers" component=supervisor signal=hangup`, `msg="traefik has set its signal handlers"`, `held=3`} {
		if !strings.Contains(h.log.String(), s) {
			t.Errorf("log lacks %q:\n%s", s, h.log.String())
		}
	}
}

// TestBlindStopIsClean: a child whose handlers never show gets the held
// stop after ReadyTimeout; dying of it is a clean stop (0), not a crash.
// SIGINT, which it may still ignore, is sent as SIGTERM.
func TestBlindStopIsClean(t *testing.T) {
	h := newHarness(t, "never", Options{ReadyTimeout: 300 * time.Millisecond})
	go func() {
		<-h.pids
		h.sigs <- syscall.SIGINT
	}()
	code, err := h.run()
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v; want 0\n%s", code, err, h.log.String())
	}
	for _, s := range []string{`msg="traefik has not set its signal handlers yet; forwarding signals anyway"`, `signal=terminated`,
		`msg="traefik ended by the stop signal before it could handle it (it was not serving yet): a clean stop" component=supervisor status="killed by signal 15 (SIGTERM)"`} {
		if !strings.Contains(h.log.String(), s) {
			t.Errorf("log lacks %q:\n%s", s, h.log.String())
		}
	}
}

// TestStopWithoutHUPHandler: a child that sets its stop handlers but never
// asks for SIGHUP (Traefik without a file provider) gets a held SIGINT
// after ReadyTimeout as it is — it handles it, no blind SIGTERM.
func TestStopWithoutHUPHandler(t *testing.T) {
	h := newHarness(t, "nohup:0s", Options{ReadyTimeout: 300 * time.Millisecond})
	go func() {
		<-h.pids
		h.sigs <- syscall.SIGINT
	}()
	code, err := h.run()
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v; want 0\n%s", code, err, h.log.String())
	}
	b, _ := os.ReadFile(h.record)
	if strings.TrimSpace(string(b)) != "interrupt" {
		t.Errorf("child received %q, want the SIGINT itself", b)
	}
	if !strings.Contains(h.log.String(), "not asked for SIGHUP") || strings.Contains(h.log.String(), "a clean stop") {
		t.Errorf("log:\n%s", h.log.String())
	}
}

// TestTrampolineExecFailure: a binary that cannot be exec'd is reported as
// the direct exec reported it (not found, not startable), not as a crash.
func TestTrampolineExecFailure(t *testing.T) {
	plain := filepath.Join(t.TempDir(), "not-executable")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want error
	}{{filepath.Join(t.TempDir(), "missing"), ErrNotFound}, {plain, ErrNotStartable}} {
		h := newHarness(t, "never", Options{Path: tc.path})
		_, err := h.run()
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("%s: err %v, want %v naming the path", tc.path, err, tc.want)
		}
		if strings.Contains(h.log.String(), "traefik started") {
			t.Errorf("%s: logged as started:\n%s", tc.path, h.log.String())
		}
	}
}

// forkedBy is the thread of this process that forked pid: the kernel lists
// a child under its creating thread, /proc/self/task/<tid>/children.
func forkedBy(pid int) (int, error) {
	tasks, err := filepath.Glob("/proc/self/task/*/children")
	if err != nil {
		return 0, err
	}
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, c := range strings.Fields(string(b)) {
			if c == strconv.Itoa(pid) {
				return strconv.Atoi(filepath.Base(filepath.Dir(f)))
			}
		}
	}
	return 0, fmt.Errorf("pid %d is no child of any thread of ours", pid)
}

// TestOneThreadForksEveryChild: a child's Pdeathsig fires when the thread
// that forked it ends, and the Go runtime ends a thread whose locked
// goroutine returns. Every child, restarts included, is forked by the one
// thread the supervisor holds, which outlives threads ended around it.
func TestOneThreadForksEveryChild(t *testing.T) {
	h := newHarness(t, "late:0s", Options{BackoffMin: time.Millisecond, RestartMax: 4})
	h.sup.opts.Restart = RestartAlways
	res := h.start()
	var tids []int
	for range 5 {
		pid := <-h.pids
		tid, err := forkedBy(pid)
		if err != nil {
			t.Fatal(err)
		}
		tids = append(tids, tid)
		// Threads end around it: none may take the child with it.
		var wg sync.WaitGroup
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			}()
		}
		wg.Wait()
		if got, err := forkedBy(pid); err != nil || got != tid {
			t.Fatalf("after threads ended, child %d: forked by %d, %v; want %d still there", pid, got, err, tid)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.wait(res); !errors.Is(err, ErrCrashLoop) {
		t.Fatalf("err %v, want the crash loop after 4 restarts", err)
	}
	for _, tid := range tids[1:] {
		if tid != tids[0] {
			t.Errorf("children forked by threads %v, want one", tids)
			break
		}
	}
}

func TestParseSigCgt(t *testing.T) {
	tests := []struct {
		status string
		want   uint64
		err    bool
	}{
		{"Name:\ttraefik\nSigIgn:\t0000000000000003\nSigCgt:\tfffffffd7fc1fefc\n", 0xfffffffd7fc1fefc, false},
		{"SigCgt:\t0000000000000003", 3, false},
		{"Name:\tx\n", 0, true},
		{"SigCgt:\tzz\n", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSigCgt(tt.status)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("parseSigCgt(%q) = %x, %v; want %x, error %v", tt.status, got, err, tt.want, tt.err)
		}
	}
	if handlersMask != 3 {
		t.Errorf("handlersMask = %b, want SIGHUP and SIGINT (0b11)", handlersMask)
	}
}
