package routes

import (
	"net"
	"testing"
)

// serverURL is the scheme joined to what net.JoinHostPort gives.
func TestServerURL(t *testing.T) {
	for _, c := range []struct{ scheme, host, port, want string }{
		{"http", "10.0.0.1", "8080", "http://10.0.0.1:8080"},
		{"https", "fd00::1", "443", "https://[fd00::1]:443"},
		{"h2c", "backend.internal", "80", "h2c://backend.internal:80"},
	} {
		if got := serverURL(c.scheme, c.host, c.port); got != c.want {
			t.Errorf("serverURL(%q, %q, %q) = %q, want %q", c.scheme, c.host, c.port, got, c.want)
		}
		if got, want := serverURL(c.scheme, c.host, c.port), c.scheme+"://"+net.JoinHostPort(c.host, c.port); got != want {
			t.Errorf("serverURL(%q, %q, %q) = %q, net.JoinHostPort gives %q", c.scheme, c.host, c.port, got, want)
		}
	}
}
