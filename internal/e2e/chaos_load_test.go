package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The chaos suite's load client: a few workers sending requests through
// Traefik, bounded in count and time, that count every request and every
// failure by its cause. Its timeouts are generous (a loaded machine is slow,
// not broken) and a timeout is counted as a cause of its own.

// loadConfig describes one bounded load.
type loadConfig struct {
	Client      *http.Client
	URLs        []string      // requested in turn
	Workers     int           // concurrent requests (default 8)
	Rate        int           // requests per second over all workers (0: as fast as they go)
	MaxRequests int64         // bound on the count (default 1,000,000)
	MaxDuration time.Duration // bound on the time (default 10 minutes)
	// Want is the body prefixes that count as success (the backends' names);
	// empty: any 200.
	Want []string
}

// failure is one failed request, kept for scenarios that judge failures
// by when they happened.
type failure struct {
	Cause      string
	Start, End time.Time
}

// loadStats is what a load counted.
type loadStats struct {
	Requests  int64
	Causes    map[string]int64 // failure cause → count
	Backends  map[string]int64 // backend name → successful answers
	Failures  []failure        // the first maxKeptFailures, in order
	FirstErr  string           // the first failure in words, for the log
	Truncated bool             // more failures than were kept
}

const maxKeptFailures = 10000

// Failed is the number of failed requests.
func (s loadStats) Failed() int64 {
	var n int64
	for _, c := range s.Causes {
		n += c
	}
	return n
}

// CausesString is "0" or the causes, largest first: "502: 3, refused: 1".
func (s loadStats) CausesString() string {
	if len(s.Causes) == 0 {
		return "—"
	}
	keys := make([]string, 0, len(s.Causes))
	for k := range s.Causes {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if s.Causes[keys[a]] != s.Causes[keys[b]] {
			return s.Causes[keys[a]] > s.Causes[keys[b]]
		}
		return keys[a] < keys[b]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, s.Causes[k])
	}
	return strings.Join(parts, ", ")
}

// FailedBefore counts the failures that ended before t.
func (s loadStats) FailedBefore(t time.Time) int64 {
	var n int64
	for _, f := range s.Failures {
		if f.End.Before(t) {
			n++
		}
	}
	return n
}

// chaosLoad is a running load.
type chaosLoad struct {
	cfg    loadConfig
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	stats loadStats
}

// startChaosLoad starts the workers; stop ends them and returns the counts.
func startChaosLoad(cfg loadConfig) *chaosLoad {
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.MaxRequests <= 0 {
		cfg.MaxRequests = 1_000_000
	}
	if cfg.MaxDuration <= 0 {
		cfg.MaxDuration = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.MaxDuration)
	l := &chaosLoad{cfg: cfg, cancel: cancel, stats: loadStats{Causes: map[string]int64{}, Backends: map[string]int64{}}}
	var tick <-chan time.Time
	if cfg.Rate > 0 {
		t := time.NewTicker(time.Second / time.Duration(cfg.Rate))
		tick = t.C
		go func() { <-ctx.Done(); t.Stop() }()
	}
	var issued sync.Mutex
	var n int64
	next := func() (string, bool) {
		issued.Lock()
		defer issued.Unlock()
		if n >= cfg.MaxRequests {
			return "", false
		}
		u := cfg.URLs[n%int64(len(cfg.URLs))]
		n++
		return u, true
	}
	for range cfg.Workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for ctx.Err() == nil {
				if tick != nil {
					select {
					case <-ctx.Done():
						return
					case <-tick:
					}
				}
				u, ok := next()
				if !ok {
					return
				}
				l.one(u)
			}
		}()
	}
	return l
}

// one sends one request and counts it (a request in flight when the load
// stops finishes and counts).
func (l *chaosLoad) one(url string) {
	start := time.Now()
	code, body, err := l.do(url)
	end := time.Now()
	cause, backend := l.judge(code, body, err)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stats.Requests++
	if cause == "" {
		l.stats.Backends[backend]++
		return
	}
	l.stats.Causes[cause]++
	if l.stats.FirstErr == "" {
		l.stats.FirstErr = fmt.Sprintf("%s %s: %d %q %v", start.Format("15:04:05.000"), url, code, truncate(body, 120), err)
	}
	if len(l.stats.Failures) < maxKeptFailures {
		l.stats.Failures = append(l.stats.Failures, failure{Cause: cause, Start: start, End: end})
	} else {
		l.stats.Truncated = true
	}
}

func (l *chaosLoad) do(url string) (int, string, error) {
	resp, err := l.cfg.Client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), err
}

