package handover

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// drainPoll is how often Drain looks at the queues: a handshake on
// loopback takes microseconds, one across a network a round trip.
const drainPoll = 2 * time.Millisecond

// Drain waits until g's TCP sockets hold nothing a close would reset, g no
// longer being the target: every handshake under way when it is called
// (SYN_RECV, which may belong to g's listeners: the kernel chose the
// listener at the SYN) has ended, and then g's accept queues are empty
// (its Traefik has accepted all; TCP_INFO's tcpi_unacked on a listener is
// its accept queue's length, tcp_get_info in net/ipv4/tcp.c). New
// connections reach another generation, so nothing joins g's queues
// afterwards. UDP sockets have no queue of connections: a datagram queued
// on one when it closes is lost, as a datagram may be.
//
// One window is left: a SYN the kernel was steering on another CPU as the
// program changed may still pick g (the program is swapped under RCU) and
// create its handshake after the SYN_RECV list is read; on loopback or a
// LAN that handshake ends within microseconds, before the queues are read.
//
// It returns ctx's error if ctx ends first, with what was left.
func (h *Holder) Drain(ctx context.Context, g *Generation) error {
	if h.Target(g) {
		return fmt.Errorf("draining the generation new connections go to")
	}
	ports := map[string]bool{}
	var tcp []*os.File
	for i, s := range h.specs {
		if s.Network != "tcp" {
			continue
		}
		_, p, err := net.SplitHostPort(s.Address)
		if err != nil {
			return fmt.Errorf("entry point %s: %w", s.Name, err)
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("entry point %s: port %q: %w", s.Name, p, err)
		}
		ports[fmt.Sprintf("%04X", n)] = true
		tcp = append(tcp, g.socks[i])
	}
	pending, err := synRecv(ports, nil)
	if err != nil {
		return err
	}
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for {
		left := 0
		if len(pending) > 0 {
			if pending, err = synRecv(ports, pending); err != nil {
				return err
			}
			left = len(pending)
		}
		queued := 0
		if left == 0 {
			for _, f := range tcp {
				n, err := acceptQueue(f)
				if err != nil {
					return err
				}
				queued += n
			}
		}
		if left == 0 && queued == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d handshakes and %d queued connections left: %w", left, queued, ctx.Err())
		case <-t.C:
		}
	}
}

// acceptQueue is the number of connections waiting in f's accept queue.
func acceptQueue(f *os.File) (int, error) {
	var n int
	err := control(f, func(fd int) error {
		ti, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil {
			return fmt.Errorf("TCP_INFO: %w", err)
		}
		n = int(ti.Unacked)
		return nil
	})
	return n, err
}

// synRecv lists the handshakes under way (SYN_RECV) whose local port is
// one of ports (4 hex digits, as /proc/net/tcp writes them), keyed by
// local and remote address. With within, only those also in within.
func synRecv(ports map[string]bool, within map[string]bool) (map[string]bool, error) {
	out := map[string]bool{}
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(file)
		if os.IsNotExist(err) {
			continue // no IPv6
		}
		if err != nil {
			return nil, fmt.Errorf("reading the handshakes under way: %w", err)
		}
		err = parseSynRecv(f, ports, within, out)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	return out, nil
}

// tcpSynRecv is the state column of a handshake under way (TCP_SYN_RECV).
const tcpSynRecv = "03"

// parseSynRecv adds to out the SYN_RECV lines of a /proc/net/tcp text.
func parseSynRecv(r io.Reader, ports, within, out map[string]bool) error {
	sc := bufio.NewScanner(r)
	sc.Scan() // the header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || f[3] != tcpSynRecv {
			continue
		}
		_, port, ok := strings.Cut(f[1], ":")
		if !ok || !ports[port] {
			continue
		}
		key := f[1] + " " + f[2]
		if within == nil || within[key] {
			out[key] = true
		}
	}
	return sc.Err()
}
