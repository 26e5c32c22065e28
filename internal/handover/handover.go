// Package handover lets one Traefik replace another on the same ports
// without a refused, reset or unconfigured connection: the supervisor holds
// the entry points' listening sockets and gives each Traefik (a generation)
// its own, by systemd socket activation, and the kernel is told which
// generation's sockets take new connections.
//
// Why so, rather than a stop and a start: while no Traefik listens,
// connections are refused; and Traefik v3 opens its entry points before it
// applies its first configuration (pkg/server/server.go starts the entry
// points, then the configuration watcher), so the connections a new
// Traefik accepts first are closed unanswered, or get its generated
// default certificate. Holding one socket across Traefiks cures the first
// alone. Here each generation's socket joins one SO_REUSEPORT group per
// entry point, and a classic BPF program attached to the group
// (SO_ATTACH_REUSEPORT_CBPF, socket(7)) returns the index of the socket
// that takes every new connection: the old generation's until the new one
// is proven configured (Ready), the new one's from then on (Steer). The
// old generation's sockets are closed only once nothing is left in their
// accept queues or handshakes (Drain): a listener closed with connections
// queued resets them (net.ipv4.tcp_migrate_req, which would move them, is
// off by default and often read-only in a container).
//
// The index a program returns is a position in the group's array, which
// the kernel keeps as: a socket is appended when it joins (TCP: at
// listen; UDP: at bind), and when one leaves (its last descriptor closed)
// the last one takes its place (net/core/sock_reuseport.c,
// reuseport_add_sock, __reuseport_detach_sock). Holder mirrors that array;
// every socket of a group is ours (joining one needs SO_REUSEPORT and the
// same user, and Traefik only inherits ours). An index past the end makes
// the kernel fall back to its hash, which may choose a retiring
// generation's socket: so no socket is closed while that would move the
// target's (Close).
package handover

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// ProbeName is the entry point a generation alone answers on (see Ready):
// traefik.toml declares it, and a dynamic file routes it.
const ProbeName = "rancher-traefik-probe"

// Spec is one entry point's socket.
type Spec struct {
	Name    string // the entry point's name in traefik.toml
	Network string // "tcp" or "udp"
	Address string // host:port, as net.Listen takes it
	// Check is how a new generation shows this entry point's routers are
	// switched (CheckHTTP, CheckTLS; "": not checked — a TCP entry point
	// of any protocol). See Ready.
	Check string
}

// Holder holds every generation's sockets, and the groups they form.
type Holder struct {
	specs []Spec

	mu     sync.Mutex
	groups [][]*os.File // per spec: the group's sockets in the kernel's order
	target *Generation  // the one new connections go to
	// retired, per spec: sockets of closed generations still in their
	// group, because closing them would move the target's socket (see
	// closeRetiredLocked). The program names the target, so they take
	// nothing meanwhile.
	retired [][]*os.File
}

// New returns a Holder for specs. It opens nothing yet.
func New(specs []Spec) *Holder {
	return &Holder{specs: specs, groups: make([][]*os.File, len(specs)), retired: make([][]*os.File, len(specs))}
}

// Specs are the entry points held.
func (h *Holder) Specs() []Spec { return h.specs }

// Generation is the sockets of one Traefik.
type Generation struct {
	h      *Holder
	socks  []*os.File // per spec
	probe  *os.File
	probeA string
	closed bool
}

