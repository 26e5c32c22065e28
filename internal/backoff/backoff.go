// Package backoff spaces the retries of a loop: delays that double from a
// minimum to a cap, spread by jitter, and start over after a healthy run.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// DefaultJitter spreads each delay over ±20%, so that the retries of many
// containers started together do not stay aligned.
const DefaultJitter = 0.2

// Backoff is the delay between the retries of one loop, after Traefik's
// pkg/job: it starts at Min, doubles after every retry up to Max, each
// delay spread by Jitter, and returns to Min on Reset (after a healthy
// run). The zero value waits not at all; a Backoff is not safe for
// concurrent use.
type Backoff struct {
	Min, Max time.Duration
	// Jitter is the fraction each delay is spread by: 0.2 gives a delay
	// between 80% and 120% of the base; 0 none.
	Jitter float64
	// Rand returns a number in [0, 1); nil is math/rand/v2's Float64.
	// Tests inject a fixed source.
	Rand func() float64

	base time.Duration // the next delay before jitter; 0: Min
}

// New returns a Backoff from min to max with DefaultJitter.
func New(min, max time.Duration) *Backoff {
	return &Backoff{Min: min, Max: max, Jitter: DefaultJitter}
}

// Delay is the next delay before jitter (what a log line can name).
func (b *Backoff) Delay() time.Duration {
	if b.base <= 0 {
		return b.Min
	}
	return b.base
}

// Next returns the delay to wait now, jittered, and doubles the next one,
// up to Max (Max below Min caps at Min).
func (b *Backoff) Next() time.Duration {
	d := b.Delay()
	limit := max(b.Max, b.Min)
	if d > limit/2 {
		b.base = limit // doubling would pass the cap (or overflow)
	} else {
		b.base = d * 2
	}
	return b.jitter(d)
}

// Reset makes the next delay Min again: the loop ran healthily.
func (b *Backoff) Reset() { b.base = 0 }

// Wait waits the delay Next returns, or until ctx ends: it reports whether
// the whole delay passed.
func (b *Backoff) Wait(ctx context.Context) bool {
	return Sleep(ctx, b.Next())
}

// Sleep waits d, or until ctx ends: it reports whether d passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (b *Backoff) jitter(d time.Duration) time.Duration {
	if b.Jitter <= 0 {
		return d
	}
	r := b.Rand
	if r == nil {
		r = rand.Float64
	}
	return time.Duration(float64(d) * (1 - b.Jitter + 2*b.Jitter*r()))
}
