package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"rancher-traefik/internal/testcert"
)

// bigBody is what knobBackend serves at /big: large enough to be compressed.
var bigBody = strings.Repeat("rancher-traefik compresses what is worth it. ", 100)

// knobBackend serves, on ip: /big a 4.5 KB text, /xff the X-Forwarded-For
// header it received, anything else its name. With chain it speaks HTTPS
// with that certificate (signed by a CA nobody trusts).
func knobBackend(t *testing.T, ip, name string, chain *testcert.Chain) string {
	t.Helper()
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	if chain != nil {
		cert := tls.Certificate{Certificate: [][]byte{chain.Leaf.Raw, chain.CA.Raw}, PrivateKey: chain.Key}
		l = tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}})
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		// Traefik refusing the certificate is the point, not news.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		switch r.URL.Path {
		case "/big":
			io.WriteString(w, bigBody)
		case "/xff":
			io.WriteString(w, r.Header.Get("X-Forwarded-For"))
		default:
			io.WriteString(w, name)
		}
	})
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().String()
}

// knobRoutes routes k.example.com on http and https to plain, and
// tlsb.example.com on https to the https backend secure.
func knobRoutes(plain, secure string) string {
	return fmt.Sprintf(`[http.routers.k]
  rule = "Host(`+"`k.example.com`"+`)"
  entryPoints = ["http"]
  service = "k"
[http.routers.ks]
  rule = "Host(`+"`k.example.com`"+`)"
  entryPoints = ["https"]
  service = "k"
[http.routers.tb]
  rule = "Host(`+"`tlsb.example.com`"+`)"
  entryPoints = ["https"]
  service = "tb"
[http.services.k.loadBalancer]
  [[http.services.k.loadBalancer.servers]]
    url = "http://%s"
[http.services.tb.loadBalancer]
  [[http.services.tb.loadBalancer.servers]]
    url = "https://%s"
`, plain, secure)
}

// knobCase is one knob's effect, checked on an instance with the knobs at
// their defaults (on false) and with them set (on true).
type knobCase struct {
	name  string
	check func(t *testing.T, k *knobInstance, on bool)
}

type knobInstance struct {
	*instance
	chain      *testcert.Chain
	publicPort int // TRAEFIK_HTTPS_PUBLIC_PORT when on
}

// httpsGet asks https://host/path on the https entry point with hdr; the
// response is returned whole, its body read.
func (k *knobInstance) httpsGet(host, path string, hdr http.Header) (*http.Response, []byte, error) {
	c := tlsClient(certPool(k.chain), k.httpsPort)
	c.Transport.(*http.Transport).DisableCompression = true
	req, err := http.NewRequest(http.MethodGet, "https://"+host+path, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header = hdr
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// httpFrom asks http://k.example.com/xff on the http entry point from the
// loopback address from, with X-Forwarded-For xff, and returns the header
// the backend received.
func (k *knobInstance) httpFrom(from, xff string) (string, error) {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, DialContext: d.DialContext}}
	code, body, err := get(c, fmt.Sprintf("http://127.0.0.1:%d/xff", k.httpPort), http.Header{"Host": {"k.example.com"}, "X-Forwarded-For": {xff}})
	if err == nil && code != 200 {
		err = fmt.Errorf("status %d %q", code, body)
	}
	return body, err
}

// rawFrom sends request bytes as they are to the http entry point from the
// loopback address from, and returns the status line and body.
func (k *knobInstance) rawFrom(from, request string) (status, body string, err error) {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	conn, err := d.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(k.httpPort)))
	if err != nil {
		return "", "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		return "", "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.Status, string(b), err
}

// handshake tries TLS versions min-max (and only suites, when given) on the
// https entry point.
func (k *knobInstance) handshake(minV, maxV uint16, suites []uint16) error {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(k.httpsPort)),
		&tls.Config{ServerName: "k.example.com", RootCAs: certPool(k.chain), MinVersion: minV, MaxVersion: maxV, CipherSuites: suites})
	if err != nil {
		return err
	}
	return conn.Close()
}

