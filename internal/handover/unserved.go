package handover

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Pending counts the connections to the TCP entry points' addresses that a
// process other than next holds — during a handover, the ones the
// previous Traefik accepted — and, of them, the unserved ones: nothing
// sent on them yet (tcp_info's tcpi_bytes_sent, Linux 4.19 and later).
//
// The previous Traefik is stopped only once none is left (or a limit has
// passed: a client keeping its connection alive keeps it above 0), for its
// shutdown drops a connection whose first request it has not read yet,
// though the connection be served in part: one its TCP router has not yet
// handed to its HTTP server (which reads the first bytes to choose) waits
// unanswered until the grace ends, then is closed; and Go's HTTP server
// (net/http conn.serve) closes unanswered a connection whose request it
// reads once its Shutdown has begun — over TLS, after a handshake that
// has sent bytes. A connection the previous Traefik has answered and
// keeps alive, idle, is closed by its shutdown, which a client retries
// (the connection was reused); one it is answering is left to finish.
//
// "Not held by next" rather than "held by the previous one": a connection
// the previous Traefik is accepting has left its accept queue (Drain saw
// it empty) and has its socket's inode, but may not be in its descriptor
// table yet. A connection in an accept queue has no inode yet and is left
// out: after Drain, only next's queue takes connections.
//
// The connections are read from the kernel's socket diagnostics
// (NETLINK_SOCK_DIAG, sock_diag(7)); next's by inode (/proc/<pid>/fd).
func (h *Holder) Pending(next int) (open, unserved int, err error) {
	held, err := socketInodes(next)
	if err != nil {
		return 0, 0, err
	}
	return h.pending(held)
}

// pending is Pending with next's sockets given.
func (h *Holder) pending(held map[uint32]bool) (open, unserved int, err error) {
	type ep struct {
		ip   net.IP // nil: any address
		port uint16
	}
	var eps []ep
	for _, s := range h.specs {
		if s.Network != "tcp" {
			continue
		}
		host, port, err := net.SplitHostPort(s.Address)
		if err != nil {
			return 0, 0, fmt.Errorf("entry point %s: %w", s.Name, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return 0, 0, fmt.Errorf("entry point %s: port %q: %w", s.Name, port, err)
		}
		e := ep{port: uint16(p)}
		if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
			e.ip = ip
		}
		eps = append(eps, e)
	}
	match := func(src net.IP, sport uint16) bool {
		for _, e := range eps {
			if e.port == sport && (e.ip == nil || e.ip.Equal(src)) {
				return true
			}
		}
		return false
	}
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		err := dumpEstablished(fam, func(src net.IP, sport uint16, inode uint32, ti *unix.TCPInfo) {
			if inode == 0 || held[inode] || !match(src, sport) {
				return
			}
			open++
			if ti != nil && ti.Bytes_sent == 0 {
				unserved++
			}
		})
		if err != nil {
			return 0, 0, err
		}
	}
	return open, unserved, nil
}

// socketInodes are the inodes of the sockets process pid holds.
func socketInodes(pid int) (map[uint32]bool, error) {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("the sockets of %d: %w", pid, err)
	}
	out := map[uint32]bool{}
	for _, e := range ents {
		l, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if v, ok := strings.CutPrefix(l, "socket:["); ok {
			if n, err := strconv.ParseUint(strings.TrimSuffix(v, "]"), 10, 32); err == nil {
				out[uint32(n)] = true
			}
		}
	}
	return out, nil
}

// The kernel's structures (linux/inet_diag.h): inet_diag_req_v2 is 56
// bytes, inet_diag_msg 72 (its inode at 68), followed by attributes.
const (
	inetDiagReqV2Len = 56
	inetDiagMsgLen   = 72
	inetDiagInfo     = 2 // INET_DIAG_INFO: struct tcp_info
	tcpEstablished   = 1
)

// dumpEstablished calls fn for every established TCP socket of family fam
// in this network namespace, with its source address and port, inode and
// tcp_info (nil when the kernel gave none).
func dumpEstablished(fam uint8, fn func(src net.IP, sport uint16, inode uint32, ti *unix.TCPInfo)) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return fmt.Errorf("sock_diag: %w", err)
	}
	defer unix.Close(fd)
	req := make([]byte, unix.NLMSG_HDRLEN+inetDiagReqV2Len)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:], 1) // sequence
	body := req[unix.NLMSG_HDRLEN:]
	body[0], body[1], body[2] = fam, unix.IPPROTO_TCP, 1<<(inetDiagInfo-1)
	ne.PutUint32(body[4:], 1<<tcpEstablished)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("sock_diag: %w", err)
	}
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return fmt.Errorf("sock_diag: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return fmt.Errorf("sock_diag: %w", err)
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return nil
			case unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if e := int32(ne.Uint32(m.Data)); e != 0 {
						return fmt.Errorf("sock_diag: %w", syscall.Errno(-e))
					}
				}
				return errors.New("sock_diag: error message")
			}
			if len(m.Data) < inetDiagMsgLen {
				continue
			}
			sport := binary.BigEndian.Uint16(m.Data[4:6])
			src := net.IP(append([]byte(nil), m.Data[8:24]...)) // idiag_src
			if fam == unix.AF_INET {
				src = src[:4]
			}
			inode := ne.Uint32(m.Data[68:72])
			fn(src, sport, inode, tcpInfoAttr(m.Data[inetDiagMsgLen:]))
		}
	}
}

// tcpInfoAttr finds INET_DIAG_INFO among attrs.
func tcpInfoAttr(attrs []byte) *unix.TCPInfo {
	ne := binary.NativeEndian
	for len(attrs) >= 4 {
		l, typ := int(ne.Uint16(attrs[0:2])), ne.Uint16(attrs[2:4])
		if l < 4 || l > len(attrs) {
			return nil
		}
		if typ == inetDiagInfo {
			var ti unix.TCPInfo
			payload := attrs[4:l]
			if len(payload) < int(unsafe.Offsetof(ti.Bytes_sent)+unsafe.Sizeof(ti.Bytes_sent)) {
				return nil // a kernel before 4.19: cannot tell
			}
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&ti)), unsafe.Sizeof(ti)), payload)
			return &ti
		}
		attrs = attrs[(l+3)&^3:]
	}
	return nil
}

// PendingError is AwaitClosed's answer when its context ends first: what
// was left.
type PendingError struct {
	Open, Unserved int // as Pending counts them
	Err            error
}

func (e *PendingError) Error() string {
	return fmt.Sprintf("%d connections still open, %d of them not answered at all: %v", e.Open, e.Unserved, e.Err)
}

func (e *PendingError) Unwrap() error { return e.Err }

// AwaitClosed waits until Pending(next) counts no connection open, or ctx
// ends (a *PendingError returned, with what was left).
func (h *Holder) AwaitClosed(ctx context.Context, next int) error {
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for {
		open, unserved, err := h.Pending(next)
		if err != nil {
			return err
		}
		if open == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return &PendingError{Open: open, Unserved: unserved, Err: ctx.Err()}
		case <-t.C:
		}
	}
}
