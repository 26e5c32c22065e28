package handover

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"rancher-traefik/internal/testcert"
)

// server is one generation's Traefik, as the steering sees it: it accepts
// on its socket from the start, but closes every connection until it is
// configured — as Traefik v3 does before its first configuration.
type server struct {
	name       string
	configured atomic.Bool
	accepted   atomic.Int64 // connections accepted before configured and closed
	srv        *http.Server
	done       chan struct{}
}

type gatedListener struct {
	net.Listener
	s *server
}

func (l gatedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || l.s.configured.Load() {
			return c, err
		}
		l.s.accepted.Add(1)
		c.Close()
	}
}

// serve runs a server on g's socket number i (a duplicate: closing it, as
// Traefik closes its listener on stop, leaves the holder's).
func serve(t *testing.T, name string, g *Generation, i int) *server {
	t.Helper()
	l, err := net.FileListener(g.Files()[i])
	if err != nil {
		t.Fatal(err)
	}
	s := &server{name: name, done: make(chan struct{})}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, name) }), ReadHeaderTimeout: 5 * time.Second}
	go func() { defer close(s.done); _ = s.srv.Serve(gatedListener{l, s}) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

// stop stops s gracefully: its listener closes, its requests finish.
func (s *server) stop(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	<-s.done
}

// load is clients that connect anew for every request, counting answers
// by server name and failures by error.
type load struct {
	mu    sync.Mutex
	by    map[string]int
	fails map[string]int
	total atomic.Int64
	stop  chan struct{}
	wg    sync.WaitGroup
}

func startLoad(addr string, clients int) *load {
	l := &load{by: map[string]int{}, fails: map[string]int{}, stop: make(chan struct{})}
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	for range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				resp, err := c.Get("http://" + addr + "/")
				var body []byte
				if err == nil {
					body, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				l.mu.Lock()
				if err != nil {
					l.fails[err.Error()]++
				} else {
					l.by[string(body)]++
				}
				l.mu.Unlock()
				l.total.Add(1)
			}
		}()
	}
	return l
}

// after waits until n more requests have been made: the load's own
// progress, rather than a time, says that traffic ran through a phase.
func (l *load) after(t *testing.T, n int64) {
	t.Helper()
	want := l.total.Load() + n
	deadline := time.Now().Add(30 * time.Second)
	for l.total.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("the load made %d requests of %d in 30s", l.total.Load(), want)
		}
		time.Sleep(time.Millisecond) // polling a counter, not waiting for an event
	}
}