var knobCases = []knobCase{
	{"TRAEFIK_METRICS_ENABLE: /metrics has our routers' series", func(t *testing.T, k *knobInstance, on bool) {
		if _, _, err := k.httpsGet("k.example.com", "/", nil); err != nil {
			t.Fatal(err)
		}
		url := fmt.Sprintf("http://127.0.0.1:%d/metrics", k.admin)
		if !on {
			if code, _, err := get(plainClient(), url, nil); err != nil || code != 404 {
				t.Errorf("metrics off: /metrics answered %d %v, want 404", code, err)
			}
			return
		}
		eventually(t, 10*time.Second, "series of router ks@file", func() error {
			code, body, err := get(plainClient(), url, nil)
			if err != nil || code != 200 {
				return fmt.Errorf("%d %v", code, err)
			}
			return hasSeries(body,
				`traefik_router_requests_total{code="200",method="GET",protocol="http",router="ks@file",service="k@file"}`,
				`traefik_service_requests_total{code="200",method="GET",protocol="http",service="k@file"}`,
				`traefik_entrypoint_requests_total{code="200",entrypoint="https",method="GET",protocol="http"}`)
		})
	}},
	{"TRAEFIK_HTTPS_MIN_TLS: versions and ciphers", func(t *testing.T, k *knobInstance, on bool) {
		tls12, tls13 := k.handshake(tls.VersionTLS12, tls.VersionTLS12, nil), k.handshake(tls.VersionTLS13, tls.VersionTLS13, nil)
		if tls13 != nil {
			t.Errorf("TLS 1.3 refused: %v", tls13)
		}
		if on { // 1.3
			if tls12 == nil {
				t.Error("TLS 1.2 accepted with TRAEFIK_HTTPS_MIN_TLS=1.3")
			}
			return
		}
		if tls12 != nil {
			t.Errorf("TLS 1.2 refused by default: %v", tls12)
		}
		if err := k.handshake(tls.VersionTLS10, tls.VersionTLS11, nil); err == nil {
			t.Error("a TLS 1.1 client was accepted by default")
		}
		// The policy: AEAD ciphers only. Traefik alone would accept CBC.
		cbc := []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}
		if err := k.handshake(tls.VersionTLS12, tls.VersionTLS12, cbc); err == nil {
			t.Error("a TLS 1.2 client offering only CBC ciphers was accepted")
		}
		gcm := []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
		if err := k.handshake(tls.VersionTLS12, tls.VersionTLS12, gcm); err != nil {
			t.Errorf("a TLS 1.2 client offering AES-GCM was refused: %v", err)
		}
	}},
	{"TRAEFIK_TRUSTED_IPS: X-Forwarded-For kept from a trusted address only", func(t *testing.T, k *knobInstance, on bool) {
		for _, tc := range []struct {
			from, want string
			trusted    bool
		}{{"127.0.0.1", "203.0.113.9, 127.0.0.1", true}, {"127.0.0.2", "127.0.0.2", false}} {
			got, err := k.httpFrom(tc.from, "203.0.113.9")
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if !on || !tc.trusted {
				want = tc.from // replaced by the address Traefik sees
			}
			if got != want {
				t.Errorf("from %s: the backend got X-Forwarded-For %q, want %q", tc.from, got, want)
			}
		}
	}},
	{"TRAEFIK_PROXY_PROTOCOL: the client address of a trusted PROXY header is used", func(t *testing.T, k *knobInstance, on bool) {
		req := func(from string) string {
			return fmt.Sprintf("PROXY TCP4 198.51.100.7 %s 40000 %d\r\nGET /xff HTTP/1.1\r\nHost: k.example.com\r\nConnection: close\r\n\r\n", from, k.httpPort)
		}
		status, body, err := k.rawFrom("127.0.0.1", req("127.0.0.1"))
		if err != nil {
			t.Fatal(err)
		}
		if !on {
			if !strings.HasPrefix(status, "400") {
				t.Errorf("PROXY header without TRAEFIK_PROXY_PROTOCOL: %s %q, want 400", status, body)
			}
			return
		}
		if !strings.HasPrefix(status, "200") || body != "198.51.100.7" {
			t.Errorf("from a trusted address: %s, the backend got X-Forwarded-For %q, want 198.51.100.7", status, body)
		}
		status, body, err = k.rawFrom("127.0.0.2", req("127.0.0.2"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(status, "200") || body != "127.0.0.2" {
			t.Errorf("from an untrusted address: %s, the backend got X-Forwarded-For %q, want 127.0.0.2 (header ignored)", status, body)
		}
	}},
	{"TRAEFIK_INSECURE_SKIP_VERIFY: a self-signed https backend", func(t *testing.T, k *knobInstance, on bool) {
		resp, body, err := k.httpsGet("tlsb.example.com", "/", nil)
		if err != nil {
			t.Fatal(err)
		}
		want := 500 // Traefik's answer when the backend's certificate fails
		if on {
			want = 200
		}
		if resp.StatusCode != want || (on && string(body) != "secure") {
			t.Errorf("answered %d %q, want %d", resp.StatusCode, body, want)
		}
		if warned := strings.Contains(k.stderr.String(), "level=WARN msg=\"TRAEFIK_INSECURE_SKIP_VERIFY=true: the certificates of https backends are not verified\""); warned != on {
			t.Errorf("warned that backend certificates are not verified: %v", warned)
		}
	}},
	{"TRAEFIK_HTTP3_ENABLE: Alt-Svc names the public port, UDP is bound", func(t *testing.T, k *knobInstance, on bool) {
		resp, _, err := k.httpsGet("k.example.com", "/", nil)
		if err != nil {
			t.Fatal(err)
		}
		alt := resp.Header.Get("Alt-Svc")
		if want := fmt.Sprintf(`h3=":%d"`, k.publicPort); on != strings.Contains(alt, want) {
			t.Errorf("Alt-Svc %q: want %s there = %v", alt, want, on)
		}
		u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: k.httpsPort})
		if err == nil {
			u.Close()
		}
		if on != errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("binding UDP %d: %v; Traefik listening there = %v", k.httpsPort, err, on)
		}
	}},
	{"TRAEFIK_COMPRESSION: gzip for a large body", func(t *testing.T, k *knobInstance, on bool) {
		resp, body, err := k.httpsGet("k.example.com", "/big", http.Header{"Accept-Encoding": {"gzip"}})
		if err != nil {
			t.Fatal(err)
		}
		if enc := resp.Header.Get("Content-Encoding"); (enc == "gzip") != on {
			t.Fatalf("Content-Encoding %q, compression %v", enc, on)
		}
		if on {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		if string(body) != bigBody {
			t.Errorf("body of %d bytes is not the backend's", len(body))
		}
		// Small answers are left alone.
		resp, _, err = k.httpsGet("k.example.com", "/small", http.Header{"Accept-Encoding": {"gzip"}})
		if err != nil || resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("a small answer: %v, Content-Encoding %q", err, resp.Header.Get("Content-Encoding"))
		}
	}},
}

