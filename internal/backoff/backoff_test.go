package backoff

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fixed returns the values given, in turn, as a Rand source.
func fixed(vs ...float64) func() float64 {
	i := 0
	return func() float64 {
		v := vs[i%len(vs)]
		i++
		return v
	}
}

func TestNext(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name string
		b    Backoff
		want []time.Duration
	}{
		{"doubles up to the cap", Backoff{Min: s, Max: 5 * s}, []time.Duration{s, 2 * s, 4 * s, 5 * s, 5 * s}},
		{"cap not a power of two of min", Backoff{Min: 500 * time.Millisecond, Max: 5 * s}, []time.Duration{500 * time.Millisecond, s, 2 * s, 4 * s, 5 * s, 5 * s}},
		{"max below min caps at min", Backoff{Min: 2 * s, Max: s}, []time.Duration{2 * s, 2 * s, 2 * s}},
		{"zero value waits not at all", Backoff{}, []time.Duration{0, 0}},
		{"no overflow near the largest duration", Backoff{Min: math.MaxInt64 / 3, Max: math.MaxInt64}, []time.Duration{math.MaxInt64 / 3, math.MaxInt64 / 3 * 2, math.MaxInt64, math.MaxInt64}},
		{"jitter low end", Backoff{Min: s, Max: 4 * s, Jitter: 0.2, Rand: fixed(0)}, []time.Duration{800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond, 3200 * time.Millisecond}},
		{"jitter middle", Backoff{Min: s, Max: 4 * s, Jitter: 0.2, Rand: fixed(0.5)}, []time.Duration{s, 2 * s, 4 * s}},
		{"jitter high end", Backoff{Min: s, Max: 4 * s, Jitter: 0.2, Rand: fixed(0.75)}, []time.Duration{1100 * time.Millisecond, 2200 * time.Millisecond, 4400 * time.Millisecond}},
		{"jitter of half", Backoff{Min: s, Max: s, Jitter: 0.5, Rand: fixed(0, 0.5, 0.99)}, []time.Duration{500 * time.Millisecond, s, 1490 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []time.Duration
			for range tt.want {
				got = append(got, tt.b.Next())
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("delays (-got +want):\n%s", diff)
			}
		})
	}
}

// TestReset: after a healthy run the next delay is the first again; Delay
// names the base the next Next is spread around.
func TestReset(t *testing.T) {
	b := Backoff{Min: time.Second, Max: time.Minute, Jitter: 0.2, Rand: fixed(0)}
	steps := []struct {
		op        string
		wantDelay time.Duration // Delay after the step
	}{
		{"start", time.Second},
		{"next", 2 * time.Second},
		{"next", 4 * time.Second},
		{"reset", time.Second},
		{"next", 2 * time.Second},
		{"reset", time.Second},
		{"reset", time.Second},
	}
	for i, st := range steps {
		switch st.op {
		case "next":
			b.Next()
		case "reset":
			b.Reset()
		}
		if got := b.Delay(); got != st.wantDelay {
			t.Errorf("step %d (%s): Delay = %v, want %v", i, st.op, got, st.wantDelay)
		}
	}
}

func TestDefaultJitterBounds(t *testing.T) {
	b := New(time.Second, time.Second)
	for range 1000 {
		if d := b.Next(); d < 800*time.Millisecond || d > 1200*time.Millisecond {
			t.Fatalf("Next = %v, outside 1s ±20%%", d)
		}
	}
}

func TestWait(t *testing.T) {
	b := Backoff{Min: time.Nanosecond, Max: time.Nanosecond}
	if !b.Wait(context.Background()) {
		t.Error("Wait of 1ns under a live context reported it was cut short")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b = Backoff{Min: time.Hour, Max: time.Hour}
	if b.Wait(ctx) {
		t.Error("Wait under an ended context reported the whole delay passed")
	}
	// Ending the context ends a wait already under way.
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan bool)
	go func() { done <- b.Wait(ctx) }()
	cancel()
	if <-done {
		t.Error("Wait cut by cancel reported the whole delay passed")
	}
	if !Sleep(context.Background(), 0) {
		t.Error("Sleep(0) under a live context reported it was cut short")
	}
}