// take returns the counts so far and resets them.
func (l *load) take() (map[string]int, map[string]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	by, fails := l.by, l.fails
	l.by, l.fails = map[string]int{}, map[string]int{}
	return by, fails
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestHandoverUnderLoad: clients connecting without pause while three
// generations of a server replace each other on one address; each new one
// accepts from its start but closes connections until configured (as
// Traefik does). The steering keeps every connection on the old one until
// the new is steered to, then on the new one; the old one's queue drained,
// it stops and its socket closes (the group's last socket takes its index,
// which the holder follows). No request fails, and none reaches a
// generation before it is steered to.
func TestHandoverUnderLoad(t *testing.T) {
	addr := freeAddr(t)
	h := New([]Spec{{Name: "web", Network: "tcp", Address: addr}})
	g1, err := h.Open()
	if err != nil {
		t.Fatal(err)
	}
	s1 := serve(t, "gen1", g1, 0)
	s1.configured.Store(true)
	l := startLoad(addr, 8)
	defer func() { close(l.stop); l.wg.Wait() }()
	l.after(t, 200)

	old, olds := g1, s1
	for n := 2; n <= 3; n++ {
		g, err := h.Open()
		if err != nil {
			t.Fatal(err)
		}
		s := serve(t, fmt.Sprintf("gen%d", n), g, 0)
		// Beside the old one, not yet configured: traffic must not reach it.
		l.after(t, 300)
		if a := s.accepted.Load(); a != 0 {
			t.Fatalf("generation %d accepted %d connections before it was steered to", n, a)
		}
		s.configured.Store(true)
		if err := h.Steer(g); err != nil {
			t.Fatal(err)
		}
		l.after(t, 100)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := h.Drain(ctx, old); err != nil {
			t.Fatal(err)
		}
		cancel()
		olds.stop(t)
		if err := old.Close(); err != nil {
			t.Fatal(err)
		}
		by, fails := l.take()
		l.after(t, 300)
		after, fails2 := l.take()
		t.Logf("generation %d: answers %v during the change, %v after", n, by, after)
		for _, f := range []map[string]int{fails, fails2} {
			if len(f) > 0 {
				t.Fatalf("requests failed during generation %d's handover: %v", n, f)
			}
		}
		if len(after) != 1 || after[s.name] == 0 {
			t.Fatalf("after the handover to generation %d, answers came from %v", n, after)
		}
		old, olds = g, s
	}
	if err := h.Drain(context.Background(), old); err == nil {
		t.Error("Drain of the target generation: no error")
	}
}

// TestUnsteeredSpreads: the same two sockets without the steering — the
// kernel's hash alone — send the new, unconfigured generation connections,
// which fail: what the steering prevents (and proof the test above can
// fail).
func TestUnsteeredSpreads(t *testing.T) {
	addr := freeAddr(t)
	h := New([]Spec{{Name: "web", Network: "tcp", Address: addr}})
	g1, err := h.Open()
	if err != nil {
		t.Fatal(err)
	}
	s1 := serve(t, "gen1", g1, 0)
	s1.configured.Store(true)
	g2, err := h.Open()
	if err != nil {
		t.Fatal(err)
	}
	s2 := serve(t, "gen2", g2, 0)
	if err := control(g1.socks[0], func(fd int) error {
		return unixDetach(fd)
	}); err != nil {
		t.Fatal(err)
	}
	l := startLoad(addr, 8)
	l.after(t, 300)
	close(l.stop)
	l.wg.Wait()
	_, fails := l.take()
	if s2.accepted.Load() == 0 || len(fails) == 0 {
		t.Fatalf("without steering the unconfigured generation took %d connections (failures %v); want some", s2.accepted.Load(), fails)
	}
}

// TestUDPSteering: a UDP entry point's datagrams follow the steering too.
func TestUDPSteering(t *testing.T) {
	addr := freeAddr(t) // a free TCP port is very likely a free UDP one
	h := New([]Spec{{Name: "dns", Network: "udp", Address: addr}})
	recv := func(g *Generation) (net.PacketConn, chan string) {
		c, err := net.FilePacketConn(g.Files()[0])
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		ch := make(chan string, 100)
		go func() {
			b := make([]byte, 64)
			for {
				n, _, err := c.ReadFrom(b)
				if err != nil {
					return
				}
				ch <- string(b[:n])
			}
		}()
		return c, ch
	}
	g1, err := h.Open()
	if err != nil {
		t.Fatal(err)
	}
	_, ch1 := recv(g1)
	g2, err := h.Open()
	if err != nil {
		t.Fatal(err)
	}
	_, ch2 := recv(g2)
	send := func(msg string, n int) {
		for i := range n {
			c, err := net.Dial("udp", addr) // a new source port each: the hash would spread them
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(c, "%s%d", msg, i)
			c.Close()
		}
	}
	expect := func(ch, other chan string, prefix string, n int) {
		t.Helper()
		for range n {
			select {
			case m := <-ch:
				if !strings.HasPrefix(m, prefix) {
					t.Fatalf("got %q, want %s…", m, prefix)
				}
			case m := <-other:
				t.Fatalf("%q reached the generation not steered to", m)
			case <-time.After(10 * time.Second):
				t.Fatal("datagram lost on loopback")
			}
		}
	}
	send("a", 20)
	expect(ch1, ch2, "a", 20)
	if err := h.Steer(g2); err != nil {
		t.Fatal(err)
	}
	send("b", 20)
	expect(ch2, ch1, "b", 20)
}

func TestParseSynRecv(t *testing.T) {
	text := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:C350 03 00000000:00000000 02:00000064 00000000     0        0 0 0 0000000000000000
   2: 0100007F:1F91 0100007F:C351 03 00000000:00000000 02:00000064 00000000     0        0 0 0 0000000000000000
   3: 0100007F:1F90 0100007F:C352 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1
`
	for _, tc := range []struct {
		name   string
		within map[string]bool
		want   []string
	}{
		{"all on the port", nil, []string{"0100007F:1F90 0100007F:C350"}},
		{"within a set", map[string]bool{"0100007F:1F90 0100007F:C399": true}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := map[string]bool{}
			if err := parseSynRecv(strings.NewReader(text), map[string]bool{"1F90": true}, tc.within, out); err != nil {
				t.Fatal(err)
			}
			if len(out) != len(tc.want) {
				t.Fatalf("got %v, want %v", out, tc.want)
			}
			for _, k := range tc.want {
				if !out[k] {
					t.Fatalf("got %v, want %v", out, tc.want)
				}
			}
		})
	}
}

// oneListener holds one TCP entry point named name on a free loopback
// address, opens its one generation (closed when the test ends) and
// listens on it in this process, as a Traefik would.
func oneListener(t *testing.T, name string) (string, *Holder, net.Listener) {
	t.Helper()
	addr := freeAddr(t)
	h := New([]Spec{{Name: name, Network: "tcp", Address: addr}})
	g, err := h.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	l, err := net.FileListener(g.Files()[0])
	if err != nil {
		t.Fatal(err)
	}
	return addr, h, l
}

// TestPending: a connection to an entry point's address counts as open
// until it is closed, and as unserved until a byte is sent on it, unless
// the next generation's process holds it; the client's end does not count
// (its source port is not the entry point's).
func TestPending(t *testing.T) {
	addr, h, l := oneListener(t, "web")
	defer l.Close()
	expect := func(when string, held map[uint32]bool, open, unserved int) {
		t.Helper()
		o, u, err := h.pending(held)
		if err != nil {
			t.Fatal(err)
		}
		if o != open || u != unserved {
			t.Fatalf("%s: %d open, %d unserved; want %d, %d", when, o, u, open, unserved)
		}
	}
	expect("before any connection", nil, 0, 0)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	ours, err := socketInodes(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	expect("accepted, nothing sent", nil, 1, 1)
	expect("held by the next process", ours, 0, 0)
	if _, err := s.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	expect("answered", nil, 1, 0)
	s.Close()
	expect("closed", nil, 0, 0)
}

// TestShutdownDropsAHandshakenConnection is why a retired Traefik is
// stopped only once its connections are closed, not once each has had
// bytes sent: Go's HTTP server (Traefik's) closes unanswered a connection
// whose TLS handshake it has done — bytes sent — when the request comes
// after its Shutdown has begun. AwaitClosed waits for that connection;
// counting bytes sent alone, it would not.
func TestShutdownDropsAHandshakenConnection(t *testing.T) {
	chain, err := testcert.New(testcert.Options{Hosts: []string{"app.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(chain.Bundle(), chain.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	addr, h, l := oneListener(t, "websecure")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }), ReadHeaderTimeout: 5 * time.Second}
	began := make(chan struct{})
	srv.RegisterOnShutdown(func() { close(began) })
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}}))
	}()
	defer srv.Close()

	roots := x509.NewCertPool()
	roots.AddCert(chain.CA)
	c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "app.example.com", RootCAs: roots})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	eventually := func(want func(open, unserved int) bool, what string) {
		t.Helper()
		for {
			open, unserved, err := h.pending(nil)
			if err != nil {
				t.Fatal(err)
			}
			if want(open, unserved) {
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s: %d open, %d unserved", what, open, unserved)
			case <-time.After(drainPoll):
			}
		}
	}
	eventually(func(open, unserved int) bool { return open == 1 && unserved == 0 }, "handshake done, no request yet: want 1 open, served in part")

	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(ctx) }()
	<-began
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: app.example.com\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil || len(b) != 0 {
		t.Fatalf("a request read after Shutdown began: %q %v; want no answer (if Go's server now answers it, AwaitClosed may wait for less)", b, err)
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	<-served
	eventually(func(open, _ int) bool { return open == 0 }, "closed by the server: want none open")
}

// TestCheckReachesTheNewGeneration: a check of an entry point reaches the
// new generation's socket — its source port steered there by the group's
// program — while every other connection still goes to the old one: the
// new one gets every check, and under load nothing else.
func TestCheckReachesTheNewGeneration(t *testing.T) {
	addr := freeAddr(t)
	h := New([]Spec{{Name: "web", Network: "tcp", Address: addr, Check: CheckHTTP}})
	g1, err := h.Open()
	if err != nil {
		t.Fatal(err)
	}
	s1 := serve(t, "gen1", g1, 0)
	s1.configured.Store(true)
	g2, err := h.Open()
	if err != nil {
		t.Fatal(err)
	}
	l2, err := net.FileListener(g2.Files()[0])
	if err != nil {
		t.Fatal(err)
	}
	var others, probes atomic.Int64
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != ProbeRoute {
			others.Add(1)
			http.NotFound(w, r)
			return
		}
		probes.Add(1)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l2) }()
	defer srv.Close()
	l := startLoad(addr, 4)
	for range 20 {
		if err := h.check(context.Background(), g2, 0); err != nil {
			t.Fatalf("check of the new generation: %v", err)
		}
	}
	if n := probes.Load(); n != 20 {
		t.Fatalf("the new generation got %d of the 20 checks", n)
	}
	l.after(t, 100)
	close(l.stop)
	l.wg.Wait()
	by, fails := l.take()
	if len(fails) > 0 || others.Load() != 0 || by["gen1"] == 0 {
		t.Fatalf("load during the checks: answers %v, failures %v, %d reached the new generation", by, fails, others.Load())
	}
}
