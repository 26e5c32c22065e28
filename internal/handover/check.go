package handover

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ProbeRoute is the path a generation answers (200) on its HTTP entry
// points once their routers are switched: the probe file routes it to
// ping@internal on each of them.
const ProbeRoute = "/.well-known/rancher-traefik-probe"

// Checks of Spec.Check: how an entry point shows its routers are switched.
const (
	CheckHTTP = "http" // GET ProbeRoute answers 200
	CheckTLS  = "tls"  // the same over TLS (before its routers, Traefik has no TLS configuration and closes it)
)

// checkAll checks every entry point of g that has a check, each until it
// passes or ctx ends. Why each: Traefik switches its entry points' routers
// one after another (TCPEntryPoints.Switch ranges over a map), so the
// probe entry point answering says the configuration is applied, not
// that every other entry point has its routers yet — a Traefik descheduled
// between two switches would close, for a while, what its https entry
// point accepts.
func (h *Holder) checkAll(ctx context.Context, g *Generation) error {
	for i, s := range h.specs {
		if s.Check == "" || s.Network != "tcp" {
			continue
		}
		t := time.NewTicker(readyPoll)
		for {
			err := h.check(ctx, g, i)
			if err == nil {
				break
			}
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("entry point %s of the new Traefik: %v: %w", s.Name, err, ctx.Err())
			case <-t.C:
			}
		}
		t.Stop()
	}
	return nil
}

// check connects to entry point i from a source port of its own, which the
// group's program sends to g's socket (every other connection still goes
// to the target's), and runs the entry point's check.
func (h *Holder) check(ctx context.Context, g *Generation, i int) error {
	s := h.specs[i]
	host, port, err := net.SplitHostPort(s.Address)
	if err != nil {
		return err
	}
	dst := net.ParseIP(host)
	if dst == nil || dst.IsUnspecified() {
		dst = net.IPv4(127, 0, 0, 1)
	}
	h.mu.Lock() // no other steering while the program names this probe
	defer h.mu.Unlock()
	defer func() { _ = h.attachLocked() }()
	d := net.Dialer{Timeout: time.Second, Control: func(_, _ string, c syscall.RawConn) error {
		var cerr error
		if err := c.Control(func(fd uintptr) { cerr = h.bindProbe(int(fd), dst, g, i) }); err != nil {
			return err
		}
		return cerr
	}}
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	conn, err := d.DialContext(cctx, "tcp", net.JoinHostPort(dst.String(), port))
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	switch s.Check {
	case CheckTLS:
		// Any certificate: a handshake alone would pass on the routers of
		// a configuration without the file provider's part (Traefik's
		// default certificate), so the probe route is asked too.
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, ServerName: "rancher-traefik-probe.invalid"}) // #nosec G402
		if err := tc.HandshakeContext(cctx); err != nil {
			return err
		}
		conn = tc
		fallthrough
	case CheckHTTP:
		if _, err := io.WriteString(conn, "GET "+ProbeRoute+" HTTP/1.1\r\nHost: rancher-traefik-probe\r\nConnection: close\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", ProbeRoute, resp.Status)
		}
		return nil
	}
	return fmt.Errorf("check %q: want %s or %s", s.Check, CheckHTTP, CheckTLS)
}

// bindProbe binds the probe's socket fd to an ephemeral port of the
// source address and attaches to group i a program that sends that
// source port to g's socket.
func (h *Holder) bindProbe(fd int, dst net.IP, g *Generation, i int) error {
	var sa unix.Sockaddr
	if ip4 := dst.To4(); ip4 != nil {
		sa = &unix.SockaddrInet4{Addr: [4]byte(ip4)}
	} else {
		sa = &unix.SockaddrInet6{Addr: [16]byte(dst.To16())}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fmt.Errorf("binding the probe: %w", err)
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		return fmt.Errorf("getsockname: %w", err)
	}
	var sport int
	switch a := got.(type) {
	case *unix.SockaddrInet4:
		sport = a.Port
	case *unix.SockaddrInet6:
		sport = a.Port
	}
	target, probe := h.index(i, h.target), h.index(i, g)
	if target < 0 || probe < 0 {
		return fmt.Errorf("entry point %s: a generation is not in its group", h.specs[i].Name)
	}
	return attachProg(h.target.socks[i], steerSourcePort(uint32(target), uint32(probe), uint16(sport)))
}

// index is g's position in group i, or -1.
func (h *Holder) index(i int, g *Generation) int {
	if g == nil {
		return -1
	}
	for j, f := range h.groups[i] {
		if f == g.socks[i] {
			return j
		}
	}
	return -1
}

// skfNetOff is SKF_NET_OFF: classic BPF offsets from it are from the
// network header (the program otherwise sees the packet past the TCP or
// UDP header).
const skfNetOff = -0x100000

// steerSourcePort is a program that returns probe for a packet whose
// source port is sport (IPv4 with any header length, IPv6 without
// extension headers), target for any other.
func steerSourcePort(target, probe uint32, sport uint16) []unix.SockFilter {
	k := func(v int) uint32 { return uint32(int32(v)) }
	return []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS, K: k(skfNetOff)},                 // 0: A = version<<4 | ...
		{Code: unix.BPF_ALU | unix.BPF_RSH | unix.BPF_K, K: 4},                           // 1: A = version
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: 6, Jt: 3, Jf: 0},             // 2: IPv6 → 6
		{Code: unix.BPF_LDX | unix.BPF_B | unix.BPF_MSH, K: k(skfNetOff)},                // 3: X = IPv4 header length
		{Code: unix.BPF_LD | unix.BPF_H | unix.BPF_IND, K: k(skfNetOff)},                 // 4: A = source port
		{Code: unix.BPF_JMP | unix.BPF_JA, K: 1},                                         // 5: → 7
		{Code: unix.BPF_LD | unix.BPF_H | unix.BPF_ABS, K: k(skfNetOff + 40)},            // 6: A = IPv6 source port
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: uint32(sport), Jt: 0, Jf: 1}, // 7
		{Code: unix.BPF_RET | unix.BPF_K, K: probe},                                      // 8
		{Code: unix.BPF_RET | unix.BPF_K, K: target},                                     // 9
	}
}