// Open binds a new generation's sockets: one per spec, joined to its group,
// and the probe's, on a loopback port of its own. The first generation
// takes new connections at once; a later one only once steered to.
func (h *Holder) Open() (*Generation, error) {
	g := &Generation{h: h}
	for _, s := range h.specs {
		f, err := bind(s.Network, s.Address, true)
		if err != nil {
			g.closeFiles()
			return nil, fmt.Errorf("entry point %s (%s %s): %w", s.Name, s.Network, s.Address, err)
		}
		g.socks = append(g.socks, f)
	}
	f, err := bind("tcp", "127.0.0.1:0", false)
	if err != nil {
		g.closeFiles()
		return nil, fmt.Errorf("entry point %s: %w", ProbeName, err)
	}
	g.probe = f
	if g.probeA, err = localAddr(f); err != nil {
		g.closeFiles()
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, f := range g.socks {
		h.groups[i] = append(h.groups[i], f)
	}
	if h.target == nil {
		h.target = g
		return g, h.attachLocked()
	}
	// The group's program still names the target's index: appending
	// changes no index, so the new sockets take nothing yet. The target's
	// socket no longer last, the retired ones can close.
	h.closeRetiredLocked()
	return g, nil
}

// Files are the sockets to pass to the generation's Traefik, in the order
// of Names (its LISTEN_FDNAMES): fd 3 onwards.
func (g *Generation) Files() []*os.File {
	return append(append([]*os.File(nil), g.socks...), g.probe)
}

// Names are the entry points of Files, in order.
func (g *Generation) Names() []string { return g.h.Names() }

// Names are the entry points of every generation's sockets, in order: the
// specs', then the probe's.
func (h *Holder) Names() []string {
	var n []string
	for _, s := range h.specs {
		n = append(n, s.Name)
	}
	return append(n, ProbeName)
}

// Env is the socket activation environment of Files, but LISTEN_PID: the
// child sets that itself, to its own pid (go-systemd's activation.Files
// ignores the descriptors otherwise), before it execs Traefik.
func (g *Generation) Env() []string {
	return []string{"LISTEN_FDS=" + strconv.Itoa(len(g.socks)+1), "LISTEN_FDNAMES=" + strings.Join(g.Names(), ":")}
}

// ProbeAddr is the generation's probe entry point, host:port.
func (g *Generation) ProbeAddr() string { return g.probeA }

// Steer sends every new connection and datagram to g's sockets.
func (h *Holder) Steer(g *Generation) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if g.closed {
		return errors.New("steering to a closed generation")
	}
	h.target = g
	return h.attachLocked()
}

// Target reports whether g takes the new connections.
func (h *Holder) Target(g *Generation) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.target == g
}

// attachLocked attaches to every group a program returning the target's
// index in it.
func (h *Holder) attachLocked() error {
	var errs []error
	for i, grp := range h.groups {
		idx := -1
		for j, f := range grp {
			if f == h.target.socks[i] {
				idx = j
			}
		}
		if idx < 0 {
			continue
		}
		if err := attach(h.target.socks[i], uint32(idx)); err != nil {
			errs = append(errs, fmt.Errorf("entry point %s: steering to socket %d: %w", h.specs[i].Name, idx, err))
		}
	}
	return errors.Join(errs...)
}

// Close closes g's sockets (its Traefik must be gone, or they live on in
// it) and keeps the groups' mirror and program right.
//
// Closing a socket makes the group's last socket take its place; were the
// target's socket the last, it would move, and until the program names
// its new index the kernel would choose by its hash among the others —
// generations retiring, whose Traefik may accept no more, so the
// connection would wait in a queue closed later, and be reset. That
// happens when three generations coexist (a second handover while the
// first one's retirement drains). So a socket whose close would move the
// target's stays open, taking nothing, until it would not: the next
// generation's sockets, appended after the target's (Open), or the
// target's own close.
func (g *Generation) Close() error {
	h := g.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	if g.probe != nil {
		g.probe.Close()
	}
	for i, f := range g.socks {
		h.retired[i] = append(h.retired[i], f)
	}
	if h.target == g {
		h.target = nil
	}
	h.closeRetiredLocked()
	if h.target != nil {
		return h.attachLocked()
	}
	return nil
}

// closeRetiredLocked closes every retired socket whose close moves no
// target's socket: the group's last one, or any while the last is not the
// target's (or there is none). Of these, the first in the group's order:
// the last socket moves into its place, which leaves the most sockets
// after it — and after the target's, when the last is the next
// generation's — so that a later close is as likely to be free as can be.
func (h *Holder) closeRetiredLocked() {
	for i := range h.retired {
		for {
			f := h.closableLocked(i)
			if f == nil {
				break
			}
			grp := h.groups[i]
			last := grp[len(grp)-1]
			for j := range grp {
				if grp[j] == f {
					grp[j] = last
					h.groups[i] = grp[:len(grp)-1]
					break
				}
			}
			f.Close()
			for k, r := range h.retired[i] {
				if r == f {
					h.retired[i] = append(h.retired[i][:k], h.retired[i][k+1:]...)
					break
				}
			}
			if detached != nil {
				detached(h)
			}
		}
	}
}

