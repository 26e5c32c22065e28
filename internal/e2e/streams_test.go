package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
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

// v2PeerStack uses what Traefik v2's Rancher provider users have: web and
// websecure, @rancher references to another service's middleware and to a
// service, an entry point that does not exist, and several ports without a
// port label (the first declared serves).
const v2PeerStack = `stacks:
  - name: v2
    services:
      - name: common
        labels:
          traefik.enable: "true"
          traefik.http.middlewares.shared.addprefix.prefix: /shared
          traefik.http.routers.common.rule: Host(` + "`common.v2.test`" + `)
          traefik.http.services.common.loadbalancer.server.port: "8080"
        containers:
          - ip: 127.0.0.83
      - name: app
        ports: ["8080/tcp", "9090/tcp"]
        labels:
          traefik.enable: "true"
          traefik.http.routers.app.rule: Host(` + "`app.v2.test`" + `)
          traefik.http.routers.app.entrypoints: web,bogus
          traefik.http.routers.app.middlewares: shared@rancher
          traefik.http.routers.gone.rule: Host(` + "`gone.v2.test`" + `)
          traefik.http.routers.gone.entrypoints: websecure
          traefik.http.routers.gone.service: app-v2@rancher
        containers:
          - ip: 127.0.0.84
`

// TestV2ProviderLabels: the labels of Traefik v2's Rancher provider route
// through the real Traefik: web is http, shared@rancher is the other
// service's middleware, the first declared port serves; websecure without
// HTTPS and the unknown entry point are dropped with warnings, and Traefik
// reports no error for anything published.
func TestV2ProviderLabels(t *testing.T) {
	backends(t, "127.0.0.83", "127.0.0.84")
	i := newInstance(t, map[string]string{"TRAEFIK_RANCHER_MODE": "metadata", "TRAEFIK_HTTPS_ENABLE": "false"})
	m := startEmulator(t, i.dir, v2PeerStack)
	i.env["TRAEFIK_RANCHER_METADATA_URL"] = m.url()
	i.start("run")
	i.waitReady()
	site := fmt.Sprintf("http://127.0.0.1:%d/x", i.httpPort)
	eventually(t, 20*time.Second, "the app route", func() error {
		code, body, err := get(plainClient(), site, http.Header{"Host": {"app.v2.test"}})
		if err != nil || code != 200 || body != "127.0.0.84 /shared/x" {
			return fmt.Errorf("%d %q %v", code, body, err)
		}
		return nil
	})
	if code, _, err := get(plainClient(), site, http.Header{"Host": {"gone.v2.test"}}); err != nil || code != 404 {
		t.Errorf("the router on websecure without HTTPS: %d %v, want 404", code, err)
	}
	code, body, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/api/rawdata", i.admin), nil)
	if err != nil || code != 200 || strings.Contains(body, `"error"`) || !strings.Contains(body, `"app@file"`) {
		t.Errorf("/api/rawdata: %d %v %s", code, err, body)
	}
	for _, want := range []string{
		`level=WARN msg="label setting dropped" component=publish stack=v2 service=app label=traefik.http.routers.app.entrypoints problem="entry point \"bogus\" does not exist`,
		`label=traefik.http.routers.gone.entrypoints problem="entry point \"websecure\" does not exist (usable: http (web)): router gone is not published"`,
		`level=INFO msg="service note" component=publish stack=v2 service=app label=traefik.http.services.app-v2.loadbalancer.server.port`,
	} {
		if !strings.Contains(i.stdout.String()+i.stderr.String(), want) {
			t.Errorf("the log does not say %s", want)
		}
	}
}
