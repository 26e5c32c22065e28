package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// netns is a network namespace a benchmark creates (ip netns add) so that
// Traefik v2's Rancher provider, which reads metadata only from
// rancher-metadata.rancher.internal, finds the emulator: /etc/netns/NAME/hosts
// (bind-mounted over /etc/hosts by `ip netns exec`) points that name at
// 127.0.0.1. Everything the benchmark measures runs inside it; the benchmark
// process itself enters it from locked OS threads (do), so its listeners
// and its probe's connections live there too.
type netns struct {
	name string
	fd   int // /run/netns/NAME, for setns(2)
	work chan func()
}

// netnsUnavailable says why namespaces cannot be used here, or "".
func netnsUnavailable() string {
	if os.Geteuid() != 0 {
		return "not root"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "no ip command (iproute2)"
	}
	return ""
}

// newNetns creates the namespace with its loopback up; the benchmark's
// cleanup removes it and its hosts file.
func newNetns(b testing.TB) (*netns, error) {
	name := fmt.Sprintf("rtbench-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add %s: %w: %s", name, err, out)
	}
	etc := filepath.Join("/etc/netns", name)
	b.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			b.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
		_ = os.RemoveAll(etc)
	})
	if err := os.MkdirAll(etc, 0o755); err != nil {
		return nil, err
	}
	hosts := "127.0.0.1 localhost\n127.0.0.1 rancher-metadata.rancher.internal rancher-metadata\n"
	if err := os.WriteFile(filepath.Join(etc, "hosts"), []byte(hosts), 0o644); err != nil {
		return nil, err
	}
	if out, err := exec.Command("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("lo up in %s: %w: %s", name, err, out)
	}
	fd, err := unix.Open(filepath.Join("/run/netns", name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening the namespace: %w", err)
	}
	n := &netns{name: name, fd: fd, work: make(chan func())}
	ready := make(chan error)
	go n.worker(ready)
	b.Cleanup(func() { close(n.work); _ = unix.Close(fd) })
	if err := <-ready; err != nil {
		return nil, err
	}
	return n, nil
}

// do runs f on the namespace's worker: one OS thread that entered the
// namespace and runs nothing else. It is never unlocked, so it ends with
// the worker (the namespace's cleanup) and no other goroutine ever runs in
// the namespace by accident. A thread per call would not do: a locked
// thread that ends may be the one that started a child process earlier,
// and the child's Pdeathsig would kill it.
func (n *netns) do(f func() error) error {
	if n == nil {
		return f()
	}
	errc := make(chan error, 1)
	n.work <- func() { errc <- f() }
	return <-errc
}

// worker enters the namespace and runs the calls of do until work closes.
func (n *netns) worker(ready chan<- error) {
	runtime.LockOSThread()
	if err := unix.Setns(n.fd, unix.CLONE_NEWNET); err != nil {
		ready <- fmt.Errorf("setns: %w", err)
		return
	}
	ready <- nil
	for f := range n.work {
		f()
	}
}

// listen opens a TCP listener inside the namespace (or here, for nil).
func (n *netns) listen(addr string) (net.Listener, error) {
	var l net.Listener
	err := n.do(func() (err error) {
		l, err = net.Listen("tcp", addr)
		return err
	})
	return l, err
}

// client is an HTTP client whose connections are made inside the namespace.
func (n *netns) client() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (c net.Conn, err error) {
				err = n.do(func() (err error) {
					c, err = d.DialContext(ctx, network, addr)
					return err
				})
				return c, err
			},
		},
	}
}

// exec prefixes argv to run inside the namespace.
func (n *netns) exec(argv ...string) []string {
	if n == nil {
		return argv
	}
	return append([]string{"ip", "netns", "exec", n.name}, argv...)
}

// stampedLine is one output line and when the benchmark read it.
type stampedLine struct {
	at   time.Time
	text string
}

// stamped collects a process's output line by line with arrival times.
type stamped struct {
	mu    sync.Mutex
	lines []stampedLine
}

func (s *stamped) read(r *os.File) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		l := stampedLine{time.Now(), sc.Text()}
		s.mu.Lock()
		s.lines = append(s.lines, l)
		s.mu.Unlock()
	}
	_ = r.Close()
}

// since returns the lines read at or after t that contain substr.
func (s *stamped) since(t time.Time, substr string) []stampedLine {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []stampedLine
	for _, l := range s.lines {
		if !l.at.Before(t) && strings.Contains(l.text, substr) {
			out = append(out, l)
		}
	}
	return out
}

func (s *stamped) tail(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, l := range s.lines[max(0, len(s.lines)-n):] {
		b.WriteString(l.text)
		b.WriteByte('\n')
	}
	return b.String()
}

// benchProc is a process a benchmark runs (rancher-traefik or a Traefik),
// its stdout and stderr merged and time-stamped; cleanup ends it.
type benchProc struct {
	cmd  *exec.Cmd
	out  stamped
	done chan struct{}
}

func startProc(b testing.TB, env []string, argv ...string) *benchProc {
	b.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	p := &benchProc{cmd: exec.Command(argv[0], argv[1:]...), done: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = w, w
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	_ = w.Close()
	go p.out.read(r)
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	b.Cleanup(func() { p.stop(b) })
	return p
}

// stop sends SIGTERM (ip netns exec execs its command: the pid is the
// process itself) and waits, killing after 20 s.
func (p *benchProc) stop(b testing.TB) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		b.Logf("%s ignored SIGTERM for 20 s: killed", p.cmd.Path)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// exited fails the benchmark when the process ended early.
func (p *benchProc) exited(b testing.TB) {
	select {
	case <-p.done:
		b.Fatalf("%v exited early: %v\n%s", p.cmd.Args, p.cmd.ProcessState, p.out.tail(40))
	default:
	}
}

// renameWatch records when a file is renamed into a directory (inotify
// IN_MOVED_TO, as the publisher's atomic write ends), read as it happens
// (non-blocking, so closing the file ends the reader).
type renameWatch struct {
	mu    sync.Mutex
	times []time.Time
}

func watchRenames(b testing.TB, dir, name string) *renameWatch {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		b.Fatalf("inotify: %v", err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_MOVED_TO); err != nil {
		_ = unix.Close(fd)
		b.Fatalf("inotify %s: %v", dir, err)
	}
	w := &renameWatch{}
	f := os.NewFile(uintptr(fd), "inotify")
	b.Cleanup(func() { _ = f.Close() })
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := f.Read(buf)
			if err != nil {
				return // closed
			}
			at := time.Now()
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				raw := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
				if strings.TrimRight(string(raw), "\x00") == name {
					w.mu.Lock()
					w.times = append(w.times, at)
					w.mu.Unlock()
				}
				off += unix.SizeofInotifyEvent + int(ev.Len)
			}
		}
	}()
	return w
}

// first is the first rename at or after t (zero when none).
func (w *renameWatch) first(t time.Time) time.Time {
	if w == nil {
		return time.Time{}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, at := range w.times {
		if !at.Before(t) {
			return at
		}
	}
	return time.Time{}
}

// count is the number of renames in [from, to].
func (w *renameWatch) count(from, to time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, at := range w.times {
		if !at.Before(from) && !at.After(to) {
			n++
		}
	}
	return n
}