// closableLocked is the retired socket of group i to close next, nil if
// closing any would move the target's.
func (h *Holder) closableLocked(i int) *os.File {
	if len(h.retired[i]) == 0 {
		return nil
	}
	retired := func(f *os.File) bool {
		for _, r := range h.retired[i] {
			if r == f {
				return true
			}
		}
		return false
	}
	grp := h.groups[i]
	last := grp[len(grp)-1]
	if retired(last) {
		return last
	}
	if h.target != nil && last == h.target.socks[i] {
		return nil
	}
	for _, f := range grp {
		if retired(f) {
			return f
		}
	}
	return nil
}

// detached, when set (tests), is called with the holder's lock held after
// each socket leaves its group, before the program is next set.
var detached func(*Holder)

// Yield closes the holder's descriptors of g's sockets and nothing else:
// they close when g's Traefik closes its own (its shutdown), refusing
// connections from then on as a Traefik's own sockets would. For a
// Traefik stopping for good; Close later completes the bookkeeping.
func (g *Generation) Yield() {
	g.h.mu.Lock()
	defer g.h.mu.Unlock()
	if !g.closed {
		g.closeFiles()
	}
}

func (g *Generation) closeFiles() {
	for _, f := range g.socks {
		f.Close()
	}
	if g.probe != nil {
		g.probe.Close()
	}
}

// bind opens a listening TCP socket or a bound UDP one, with SO_REUSEPORT
// when reuse, and returns it as a file (the only descriptor left).
func bind(network, address string, reuse bool) (*os.File, error) {
	lc := net.ListenConfig{}
	// Go listens with Multipath TCP when the kernel has it; an MPTCP
	// listener refuses a reuseport program (EOPNOTSUPP), and Traefik turns
	// MPTCP off for its own listeners too (buildListener).
	lc.SetMultipathTCP(false)
	if reuse {
		lc.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			}); err != nil {
				return err
			}
			if serr != nil {
				return fmt.Errorf("SO_REUSEPORT: %w", serr)
			}
			return nil
		}
	}
	var (
		f   *os.File
		err error
	)
	switch network {
	case "tcp":
		var l net.Listener
		if l, err = lc.Listen(context.Background(), "tcp", address); err != nil {
			return nil, err
		}
		defer l.Close()
		f, err = l.(*net.TCPListener).File()
	case "udp":
		var c net.PacketConn
		if c, err = lc.ListenPacket(context.Background(), "udp", address); err != nil {
			return nil, err
		}
		defer c.Close()
		f, err = c.(*net.UDPConn).File()
	default:
		return nil, fmt.Errorf("network %q: want tcp or udp", network)
	}
	if err != nil {
		return nil, fmt.Errorf("duplicating the socket: %w", err)
	}
	return f, nil
}

// attach sets the program of f's group: "return idx".
func attach(f *os.File, idx uint32) error {
	return attachProg(f, []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: idx}})
}

// attachProg sets the program of f's group.
func attachProg(f *os.File, prog []unix.SockFilter) error {
	fprog := &unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	return control(f, func(fd int) error {
		return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_REUSEPORT_CBPF, fprog)
	})
}

// control runs fn on f's descriptor without f.Fd(), which would set the
// file description — shared with the child — to blocking mode.
func control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// localAddr is f's bound address.
func localAddr(f *os.File) (string, error) {
	var addr string
	err := control(f, func(fd int) error {
		sa, err := unix.Getsockname(fd)
		if err != nil {
			return fmt.Errorf("getsockname: %w", err)
		}
		if in4, ok := sa.(*unix.SockaddrInet4); ok {
			addr = net.JoinHostPort(net.IP(in4.Addr[:]).String(), strconv.Itoa(in4.Port))
			return nil
		}
		return fmt.Errorf("probe socket: not IPv4: %T", sa)
	})
	return addr, err
}
