package metadataserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// MaxWait caps a long-poll, as the real server does.
const MaxWait = 120

// Server serves answers over HTTP like rancher-metadata.
type Server struct {
	// XFF takes the client address from X-Forwarded-For (behind a proxy).
	XFF bool
	Log *slog.Logger
	// API, when set, also serves the Rancher server API face.
	API *APIKeys

	mu      sync.RWMutex
	answers Answers
	certs   certStore // the API face's certificates (their own lock)
	serial  int
	changed chan struct{} // closed and replaced on every Set

	polls       int           // long-polls waiting now
	pollsChange chan struct{} // closed and replaced when polls changes

	// timer starts a long-poll's maxWait; tests replace it to end a wait
	// on their signal instead of the clock.
	timer func(time.Duration) (<-chan time.Time, func())
}

// New serves a.
func New(a Answers, log *slog.Logger) *Server {
	s := &Server{Log: log.With("component", "metadataserver"), changed: make(chan struct{}), pollsChange: make(chan struct{}), timer: realTimer}
	s.set(a, false)
	return s
}

func realTimer(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTimer(d)
	return t.C, func() { t.Stop() }
}

// Set replaces the answers and bumps every version's "version" value, as a
// reload of the real server does; long-polls waiting for a change return.
func (s *Server) Set(a Answers) { s.set(a, true) }

// set installs a; the version is bumped on reloads, and on the first load
// only when the document has none (an answers file keeps its own).
func (s *Server) set(a Answers, bump bool) {
	var r [16]byte
	_, _ = rand.Read(r[:])
	s.mu.Lock()
	s.serial++
	ver := fmt.Sprintf("%d-%s", s.serial, hex.EncodeToString(r[:]))
	for _, byClient := range a {
		if def, ok := byClient["default"].(map[string]any); ok {
			if old, has := def["version"].(string); bump || !has || old == "" || old == "stack-file" {
				def["version"] = ver
			}
		}
	}
	s.answers = a
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	s.Log.Info("answers loaded", "version", ver)
}

// Version is the current version value.
func (s *Server) Version() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if def, ok := s.answers["latest"]["default"].(map[string]any); ok {
		if v, ok := def["version"].(string); ok {
			return v
		}
	}
	return ""
}

// LongPolls is the number of long-polls waiting now, and a channel closed
// when that number next changes: a test waits for a request to be parked
// on it rather than guessing how long that takes.
func (s *Server) LongPolls() (int, <-chan struct{}) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.polls, s.pollsChange
}

// AwaitLongPolls blocks until at least n long-polls are waiting, or ctx ends.
func (s *Server) AwaitLongPolls(ctx context.Context, n int) error {
	for {
		got, changed := s.LongPolls()
		if got >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d long-polls (%d waiting): %w", n, got, ctx.Err())
		}
	}
}

func (s *Server) addPoll(d int) {
	s.mu.Lock()
	s.polls += d
	close(s.pollsChange)
	s.pollsChange = make(chan struct{})
	s.mu.Unlock()
}

func (s *Server) clientIP(r *http.Request) string {
	if s.XFF {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			ip, _, _ := strings.Cut(xff, ",")
			return strings.TrimSpace(ip)
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ListenAndServe serves on addr until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	return s.Serve(ctx, l)
}

// Serve serves on l until ctx ends.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	// Ending ctx closes the server; a Serve that fails first leaves no
	// goroutine waiting on ctx behind.
	stop := context.AfterFunc(ctx, func() { _ = srv.Close() })
	defer stop()
	s.Log.Info("serving metadata", "addr", l.Addr().String())
	if err := srv.Serve(l); err != nil && err != http.ErrServerClosed {
		return fmt.Errorf("serving metadata: %w", err)
	}
	return nil
}
