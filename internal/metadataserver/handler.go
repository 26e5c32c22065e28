package metadataserver

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// ServeHTTP routes as rancher-metadata's main.go does with gorilla/mux:
// "/" lists the versions, "/{version}" and "/{version}/{key...}" answer
// metadata, and only the latter long-polls (wait=true with a value).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.API != nil && isAPIPath(r.URL.Path) {
		s.serveAPI(w, r) // the API face takes writes too (certificates)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "Method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// gorilla/mux's Router.ServeHTTP: a path that is not clean ("//",
	// "/latest//self", "/a/../b") is answered 301 to the cleaned path, the
	// query kept, with no body.
	if p := cleanPath(r.URL.Path); p != r.URL.Path {
		u := *r.URL
		u.Path, u.RawPath = p, ""
		w.Header().Set("Location", u.String())
		w.WriteHeader(http.StatusMovedPermanently)
		return
	}
	switch r.URL.Path {
	case "/favicon.ico":
		http.NotFound(w, r)
	case "/":
		s.root(w, r)
	default:
		s.metadata(w, r)
	}
}

func isAPIPath(p string) bool {
	p = strings.Trim(p, "/")
	return p == "v1" || p == "v2-beta" || strings.HasPrefix(p, "v1/") || strings.HasPrefix(p, "v2-beta/")
}

// cleanPath is gorilla/mux's: path.Clean, keeping a trailing slash.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// root maps every version of the answers (and latest) to its URL, as the
// real server's root handler does: {"2015-07-25": "/2015-07-25", …}; in
// text that is the sorted list of versions.
func (s *Server) root(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	m := make(map[string]any, len(s.answers)+1)
	for k := range s.answers {
		m[k] = "/" + k
	}
	s.mu.RUnlock()
	m["latest"] = "/latest"
	respond(w, r, m)
}

// metadata answers /{version} and /{version}/{key...}.
func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	requested, _, hasKey := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	version, ok := s.resolveVersion(requested)
	if !ok {
		respondError(w, r, "Invalid version", http.StatusNotFound)
		return
	}
	// Segments are cut from the escaped path and query-unescaped one by
	// one, so %2F stays inside a key and "+" is a space.
	escaped := strings.TrimRight(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	segs := strings.Split(escaped, "/")[1:]
	for i, seg := range segs {
		u, err := url.QueryUnescape(seg)
		if err != nil {
			respondError(w, r, err.Error(), http.StatusBadRequest)
			return
		}
		segs[i] = u
	}
	ip := s.clientIP(r)
	var val any
	q := r.URL.Query()
	if old, isWait := q["value"]; hasKey && isWait && firstOf(q["wait"]) == "true" {
		val, ok = s.longPoll(r.Context(), version, ip, segs, old[0], maxWaitOf(q.Get("maxWait")))
		if r.Context().Err() != nil {
			return // the client went away
		}
	} else {
		val, ok, _ = s.lookup(version, ip, segs)
	}
	if !ok {
		respondError(w, r, "Not found", http.StatusNotFound)
		return
	}
	respond(w, r, val)
}

func firstOf(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// maxWaitOf reads maxWait as the real server does: seconds; missing, bad
// or 0 is a minute; more than two minutes is two; negative answers at once.
func maxWaitOf(s string) time.Duration {
	n, _ := strconv.Atoi(s)
	d := time.Duration(n) * time.Second
	switch {
	case d == 0:
		return time.Minute
	case d > MaxWait*time.Second:
		return MaxWait * time.Second
	}
	return d
}

// longPoll answers as soon as the value at the path exists and its text
// (Go's fmt.Sprint, as the real server compares) differs from old;
// otherwise — a missing key included — it waits maxWait and answers what
// is there then (404 if still nothing). The real server re-checks on a
// change or its 5 s tick, so it can be up to 5 s late; this one ends on
// time.
func (s *Server) longPoll(ctx context.Context, version, ip string, segs []string, old string, maxWait time.Duration) (any, bool) {
	val, ok, changed := s.lookup(version, ip, segs)
	if maxWait < 0 || (ok && fmt.Sprint(val) != old) {
		return val, ok
	}
	expired, stop := s.timer(maxWait)
	defer stop()
	s.addPoll(1)
	defer s.addPoll(-1)
	for {
		select {
		case <-ctx.Done():
			return nil, false
		case <-expired:
			val, ok, _ = s.lookup(version, ip, segs)
			return val, ok
		case <-changed:
			val, ok, changed = s.lookup(version, ip, segs)
			if ok && fmt.Sprint(val) != old {
				return val, ok
			}
		}
	}
}
