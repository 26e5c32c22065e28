package handover

import (
	"net"
	"os"
	"testing"
)

// TestCloseKeepsTheTarget: three and four generations share a group, the
// newest the target, and the older ones close in either order (a second
// handover while the first one's retirement drains). At every moment a
// socket leaves the group, before the program could be set again, and
// after every step, each new connection lands in the target's accept
// queue alone: none is left in a retiring generation's, to be reset when
// that one closes. Once the next handover is done, every closed
// generation's socket has left the group.
func TestCloseKeepsTheTarget(t *testing.T) {
	for _, tc := range []struct {
		name  string
		gens  int
		close []int // the generations closed, in order, after the newest is steered to
	}{
		{"three, oldest first", 3, []int{0, 1}},
		{"three, middle first", 3, []int{1, 0}},
		{"four, oldest first", 4, []int{0, 1, 2}},
		{"four, newest retired first", 4, []int{2, 0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := freeAddr(t)
			h := New([]Spec{{Name: "web", Network: "tcp", Address: addr}})
			var gens []*Generation
			for range tc.gens {
				g, err := h.Open()
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = g.Close() })
				if err := h.Steer(g); err != nil {
					t.Fatal(err)
				}
				gens = append(gens, g)
			}
			leaves := 0
			detached = func(h *Holder) { leaves++; assertSteered(t, h, addr, "as a socket left the group") }
			defer func() { detached = nil }()
			for _, n := range tc.close {
				if err := gens[n].Close(); err != nil {
					t.Fatal(err)
				}
				assertSteered(t, h, addr, "after a close")
			}
			// The next handover: a next generation opens (after the
			// target's socket: what was kept open may close), is steered
			// to, and the target retires. Every socket has left the group
			// but the next one's.
			next, err := h.Open()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = next.Close() })
			assertSteered(t, h, addr, "after the next generation opened")
			if err := h.Steer(next); err != nil {
				t.Fatal(err)
			}
			if err := gens[len(gens)-1].Close(); err != nil {
				t.Fatal(err)
			}
			assertSteered(t, h, addr, "after the next handover")
			if want := len(tc.close) + 1; leaves != want {
				t.Errorf("%d sockets left the group, want %d (every closed generation's)", leaves, want)
			}
			if n := len(h.groups[0]); n != 1 {
				t.Errorf("the group holds %d sockets, want 1 (the target's)", n)
			}
		})
	}
}

// assertSteered connects to addr from many source ports (the kernel's
// hash differs for each) and checks that every connection is queued on
// the target's socket: the other sockets' queues do not grow. It reads
// the holder without its lock: called with it held, or between steps.
func assertSteered(t *testing.T, h *Holder, addr, when string) {
	t.Helper()
	if h.target == nil {
		return
	}
	target := h.target.socks[0]
	queues := func() map[*os.File]int {
		q := map[*os.File]int{}
		for _, f := range h.groups[0] {
			n, err := acceptQueue(f)
			if err != nil {
				t.Fatal(err)
			}
			q[f] = n
		}
		return q
	}
	before := queues()
	const conns = 32
	for range conns {
		c, err := net.Dial("tcp", addr) // on loopback queued before Dial returns
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		defer c.Close()
	}
	after := queues()
	for f, n := range after {
		grew := n - before[f]
		switch {
		case f == target && grew != conns:
			t.Errorf("%s: the target's socket queued %d of %d new connections", when, grew, conns)
		case f != target && grew != 0:
			t.Errorf("%s: a retiring generation's socket queued %d of %d new connections", when, grew, conns)
		}
	}
}
