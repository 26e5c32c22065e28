package supervisor

import (
	"io"
	"log/slog"
	"testing"
	"time"
)

func TestBudgetAndDefaults(t *testing.T) {
	s := New(Options{StopDelay: 2 * time.Second, StopGrace: 11 * time.Second}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if got := s.Budget(); got != 14*time.Second {
		t.Errorf("Budget = %v, want 14s (delay + grace + kill margin)", got)
	}
	if s.opts.BackoffMin != time.Second || s.opts.BackoffMax != 30*time.Second || s.opts.HealthyAfter != time.Minute || s.opts.Restart != RestartOnFailure {
		t.Errorf("defaults: %+v", s.opts)
	}
}
