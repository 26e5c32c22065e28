package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// faultProxy stands between rancher-traefik and the metadata emulator. In
// pass mode it forwards everything (and notes each whole-tree answer it
// passes); in a fault mode it answers the way a broken or restarting
// metadata service does. The emulator behind it keeps its real answers.
type faultProxy struct {
	t      testing.TB
	target string // the emulator's host:port
	addr   string
	srv    *http.Server
	client *http.Client

	mu      sync.Mutex
	mode    string        // "", "truncated", "html", "empty", "500", "hang"
	release chan struct{} // closed when the mode changes: hanging requests end
	faults  int           // fault answers given to whole-tree requests (or hangs)
	trees   []treeAnswer  // whole-tree answers passed through
	serial  int
}

// treeAnswer is one whole-tree answer passed through.
type treeAnswer struct {
	At       time.Time
	Services int
}

func startFaultProxy(t testing.TB, target string) *faultProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{t: t, target: target, addr: l.Addr().String(), release: make(chan struct{}),
		client: &http.Client{Transport: &http.Transport{}}}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = p.srv.Serve(l) }()
	t.Cleanup(func() {
		p.setMode("")
		_ = p.srv.Close()
	})
	return p
}

func (p *faultProxy) url() string { return "http://" + p.addr + "/2016-07-29" }

// setMode switches the answers; requests hanging in the old mode end with
// their connection closed, as when a server restarts.
func (p *faultProxy) setMode(mode string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = mode
	close(p.release)
	p.release = make(chan struct{})
}

// faultCount is how many fault answers (or hangs) were given so far.
func (p *faultProxy) faultCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults
}

// treeSince is the first whole-tree answer passed after since whose
// service count satisfies ok.
func (p *faultProxy) treeSince(since time.Time, ok func(services int) bool) (treeAnswer, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range p.trees {
		if !a.At.Before(since) && ok(a.Services) {
			return a, true
		}
	}
	return treeAnswer{}, false
}

// waitTree waits (bounded) for such an answer.
func (p *faultProxy) waitTree(since time.Time, what string, ok func(services int) bool) treeAnswer {
	p.t.Helper()
	var got treeAnswer
	eventually(p.t, 30*time.Second, what, func() error {
		a, found := p.treeSince(since, ok)
		if !found {
			return fmt.Errorf("not served yet")
		}
		got = a
		return nil
	})
	return got
}

// waitFaults waits (bounded) until n more fault answers than mark went out.
func (p *faultProxy) waitFaults(mark, n int) {
	p.t.Helper()
	eventually(p.t, 60*time.Second, fmt.Sprintf("%d fault answers", n), func() error {
		if got := p.faultCount() - mark; got < n {
			return fmt.Errorf("%d so far", got)
		}
		return nil
	})
}

// isTree says whether path asks for a whole snapshot: the root tree, or
// /stacks, which rancher-traefik reads instead where it can
// (rancher.Client.Snapshot).
func isTree(path string) bool {
	p := strings.Trim(path, "/")
	return p == "2016-07-29" || p == "2016-07-29/stacks"
}

// treeServices counts the services of a whole-snapshot answer: the root's
// services list, or the services embedded in each stack of /stacks.
func treeServices(body []byte) (int, bool) {
	var root struct {
		Services []json.RawMessage `json:"services"`
	}
	if json.Unmarshal(body, &root) == nil {
		return len(root.Services), true
	}
	var stacks []struct {
		Services []json.RawMessage `json:"services"`
	}
	if json.Unmarshal(body, &stacks) != nil {
		return 0, false
	}
	n := 0
	for _, st := range stacks {
		n += len(st.Services)
	}
	return n, true
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	mode, release := p.mode, p.release
	p.mu.Unlock()
	switch {
	case mode == "":
		p.pass(w, r)
	case mode == "hang":
		p.count()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		panic(http.ErrAbortHandler) // the connection closes without an answer
	case strings.HasSuffix(strings.Trim(r.URL.Path, "/"), "/version"):
		// A new version at once: the watcher reads the tree, and gets the fault.
		p.mu.Lock()
		p.serial++
		v := fmt.Sprintf("fault-%d", p.serial)
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "%q", v)
	default:
		p.count()
		p.fault(w, r, mode)
	}
}

func (p *faultProxy) count() {
	p.mu.Lock()
	p.faults++
	p.mu.Unlock()
}

// fault answers a tree request the broken way mode names.
func (p *faultProxy) fault(w http.ResponseWriter, r *http.Request, mode string) {
	switch mode {
	case "truncated": // the real answer cut in the middle, sent as complete
		status, _, body, err := p.forward(r)
		if err != nil || status != 200 {
			http.Error(w, "proxy: "+fmt.Sprint(status, err), http.StatusBadGateway)
			return
		}
		cut := body[:len(body)/2]
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(cut)))
		_, _ = w.Write(cut)
	case "html": // a proxy's error page with a 200
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>\n")
	case "empty": // 200 and nothing
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "0")
	case "500":
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
	}
}

// pass forwards a request to the emulator (long-polls included) and notes
// the whole-tree answers.
func (p *faultProxy) pass(w http.ResponseWriter, r *http.Request) {
	status, hdr, body, err := p.forward(r)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if isTree(r.URL.Path) && status == 200 {
		if n, ok := treeServices(body); ok {
			p.mu.Lock()
			p.trees = append(p.trees, treeAnswer{At: time.Now(), Services: n})
			p.mu.Unlock()
		}
	}
	for k, v := range hdr {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (p *faultProxy) forward(r *http.Request) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+p.target+r.URL.RequestURI(), nil)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header = r.Header.Clone()
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	h := resp.Header.Clone()
	h.Del("Content-Length")
	return resp.StatusCode, h, b, err
}
