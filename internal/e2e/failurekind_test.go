package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"testing"

	"rancher-traefik/internal/testcert"
)

// TestFailureKind: the classification TestACMEClusterLoopback's load uses,
// against real listeners on loopback — one that refuses, one that accepts
// and closes (a Traefik with no configuration yet), and TLS servers that
// present a certificate named as Traefik's generated default one
// (<hex>.<hex>.traefik.default), another unknown certificate, and a trusted
// one answering 404.
func TestFailureKind(t *testing.T) {
	tlsServer := func(host string) (string, *x509.Certificate) {
		t.Helper()
		c, err := testcert.New(testcert.Options{Hosts: []string{host}})
		if err != nil {
			t.Fatal(err)
		}
		pair, err := tls.X509KeyPair(c.Bundle(), c.KeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.NotFoundHandler()}
		go func() { _ = srv.Serve(l) }()
		t.Cleanup(func() { _ = srv.Close() })
		return l.Addr().String(), c.CA
	}
	refused := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}()
	closing := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		return l.Addr().String()
	}()
	defaultCert, _ := tlsServer("6c7a923f7484c052.d4d977b4f9a5db26.traefik.default")
	otherCert, _ := tlsServer("other.example.com")
	trusted, ca := tlsServer("legacy.example.com")
	roots := x509.NewCertPool()
	roots.AddCert(ca)

	for _, tc := range []struct {
		name, addr, want string
	}{
		{"nothing listens", refused, failRefused},
		{"accepted and closed", closing, failClosed},
		{"Traefik's default certificate", defaultCert, failDefaultCert},
		{"another certificate", otherCert, "certificate: x509: certificate is valid for other.example.com, not legacy.example.com"},
		{"answered 404", trusted, "HTTP 404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &http.Client{Transport: &http.Transport{
				DisableKeepAlives: true, TLSClientConfig: &tls.Config{RootCAs: roots},
				DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
					return (&net.Dialer{}).DialContext(ctx, network, tc.addr)
				},
			}}
			code, _, err := get(c, "https://legacy.example.com/", nil)
			if got := failureKind(code, err); got != tc.want {
				t.Errorf("failureKind(%d, %v) = %q, want %q", code, err, got, tc.want)
			}
		})
	}
}
