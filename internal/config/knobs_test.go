package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestKnobs reads the knobs of issue 14 (redirects' public port, HTTP/3,
// compression, trusted IPs, PROXY protocol, timeouts, backend TLS, metrics,
// minimum TLS): their defaults leave Traefik's own behaviour, and each value
// lands where render reads it.
func TestKnobs(t *testing.T) {
	type knobs struct {
		PublicPort                  int
		HTTP3, Compression, Metrics bool
		Trusted, Proxy              []string
		Read, Write, Idle           time.Duration
		Insecure                    bool
		Dial, Header                time.Duration
		MinTLS                      string
	}
	of := func(c *Config) knobs {
		return knobs{
			c.PublicHTTPSPort(), c.HTTP3, c.Compression, c.MetricsEnable,
			c.TrustedIPs, c.ProxyProtocolIPs, c.ReadTimeout, c.WriteTimeout, c.IdleTimeout,
			c.InsecureSkipVerify, c.DialTimeout, c.ResponseHeaderTimeout, c.HTTPSMinTLS,
		}
	}
	tests := []struct {
		name string
		env  map[string]string
		want knobs
	}{
		// Traefik v3.6's own defaults (pkg/config/static: readTimeout 60s,
		// idleTimeout 180s, dialTimeout 30s; pkg/tls: VersionTLS12).
		{"defaults", nil, knobs{PublicPort: 443, Read: 60 * time.Second, Idle: 180 * time.Second, Dial: 30 * time.Second, MinTLS: "1.2"}},
		{"public port defaults to the https port", map[string]string{"TRAEFIK_HTTPS_PORT": "8443"},
			knobs{PublicPort: 8443, Read: 60 * time.Second, Idle: 180 * time.Second, Dial: 30 * time.Second, MinTLS: "1.2"}},
		{"every knob", map[string]string{
			"TRAEFIK_HTTPS_PORT": "8443", "TRAEFIK_HTTPS_PUBLIC_PORT": "443", "TRAEFIK_HTTP3_ENABLE": "true", "TRAEFIK_COMPRESSION": "yes",
			"TRAEFIK_METRICS_ENABLE": "1", "TRAEFIK_TRUSTED_IPS": " 10.0.0.0/8, 192.168.1.1 ::1", "TRAEFIK_PROXY_PROTOCOL": "fd00::/8",
			"TRAEFIK_READ_TIMEOUT": "5", "TRAEFIK_WRITE_TIMEOUT": "1m", "TRAEFIK_IDLE_TIMEOUT": "0", "TRAEFIK_INSECURE_SKIP_VERIFY": "true",
			"TRAEFIK_DIAL_TIMEOUT": "500ms", "TRAEFIK_RESPONSE_HEADER_TIMEOUT": "2s", "TRAEFIK_HTTPS_MIN_TLS": "1.3",
		}, knobs{443, true, true, true, []string{"10.0.0.0/8", "192.168.1.1", "::1"}, []string{"fd00::/8"},
			5 * time.Second, time.Minute, 0, true, 500 * time.Millisecond, 2 * time.Second, "1.3"}},
		{"rawmind0's TLS version names", map[string]string{"TRAEFIK_HTTPS_MIN_TLS": "VersionTLS11"},
			knobs{PublicPort: 443, Read: 60 * time.Second, Idle: 180 * time.Second, Dial: 30 * time.Second, MinTLS: "1.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := FromEnv(lookupOf(tt.env))
			if err != nil {
				t.Fatalf("FromEnv: %v", err)
			}
			if diff := cmp.Diff(of(c), tt.want); diff != "" {
				t.Errorf("knobs (-got +want):\n%s", diff)
			}
		})
	}
}

func TestKnobsBadInput(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"public port out of range", map[string]string{"TRAEFIK_HTTPS_PUBLIC_PORT": "70000"}, []string{`TRAEFIK_HTTPS_PUBLIC_PORT: port 70000 is out of range 1-65535`}},
		{"public port not a number", map[string]string{"TRAEFIK_HTTPS_PUBLIC_PORT": "https"}, []string{`TRAEFIK_HTTPS_PUBLIC_PORT: "https" is not a port number`}},
		{"trusted IP is a name", map[string]string{"TRAEFIK_TRUSTED_IPS": "10.0.0.1,lb.example.com"}, []string{`TRAEFIK_TRUSTED_IPS: "lb.example.com" is not an IP address or CIDR range`}},
		{"PROXY protocol IP with a bad mask", map[string]string{"TRAEFIK_PROXY_PROTOCOL": "10.0.0.0/33"}, []string{`TRAEFIK_PROXY_PROTOCOL: "10.0.0.0/33" is not an IP address or CIDR range`}},
		{"TOML injection in a trusted IP", map[string]string{"TRAEFIK_TRUSTED_IPS": "1.2.3.4\"]\n[x]"}, []string{`TRAEFIK_TRUSTED_IPS: "1.2.3.4\"]" is not an IP address or CIDR range`}},
		{"TLS version", map[string]string{"TRAEFIK_HTTPS_MIN_TLS": "SSLv3"}, []string{`TRAEFIK_HTTPS_MIN_TLS: "SSLv3" is not a TLS version: 1.0, 1.1, 1.2 or 1.3`}},
		{"timeout", map[string]string{"TRAEFIK_RESPONSE_HEADER_TIMEOUT": "-5s", "TRAEFIK_READ_TIMEOUT": "long"}, []string{
			`TRAEFIK_READ_TIMEOUT: "long" is not a duration (e.g. 10s, 500ms, or seconds)`,
			`TRAEFIK_RESPONSE_HEADER_TIMEOUT: "-5s" is negative`,
		}},
		{"switches", map[string]string{"TRAEFIK_METRICS_ENABLE": "prometheus", "TRAEFIK_COMPRESSION": "gzip"}, []string{
			`TRAEFIK_COMPRESSION: "gzip" is not a boolean (true or false)`,
			`TRAEFIK_METRICS_ENABLE: "prometheus" is not a boolean (true or false)`,
		}},
		{"HTTP/3 without HTTPS", map[string]string{"TRAEFIK_HTTP3_ENABLE": "true", "TRAEFIK_HTTPS_ENABLE": "false"}, []string{
			`TRAEFIK_HTTP3_ENABLE: HTTP/3 is served on the https entry point, but TRAEFIK_HTTPS_ENABLE=false: enable HTTPS or leave HTTP/3 off`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromEnv(lookupOf(tt.env))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *config.Error", err)
			}
			if diff := cmp.Diff(strings.Split(err.Error(), "\n"), tt.want); diff != "" {
				t.Errorf("problems (-got +want):\n%s", diff)
			}
		})
	}
}
