package metadataserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
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
	serial  int
	changed chan struct{} // closed and replaced on every Set
}

// New serves a.
func New(a Answers, log *slog.Logger) *Server {
	s := &Server{Log: log.With("component", "metadataserver"), changed: make(chan struct{})}
	s.set(a, false)
	return s
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

// lookup resolves a path in a client's tree, then in the default one.
// It reports the current value and a channel closed on the next change.
func (s *Server) lookup(version, ip string, segs []string) (any, bool, <-chan struct{}) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	byClient, ok := s.answers[version]
	if !ok {
		return nil, false, s.changed
	}
	if len(segs) == 0 {
		merged := map[string]any{}
		if def, ok := byClient["default"].(map[string]any); ok {
			for k, v := range def {
				merged[k] = v
			}
		}
		if own, ok := byClient[ip].(map[string]any); ok {
			for k, v := range own {
				merged[k] = v
			}
		}
		return merged, true, s.changed
	}
	for _, tree := range []any{byClient[ip], byClient["default"]} {
		if tree == nil {
			continue
		}
		if v, ok := walk(tree, segs); ok {
			return v, true, s.changed
		}
		lower := make([]string, len(segs))
		for i, sg := range segs {
			lower[i] = strings.ToLower(sg)
		}
		if v, ok := walk(tree, lower); ok {
			return v, true, s.changed
		}
	}
	return nil, false, s.changed
}

// walk follows segs: map keys, array indexes, or an item's name or uuid.
func walk(node any, segs []string) (any, bool) {
	for _, seg := range segs {
		switch n := node.(type) {
		case map[string]any:
			v, ok := n[seg]
			if !ok {
				return nil, false
			}
			node = v
		case []any:
			if i, err := strconv.Atoi(seg); err == nil {
				if i < 0 || i >= len(n) {
					return nil, false
				}
				node = n[i]
				continue
			}
			found := false
			for _, item := range n {
				if m, ok := item.(map[string]any); ok && (m["name"] == seg || m["uuid"] == seg) {
					node, found = item, true
					break
				}
			}
			if !found {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return node, true
}

// text renders a node as the real server's text/plain answer.
func text(node any) string {
	switch n := node.(type) {
	case nil:
		return ""
	case string:
		return n
	case map[string]any:
		keys := make([]string, 0, len(n))
		for k, v := range n {
			switch v.(type) {
			case map[string]any, []any:
				k += "/"
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return strings.Join(keys, "\n")
	case []any:
		lines := make([]string, len(n))
		for i, item := range n {
			switch it := item.(type) {
			case map[string]any:
				if name, ok := it["name"].(string); ok && name != "" {
					lines[i] = fmt.Sprintf("%d=%s", i, name)
				} else if id, ok := it["uuid"].(string); ok && id != "" {
					lines[i] = fmt.Sprintf("%d=%s", i, id)
				} else {
					lines[i] = fmt.Sprintf("%d/", i)
				}
			case []any:
				lines[i] = fmt.Sprintf("%d/", i)
			default:
				lines[i] = strconv.Itoa(i)
			}
		}
		return strings.Join(lines, "\n")
	}
	return fmt.Sprint(node)
}

// compareValue is what a long-poll's value= is compared with: the text of
// a scalar, the JSON of anything else.
func compareValue(node any) string {
	switch node.(type) {
	case map[string]any, []any:
		b, _ := json.Marshal(node)
		return string(b)
	}
	return text(node)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "Method not allowed", http.StatusMethodNotAllowed)
		return
	}
	format := "text"
	switch accept := r.Header.Get("Accept"); {
	case strings.Contains(accept, "application/json"):
		format = "json"
	case strings.Contains(accept, "yaml"):
		format = "yaml"
	}
	path := strings.Trim(r.URL.Path, "/")
	if s.API != nil && (path == "v1" || path == "v2-beta" || strings.HasPrefix(path, "v1/") || strings.HasPrefix(path, "v2-beta/")) {
		s.serveAPI(w, r)
		return
	}
	if path == "" {
		vs := append(append([]string{}, Versions...), "latest")
		if format == "text" {
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, strings.Join(vs, "\n"))
			return
		}
		s.write(w, format, toAny(vs))
		return
	}
	segs := strings.Split(path, "/")
	version, segs := segs[0], segs[1:]
	ip := s.clientIP(r)
	node, ok, changed := s.lookup(version, ip, segs)
	q := r.URL.Query()
	if ok && q.Get("wait") == "true" {
		maxWait := 60
		if n, err := strconv.Atoi(q.Get("maxWait")); err == nil && n > 0 {
			maxWait = min(n, MaxWait)
		}
		// Compared as unquoted text: clients send back the JSON string they
		// were given ("v") as readily as the bare value.
		old := strings.TrimSpace(q.Get("value"))
		if u, err := strconv.Unquote(old); err == nil {
			old = u
		}
		deadline := time.NewTimer(time.Duration(maxWait) * time.Second)
		defer deadline.Stop()
		for ok && compareValue(node) == old {
			select {
			case <-r.Context().Done():
				return
			case <-deadline.C:
			case <-changed:
				node, ok, changed = s.lookup(version, ip, segs)
				continue
			}
			break
		}
	}
	if !ok {
		if format == "json" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"code":404,"message":"Not found","type":"error"}`)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "Not found")
		return
	}
	s.write(w, format, node)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (s *Server) write(w http.ResponseWriter, format string, node any) {
	switch format {
	case "json":
		w.Header().Set("Content-Type", "application/json")
		b, _ := json.Marshal(node)
		_, _ = w.Write(b)
	case "yaml":
		w.Header().Set("Content-Type", "application/x-yaml")
		b, _ := yaml.Marshal(node)
		_, _ = w.Write(b)
	default:
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, text(node))
	}
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
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	s.Log.Info("serving metadata", "addr", l.Addr().String())
	if err := srv.Serve(l); err != nil && err != http.ErrServerClosed {
		return fmt.Errorf("serving metadata: %w", err)
	}
	return nil
}