// hasSeries reports which Prometheus series are missing from a scrape.
func hasSeries(scrape string, series ...string) error {
	var missing []string
	for _, s := range series {
		if !strings.Contains(scrape, "\n"+s+" ") {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %v", missing)
	}
	return nil
}

// TestKnobs runs the real Traefik twice, with the knobs of issue 14 at their
// defaults and set, and checks each knob's effect both ways. The default
// start also says its stop budget fits the orchestrator's 10 s.
func TestKnobs(t *testing.T) {
	selfSigned, err := testcert.New(testcert.Options{Hosts: []string{"127.0.14.12"}})
	if err != nil {
		t.Fatal(err)
	}
	plain := knobBackend(t, "127.0.14.11", "plain", nil)
	secure := knobBackend(t, "127.0.14.12", "secure", selfSigned)
	for _, on := range []bool{false, true} {
		t.Run(map[bool]string{false: "defaults", true: "set"}[on], func(t *testing.T) {
			// The http entry point serves (no redirect) for the
			// X-Forwarded-For and PROXY checks; the defaults instance runs
			// with the default grace and stop timeout.
			env := map[string]string{"TRAEFIK_HTTPS_REDIRECT": "false", "TRAEFIK_GRACE_TIMEOUT": "", "TRAEFIK_STOP_TIMEOUT": ""}
			k := &knobInstance{}
			if on {
				k.publicPort = freePort(t)
				for name, v := range map[string]string{
					"TRAEFIK_METRICS_ENABLE": "true", "TRAEFIK_HTTPS_MIN_TLS": "1.3",
					"TRAEFIK_TRUSTED_IPS": "127.0.0.1", "TRAEFIK_PROXY_PROTOCOL": "127.0.0.1/32",
					"TRAEFIK_INSECURE_SKIP_VERIFY": "true", "TRAEFIK_HTTP3_ENABLE": "true",
					"TRAEFIK_HTTPS_PUBLIC_PORT": strconv.Itoa(k.publicPort), "TRAEFIK_COMPRESSION": "true",
				} {
					env[name] = v
				}
			}
			k.instance = newInstance(t, env)
			k.chain = k.withCert("*.example.com")
			k.writeDynamic("knobs.toml", knobRoutes(plain, secure))
			k.start("run")
			k.waitReady()
			eventually(t, 15*time.Second, "routes loaded", func() error {
				resp, body, err := k.httpsGet("k.example.com", "/", nil)
				if err != nil {
					return err
				}
				if resp.StatusCode != 200 || string(body) != "plain" {
					return fmt.Errorf("%d %q", resp.StatusCode, body)
				}
				return nil
			})
			if !on {
				t.Run("a default start logs no stop-budget warning", func(t *testing.T) {
					logs := k.stderr.String()
					if !strings.Contains(logs, `msg="stop budget" total=10s`) || !strings.Contains(logs, "stop_timeout=10s") {
						t.Errorf("no stop budget of 10s within 10s logged:\n%s", logs)
					}
					if strings.Contains(logs, "exceeds TRAEFIK_STOP_TIMEOUT") || strings.Contains(logs, "level=WARN msg=\"the stop budget") {
						t.Errorf("a default start warns about the stop budget:\n%s", logs)
					}
				})
			}
			for _, kc := range knobCases {
				t.Run(kc.name, func(t *testing.T) { kc.check(t, k, on) })
			}
		})
	}
}

// TestMetricsBehindAdminAuth: with TRAEFIK_ADMIN_AUTH_USERS, /metrics asks
// for the same credentials as the API; /ping stays open.
func TestMetricsBehindAdminAuth(t *testing.T) {
	i := newInstance(t, map[string]string{"TRAEFIK_METRICS_ENABLE": "true"})
	i.env["TRAEFIK_ADMIN_AUTH_USERS_FILE"] = i.writeSecret("admin-users", []byte(shaUser("prom", "scrape")+"\n"))
	i.start("run")
	i.waitReady()
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", i.admin)
	auth := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("prom:scrape"))}}
	eventually(t, 15*time.Second, "/metrics with credentials", func() error {
		code, body, err := get(plainClient(), url, auth)
		if err != nil || code != 200 || !strings.Contains(body, "traefik_config_reloads_total") {
			return fmt.Errorf("%d %v %.200q", code, err, body)
		}
		return nil
	})
	if code, _, err := get(plainClient(), url, nil); err != nil || code != 401 {
		t.Errorf("/metrics without credentials: %d %v, want 401", code, err)
	}
}

