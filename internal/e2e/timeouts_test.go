package e2e

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// slowBody is a backend that streams its body for about 5 s, a chunk every
// 100 ms.
func slowBody(t *testing.T, ip string) string {
	t.Helper()
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "50")
		for range 50 {
			if _, err := io.WriteString(w, "x"); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-time.After(100 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().String()
}

// fullListener is a listening socket that never accepts, with its accept
// queue filled: the kernel drops further SYNs, so a dial to it hangs until
// the dialer gives up — a backend that does not answer connections.
func fullListener(t *testing.T, ip string) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	addr := &syscall.SockaddrInet4{}
	copy(addr.Addr[:], net.ParseIP(ip).To4())
	if err := syscall.Bind(fd, addr); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	hostport := net.JoinHostPort(ip, strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	// Fill the queue: dials that complete stay queued (never accepted);
	// the first that does not complete shows it is full.
	for n := 0; ; n++ {
		c, err := net.DialTimeout("tcp", hostport, 300*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
		if n > 16 {
			t.Fatal("the accept queue never filled")
		}
	}
	return hostport
}

// TestKnobTimeoutsEffects: the write, idle and dial timeouts each cut what
// they bound, well before Traefik's own defaults would (write: none, idle:
// 180 s, dial: 30 s). The write timeout (3 s) stays above the dial timeout
// (1 s): it bounds the whole answer, the 504 of a failed dial included.
func TestKnobTimeoutsEffects(t *testing.T) {
	slow, fast, dead := slowBody(t, "127.0.14.31"), backend(t, "127.0.14.32", "fast", 0), fullListener(t, "127.0.14.33")
	i := newInstance(t, map[string]string{"TRAEFIK_HTTPS_REDIRECT": "false", "TRAEFIK_RETRY_ATTEMPTS": "0",
		"TRAEFIK_WRITE_TIMEOUT": "3s", "TRAEFIK_IDLE_TIMEOUT": "1s", "TRAEFIK_DIAL_TIMEOUT": "1s"})
	i.writeDynamic("t.toml", route("slow", "slow.example.com", "http", slow)+route("fast", "fast.example.com", "http", fast)+route("dead", "dead.example.com", "http", dead))
	i.start("run")
	i.waitReady()
	base := fmt.Sprintf("http://127.0.0.1:%d/", i.httpPort)
	eventually(t, 20*time.Second, "the routes", func() error {
		code, _, err := get(plainClient(), base, http.Header{"Host": {"fast.example.com"}})
		if err != nil || code != 200 {
			return fmt.Errorf("%d %v", code, err)
		}
		return nil
	})

	t.Run("write timeout: a response still streaming after 3 s is cut", func(t *testing.T) {
		req, _ := http.NewRequest("GET", base, nil)
		req.Host = "slow.example.com"
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			return // cut before the headers: cut all the same
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the client's own 30 s ran out first (read %d bytes)", len(b))
		}
		if err == nil && len(b) == 50 {
			t.Fatal("the whole 5 s body arrived: the write timeout did not cut it")
		}
	})

	t.Run("idle timeout: a kept-alive connection is closed after 1 s", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(i.httpPort)), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: fast.example.com\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		buf := make([]byte, 4096)
		n, err := conn.Read(buf)
		if err != nil || !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 200") {
			t.Fatalf("first answer %q %v", buf[:n], err)
		}
		// Then nothing is sent: the next read ends when Traefik closes the
		// idle connection (EOF), long before the 30 s deadline.
		for {
			_, err = conn.Read(buf)
			if err != nil {
				break
			}
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("the idle connection was still open after 30 s")
		}
	})

	t.Run("dial timeout: a backend that never accepts answers 504 after 1 s", func(t *testing.T) {
		code, body, err := get(&http.Client{Timeout: 20 * time.Second}, base, http.Header{"Host": {"dead.example.com"}})
		if err != nil {
			t.Fatalf("no answer within 20 s (the default dial timeout is 30 s): %v", err)
		}
		if code != http.StatusGatewayTimeout && code != http.StatusBadGateway {
			t.Errorf("answered %d %q, want 504 (or 502)", code, body)
		}
	})
}
