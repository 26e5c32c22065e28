package app

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"rancher-traefik/internal/atomicfile"
	"rancher-traefik/internal/backoff"
	"rancher-traefik/internal/cluster"
	"rancher-traefik/internal/rancher"
)

// lookAgainFile is the dynamic file whose every rewrite makes the issuer's
// Traefik look again for names without a certificate.
//
// Why a file: Traefik v3.6's ACME provider looks for names to order only
// when a new dynamic configuration reaches it — it listens to every merged
// configuration (cmd/traefik/traefik.go: AddListener(p.ListenConfiguration)),
// and watchNewDomains (pkg/provider/acme/provider.go) calls resolveDomains
// for each router asking for the resolver; getUncheckedDomains leaves out
// every name a certificate of the TLS store or of acme.json already covers,
// and every name being resolved. A failed order is only logged ("Unable to
// obtain ACME certificate"), never retried; and the configuration watcher
// (pkg/server/configurationwatcher.go) skips a configuration equal to the
// last one (reflect.DeepEqual), so only a real change counts. In cluster
// mode the issuer's first orders race its followers at a cold start: a
// validation landing on a follower whose Traefik, or whose forwarding, is
// not up yet fails, and nothing else may change for days. So while this
// instance is the issuer, this file holds an unused middleware whose header
// value changes at every look-again: a new configuration, and so a new pass
// over the routers, which orders only what is still missing (a pass with
// every certificate present orders nothing).
const lookAgainFile = "acme-retry.toml"

// The look-again schedule.
const (
	// retrySettle: a change among our service's instances (one came up, or
	// turned healthy) is followed by a look-again this much later, so
	// changes in a burst (every host starting) give one, and the new
	// instance's Traefik has applied its forwarding.
	retrySettle = 10 * time.Second
	// retryMin to retryMax: the timer's delays, doubling (with jitter),
	// reset by a change among our instances or a new role.
	retryMin = 10 * time.Second
	retryMax = time.Hour
	// retryBudget look-agains at most in any retryWindow from the timer:
	// Let's Encrypt allows 5 failed validations per hostname per account
	// per hour (https://letsencrypt.org/docs/rate-limits/, "Authorization
	// Failures per Identifier per Account"; failed-validation-limit: a
	// sliding window); Traefik's own order at start or at a change of the
	// routes is the fifth. A look-again from a change among our instances
	// is never held back, but counts in the window.
	retryBudget = 4
	retryWindow = time.Hour
)

// lookAgain schedules the rewrites of lookAgainFile while this instance is the
// issuer, and removes the file otherwise. Its clock is injected (now,
// after) so the schedule is tested without waiting.
type lookAgain struct {
	path, stage string
	log         *slog.Logger
	backoff     *backoff.Backoff
	settle      time.Duration
	now         func() time.Time
	after       func(time.Duration) <-chan time.Time
	notes       chan retryNote // latest only (noteMembers replaces)
	// step, when set (tests), receives a value once the loop has set up,
	// and after each input it handled.
	step chan<- struct{}

	recent []time.Time // the look-agains of the last retryWindow
	last   int64       // the value last written
	count  int
}

// retryNote is what the metadata watch saw: our role and the instances.
type retryNote struct {
	issuer  bool
	members string
}

func newLookAgain(dynamicDir, stage string, log *slog.Logger) *lookAgain {
	return &lookAgain{
		path: filepath.Join(dynamicDir, lookAgainFile), stage: stage, log: log,
		backoff: backoff.New(retryMin, retryMax), settle: retrySettle,
		now: time.Now, after: time.After, notes: make(chan retryNote, 1),
	}
}

// memberKey is our service's instances that can take a validation (those
// cluster.Eligible: running, not unhealthy), each with its state and
// health, in a stable order: a change of it is a change worth a look-again.
func memberKey(self *rancher.Self) string {
	if self == nil {
		return ""
	}
	var keys []string
	for _, m := range self.Members {
		if cluster.Eligible(m) {
			keys = append(keys, strings.Join([]string{m.UUID, m.PrimaryIP, m.State, m.HealthState}, " "))
		}
	}
	slices.Sort(keys)
	return strings.Join(keys, "\n")
}

// note hands the loop the latest role and instances; only the latest
// counts. One goroutine (the metadata watch) calls it.
func (l *lookAgain) note(n retryNote) {
	select {
	case <-l.notes:
	default:
	}
	l.notes <- n
}

// run rewrites the file on the schedule while issuer, until ctx ends.
// issuer is the role before the first note; the first note's instances
// are the baseline, not a change.
func (l *lookAgain) run(ctx context.Context, issuer bool) error {
	var timer <-chan time.Time
	why, members, known := "", "", false
	arm := func(d time.Duration, reason string) { timer, why = l.after(d), reason }
	if issuer {
		arm(l.timerDelay(), "timer")
	} else {
		l.remove()
	}
	l.stepped()
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-l.notes:
			switch {
			case n.issuer && !issuer:
				l.backoff.Reset()
				arm(l.timerDelay(), "timer")
			case !n.issuer && issuer:
				timer = nil
				l.remove()
			case n.issuer && known && n.members != members:
				l.backoff.Reset()
				arm(l.settle, "instances changed")
			}
			issuer, members, known = n.issuer, n.members, true
		case <-timer:
			l.write(why)
			arm(l.timerDelay(), "timer")
		}
		l.stepped()
	}
}

// stepped tells a test that an input has been handled.
func (l *lookAgain) stepped() {
	if l.step != nil {
		l.step <- struct{}{}
	}
}

// timerDelay is the backoff's next delay, held back while the window
// already has retryBudget look-agains, until the oldest of them leaves it.
func (l *lookAgain) timerDelay() time.Duration {
	d := l.backoff.Next()
	now := l.now()
	l.recent = slices.DeleteFunc(l.recent, func(t time.Time) bool { return now.Sub(t) >= retryWindow })
	if len(l.recent) >= retryBudget {
		d = max(d, l.recent[len(l.recent)-retryBudget].Add(retryWindow).Sub(now))
	}
	return d
}

// write rewrites the file with a value it never had.
func (l *lookAgain) write(why string) {
	now := l.now()
	l.last = max(now.UnixNano(), l.last+1)
	l.count++
	l.recent = append(l.recent, now)
	b := fmt.Appendf(nil, `# Written by rancher-traefik while this instance is the ACME issuer: every
# rewrite is a new configuration, on which Traefik looks again for names
# without a certificate (README "Several hosts"). Nothing uses it.
[http.middlewares.rancher-traefik-acme-retry.headers.customRequestHeaders]
  X-Rancher-Traefik-Acme-Retry = "%d"
`, l.last)
	if _, err := atomicfile.WriteStaged(l.path, l.stage, b, 0o644); err != nil {
		l.log.Error("cannot write the ACME look-again file; retrying on the schedule", "file", l.path, "err", err)
		return
	}
	l.log.Info("Traefik looks again for names without a certificate", "why", why, "look_agains", l.count)
}

func (l *lookAgain) remove() {
	if err := removeIfExists(l.path); err != nil {
		l.log.Error("cannot remove the ACME look-again file", "err", err)
	}
}

// retryLoop runs the look-again schedule until ctx ends.
func (c *acmeCluster) retryLoop(ctx context.Context) error {
	return c.retry.run(ctx, c.issuer.Load())
}

// noteRetry tells the schedule what the metadata watch has just applied.
func (c *acmeCluster) noteRetry(self *rancher.Self) {
	c.retry.note(retryNote{issuer: c.issuer.Load(), members: memberKey(self)})
}