// TestKnobTimeouts: TRAEFIK_RESPONSE_HEADER_TIMEOUT answers 504 for a
// backend that does not answer, and TRAEFIK_READ_TIMEOUT closes a
// connection whose request never ends (Traefik's default waits 60 s).
func TestKnobTimeouts(t *testing.T) {
	release := make(chan struct{})
	l, err := net.Listen("tcp", "127.0.14.21:0")
	if err != nil {
		t.Fatal(err)
	}
	stuck := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // answers only when the test ends or Traefik gives up
		case <-release:
		case <-r.Context().Done():
		}
	})}
	go func() { _ = stuck.Serve(l) }()
	t.Cleanup(func() { close(release); _ = stuck.Close() })

	i := newInstance(t, map[string]string{"TRAEFIK_HTTPS_REDIRECT": "false", "TRAEFIK_RESPONSE_HEADER_TIMEOUT": "1s", "TRAEFIK_READ_TIMEOUT": "1s"})
	i.writeDynamic("stuck.toml", route("stuck", "stuck.example.com", "http", l.Addr().String()))
	i.start("run")
	i.waitReady()
	t.Run("response header timeout: 504", func(t *testing.T) {
		eventually(t, 20*time.Second, "504 from the stuck backend", func() error {
			code, body, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/", i.httpPort), http.Header{"Host": {"stuck.example.com"}})
			if err != nil || code != 504 {
				return fmt.Errorf("%d %q %v", code, body, err)
			}
			return nil
		})
	})
	t.Run("read timeout: an unfinished request is cut", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(i.httpPort)), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: stuck.example.com\r\n"); err != nil {
			t.Fatal(err)
		}
		// Far below Traefik's default of 60 s, far above the 1 s set.
		_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		rest, err := io.ReadAll(conn)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the connection was still open after 30 s (read %q)", rest)
		}
		if len(rest) > 0 && !strings.HasPrefix(string(rest), "HTTP/1.1 4") {
			t.Errorf("answered %q", rest)
		}
	})
}
