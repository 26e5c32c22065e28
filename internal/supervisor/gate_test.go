package supervisor

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"

	"rancher-traefik/internal/testlog"
)

// TestStartGate: before it opens, a stop signal cancels the start-up and
// is remembered, others are dropped (and logged); once open, every signal
// is relayed.
func TestStartGate(t *testing.T) {
	var logs testlog.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := NewStartGate(ctx, slog.New(slog.NewTextHandler(&logs, nil)))
	for _, sig := range []os.Signal{syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT} {
		if g.admit(sig) {
			t.Errorf("%v passed the gate before it opened", sig)
		}
	}
	if g.Context().Err() == nil {
		t.Error("a stop signal did not cancel the start-up")
	}
	if got := g.Open(); got != syscall.SIGTERM {
		t.Errorf("open() = %v, want the first stop signal, SIGTERM", got)
	}
	// Open, run relays every signal.
	sigs, relay := make(chan os.Signal), make(chan os.Signal)
	done := make(chan error)
	go func() { done <- g.Run(ctx, sigs, relay) }()
	for _, sig := range []os.Signal{syscall.SIGUSR1, syscall.SIGHUP, syscall.SIGTERM} {
		sigs <- sig
		if got := <-relay; got != sig {
			t.Errorf("relayed %v, want %v", got, sig)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
	if !strings.Contains(logs.String(), `msg="signal before Traefik started; ignored" signal=hangup`) {
		t.Errorf("the dropped SIGHUP is not logged:\n%s", logs.String())
	}
}