// judge names the failure cause ("" for success) and the answering backend.
func (l *chaosLoad) judge(code int, body string, err error) (cause, backend string) {
	if err != nil {
		return errorCause(err), ""
	}
	if code != http.StatusOK {
		return strconv.Itoa(code), ""
	}
	name, _, _ := strings.Cut(body, " ")
	if len(l.cfg.Want) == 0 {
		return "", name
	}
	for _, w := range l.cfg.Want {
		if name == w {
			return "", name
		}
	}
	return "unexpected body", ""
}

// errorCause sorts a transport error: refused, reset, timeout, tls, eof or
// other.
func errorCause(err error) string {
	var netErr net.Error
	var certErr *tls.CertificateVerificationError
	var alert tls.AlertError
	var recHdr tls.RecordHeaderError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.As(err, &certErr), errors.As(err, &alert), errors.As(err, &recHdr),
		errors.As(err, &unknownAuth), errors.As(err, &hostErr), strings.Contains(err.Error(), "tls: "):
		return "tls"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	}
	return "other"
}

// snapshot is the counts so far.
func (l *chaosLoad) snapshot() loadStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.Causes = copyCounts(l.stats.Causes)
	s.Backends = copyCounts(l.stats.Backends)
	s.Failures = append([]failure(nil), l.stats.Failures...)
	return s
}

// stop ends the load (in-flight requests finish) and returns its counts.
func (l *chaosLoad) stop() loadStats {
	l.cancel()
	l.wg.Wait()
	return l.snapshot()
}

// waitRequests waits until n more requests than at mark were counted: a
// scenario's "under load" starts from real traffic, not from a guess.
func (l *chaosLoad) waitRequests(mark, n int64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if l.snapshot().Requests >= mark+n {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("fewer than %d requests within %v", n, limit)
}

func copyCounts(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// chaosClient is the load's HTTPS client: every connection goes to
// 127.0.0.1:port (names from the certificate in the URL), roots trusted,
// keep-alive or a new connection (and TLS handshake) per request.
func chaosClient(roots *x509.CertPool, port, conns int, keepAlive bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	return &http.Client{
		// Generous: on a loaded machine slow is not broken; a request that
		// takes this long counts as a timeout.
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			DisableKeepAlives:   !keepAlive,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			TLSHandshakeTimeout: 10 * time.Second,
			TLSClientConfig:     &tls.Config{RootCAs: roots},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			},
		},
	}
}

// TestLoadClientCauses: each cause the chaos table names comes from the
// failure it names, provoked for real on loopback.
func TestLoadClientCauses(t *testing.T) {
	serve := func(t *testing.T, handle func(net.Conn)) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go handle(c)
			}
		}()
		return l.Addr().String()
	}
	readRequest := func(c net.Conn) { _, _ = c.Read(make([]byte, 4096)) }
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	untrusted := chaosCert(t) // a CA the client does not trust
	tests := []struct {
		name   string
		target func(t *testing.T) string // host:port
		scheme string
		want   string
	}{
		{"refused", func(t *testing.T) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))) }, "http", "refused"},
		{"reset", func(t *testing.T) string {
			return serve(t, func(c net.Conn) {
				readRequest(c)
				_ = c.(*net.TCPConn).SetLinger(0) // close with a RST
				c.Close()
			})
		}, "http", "reset"},
		{"eof", func(t *testing.T) string { return serve(t, func(c net.Conn) { readRequest(c); c.Close() }) }, "http", "eof"},
		{"timeout", func(t *testing.T) string { return serve(t, func(c net.Conn) { <-hang; c.Close() }) }, "http", "timeout"},
		{"tls", func(t *testing.T) string {
			pair, err := tls.X509KeyPair(untrusted.Bundle(), untrusted.KeyPEM)
			if err != nil {
				t.Fatal(err)
			}
			l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
			if err != nil {
				t.Fatal(err)
			}
			srv := &http.Server{Handler: http.NotFoundHandler(), ErrorLog: log.New(io.Discard, "", 0)}
			go func() { _ = srv.Serve(l) }()
			t.Cleanup(func() { srv.Close() })
			return l.Addr().String()
		}, "https", "tls"},
		{"status", func(t *testing.T) string {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) })}
			go func() { _ = srv.Serve(l) }()
			t.Cleanup(func() { srv.Close() })
			return l.Addr().String()
		}, "http", "502"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := tt.target(t)
			client := &http.Client{Timeout: 300 * time.Millisecond, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}}
			l := startChaosLoad(loadConfig{Client: client, URLs: []string{tt.scheme + "://" + addr + "/"}, Workers: 1, MaxRequests: 3})
			l.wg.Wait() // it ends by itself after MaxRequests
			s := l.stop()
			if s.Requests != 3 || s.Causes[tt.want] != 3 {
				t.Errorf("counted %d requests, causes %s; want 3 × %s (first: %s)", s.Requests, s.CausesString(), tt.want, s.FirstErr)
			}
		})
	}
}
