package reaper

import (
	"context"
	"io"
	"log/slog"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestStatusExitCode(t *testing.T) {
	tests := []struct {
		name string
		ws   unix.WaitStatus
		code int
		str  string
	}{
		{"exit 0", 0, 0, "exit status 0"},
		{"exit 3", 3 << 8, 3, "exit status 3"},
		{"SIGKILL", unix.WaitStatus(unix.SIGKILL), 137, "killed by signal 9 (SIGKILL)"},
		{"SIGTERM", unix.WaitStatus(unix.SIGTERM), 143, "killed by signal 15 (SIGTERM)"},
	}
	for _, tt := range tests {
		s := Status{Pid: 1, WaitStatus: tt.ws}
		if s.ExitCode() != tt.code || s.String() != tt.str {
			t.Errorf("%s: ExitCode %d String %q, want %d %q", tt.name, s.ExitCode(), s.String(), tt.code, tt.str)
		}
	}
}

// TestStartAndReap starts real children through the reaper: each status
// arrives on its own channel, including for a child that ends at once.
func TestStartAndReap(t *testing.T) {
	r, err := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = r.Run(ctx) }()
	for _, tc := range []struct {
		args []string
		code int
	}{{[]string{"true"}, 0}, {[]string{"false"}, 1}, {[]string{"sh", "-c", "exit 7"}, 7}, {[]string{"sh", "-c", "kill -TERM $$"}, 143}} {
		ch, err := r.Start(exec.Command(tc.args[0], tc.args[1:]...))
		if err != nil {
			t.Fatal(err)
		}
		select {
		case st := <-ch:
			if st.ExitCode() != tc.code {
				t.Errorf("%v: code %d, want %d", tc.args, st.ExitCode(), tc.code)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%v: no status", tc.args)
		}
	}
	// An orphan: sh starts a background sleep and exits; the sleep is
	// re-parented to us (a subreaper) and reaped as an orphan.
	ch, err := r.Start(exec.Command("sh", "-c", "sleep 0.1 & exit 0"))
	if err != nil {
		t.Fatal(err)
	}
	<-ch
	deadline := time.Now().Add(10 * time.Second)
	for r.Orphans() < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if r.Orphans() != 1 {
		t.Errorf("orphans reaped = %d, want 1", r.Orphans())
	}
}
