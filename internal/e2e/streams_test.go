package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tcpEcho serves, on ip, a line protocol that answers "<name>:<line>",
// until the test ends; it returns the port.
func tcpEcho(t *testing.T, ip, name string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return // closed at cleanup
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					if _, err := fmt.Fprintf(c, "%s:%s\n", name, sc.Text()); err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// udpEcho answers each datagram with "<name>:<datagram>" on ip, until the
// test ends; it returns the port.
func udpEcho(t *testing.T, ip, name string) int {
	t.Helper()
	pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return // closed at cleanup
			}
			if _, err := pc.WriteTo([]byte(name+":"+string(buf[:n])), from); err != nil && errors.Is(err, net.ErrClosed) {
				return
			}
		}
	}()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// streamsStack publishes a TCP service and a UDP service through the
// entry points of TRAEFIK_ENTRYPOINTS, with Traefik v2 labels.
func streamsStack(tcpIP string, tcpPort int, udpIP string, udpPort int) string {
	return fmt.Sprintf(`stacks:
  - name: streams
    services:
      - name: echo
        labels:
          traefik.enable: "true"
          traefik.tcp.routers.echo.rule: HostSNI(`+"`*`"+`)
          traefik.tcp.routers.echo.entrypoints: tcpx
          traefik.tcp.services.echo.loadbalancer.server.port: "%d"
        containers:
          - ip: %s
      - name: dns
        labels:
          traefik.enable: "true"
          traefik.udp.routers.dns.service: dns-streams
          traefik.udp.services.dns-streams.loadbalancer.server.port: "%d"
        containers:
          - ip: %s
`, tcpPort, tcpIP, udpPort, udpIP)
}

// TestTCPAndUDPEntryPoints: entry points declared by TRAEFIK_ENTRYPOINTS
// carry traefik.tcp.* and traefik.udp.* routes through the real Traefik to
// real backends (the UDP router names none: it gets every UDP entry point).
func TestTCPAndUDPEntryPoints(t *testing.T) {
	const tcpIP, udpIP = "127.0.0.81", "127.0.0.82"
	tcpBackend, udpBackend := tcpEcho(t, tcpIP, "tcp-backend"), udpEcho(t, udpIP, "udp-backend")
	tcpPort, udpPort := freePort(t), freePort(t)
	i := newInstance(t, map[string]string{"TRAEFIK_RANCHER_MODE": "metadata", "TRAEFIK_RANCHER_DOMAIN": "example.com",
		"TRAEFIK_ENTRYPOINTS": fmt.Sprintf("tcpx:%d/tcp,udpx:%d/udp", tcpPort, udpPort)})
	m := startEmulator(t, i.dir, streamsStack(tcpIP, tcpBackend, udpIP, udpBackend))
	i.env["TRAEFIK_RANCHER_METADATA_URL"] = m.url()
	i.start("run")
	i.waitReady()

	eventually(t, 20*time.Second, "the TCP route", func() error {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(tcpPort)), time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := fmt.Fprint(c, "ping\n"); err != nil {
			return err
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || line != "tcp-backend:ping\n" {
			return fmt.Errorf("answer %q %v", line, err)
		}
		return nil
	})
	eventually(t, 20*time.Second, "the UDP route", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c, err := (&net.Dialer{}).DialContext(ctx, "udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(udpPort)))
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte("query")); err != nil {
			return err
		}
		buf := make([]byte, 1500)
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != "udp-backend:query" {
			return fmt.Errorf("answer %q %v", buf[:n], err)
		}
		return nil
	})

	// Traefik took both routers, with no error.
	for _, proto := range []string{"tcp", "udp"} {
		code, body, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/api/%s/routers", i.admin, proto), nil)
		if err != nil || code != 200 || !strings.Contains(body, `"status":"enabled"`) || strings.Contains(body, `"error"`) {
			t.Errorf("/api/%s/routers: %d %v %s", proto, code, err, body)
		}
	}
}
