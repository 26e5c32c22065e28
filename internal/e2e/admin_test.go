package e2e

import (
	"archive/tar"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fromClient is a client whose connections leave from the address src: a
// second loopback address stands for a host on the network.
func fromClient(src string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	return &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{DisableKeepAlives: true, DialContext: d.DialContext},
	}
}

// network is where the tests ask from "the network": a loopback address
// other than 127.0.0.1, to the admin port published on every address.
const network = "127.0.0.2"

func basicAuth(u, p string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p))}}
}

// onEveryAddress makes the instance listen on every address, as in a
// container whose ports are published.
func onEveryAddress(i *instance) { delete(i.env, "TRAEFIK_BIND_ADDRESS") }

// apiPaths are every API endpoint Traefik v3.6 serves that lists or dumps
// configuration (pkg/api/handler.go), and the dashboard.
var apiPaths = []string{
	"/api/rawdata", "/api/overview", "/api/entrypoints", "/api/version", "/api/support-dump",
	"/api/http/routers", "/api/http/services", "/api/http/middlewares",
	"/api/tcp/routers", "/api/tcp/services", "/api/tcp/middlewares",
	"/api/udp/routers", "/api/udp/services", "/dashboard/",
}

// TestAdminDefaultIsLoopbackOnly: without users, the API and dashboard
// answer nobody on the network — the network gets 404 — while /ping does,
// and loopback (a tool exec-ed in the container) still reads the API.
func TestAdminDefaultIsLoopbackOnly(t *testing.T) {
	i := newInstance(t, nil)
	onEveryAddress(i)
	i.start("run")
	i.waitReady()
	admin := func(host, path string) string { return fmt.Sprintf("http://%s:%d%s", host, i.admin, path) }
	eventually(t, 15*time.Second, "the API on loopback", func() error {
		code, body, err := get(plainClient(), admin("127.0.0.1", "/api/http/middlewares"), nil)
		if err != nil || code != 200 || !strings.HasPrefix(body, "[") {
			return fmt.Errorf("%d %v %.80q", code, err, body)
		}
		return nil
	})
	from := fromClient(network)
	for _, host := range []string{network, "127.0.0.1"} {
		for _, path := range apiPaths {
			code, body, err := get(from, admin(host, path), nil)
			if err != nil || code != 404 {
				t.Errorf("from %s to %s%s: %d %v %.80q, want 404", network, host, path, code, err, body)
			}
		}
		code, body, err := get(from, admin(host, "/ping"), nil)
		if err != nil || code != 200 || body != "OK" {
			t.Errorf("/ping from %s to %s: %d %v %q", network, host, code, err, body)
		}
	}
	// Forwarded headers change nothing: the connection's address counts.
	code, _, err := get(from, admin(network, "/api/rawdata"), http.Header{"X-Forwarded-For": {"127.0.0.1"}, "X-Real-Ip": {"127.0.0.1"}})
	if err != nil || code != 404 {
		t.Errorf("with X-Forwarded-For: 127.0.0.1: %d %v, want 404", code, err)
	}
	if code, out, errOut := i.run("healthcheck"); code != 0 {
		t.Errorf("healthcheck: %d %s %s", code, out, errOut)
	}
	log := i.stderr.String()
	if !strings.Contains(log, "TRAEFIK_ADMIN_AUTH_USERS is not set: the API and dashboard answer only clients on loopback") || strings.Contains(log, "open to anyone") {
		t.Errorf("start-up log does not say the API is loopback only:\n%s", log)
	}
	toml, err := os.ReadFile(filepath.Join(i.home, "etc", "traefik.toml"))
	if err != nil || !strings.Contains(string(toml), "insecure = false") {
		t.Errorf("traefik.toml: %v\n%s", err, toml)
	}
}

// TestAdminInsecure: TRAEFIK_ADMIN_INSECURE=true brings back the seed's open
// dashboard, with a warning.
func TestAdminInsecure(t *testing.T) {
	i := newInstance(t, map[string]string{"TRAEFIK_ADMIN_INSECURE": "true"})
	onEveryAddress(i)
	i.start("run")
	i.waitReady()
	eventually(t, 15*time.Second, "the API open to the network", func() error {
		code, body, err := get(fromClient(network), fmt.Sprintf("http://%s:%d/api/http/routers", network, i.admin), nil)
		if err != nil || code != 200 || !strings.HasPrefix(body, "[") {
			return fmt.Errorf("%d %v %.80q", code, err, body)
		}
		return nil
	})
	if !strings.Contains(i.stderr.String(), "TRAEFIK_ADMIN_INSECURE=true: the API and dashboard are open to anyone who reaches the admin port") {
		t.Errorf("no warning that the API is open:\n%s", i.stderr.String())
	}
	if _, err := os.Stat(filepath.Join(i.home, "etc", "dynamic", "admin.toml")); err == nil {
		t.Error("admin.toml written although Traefik routes the open API itself")
	}
}

// apiBodies reads every API endpoint on loopback with hdr, each named
// object of the HTTP lists too, and returns "GET path:\nbody" for each;
// the support dump (a gzipped tar) is unpacked. Every endpoint must answer
// 200, so an empty body proves nothing by mistake.
func apiBodies(t *testing.T, i *instance, hdr http.Header) []string {
	t.Helper()
	base := fmt.Sprintf("http://127.0.0.1:%d", i.admin)
	var out []string
	fetch := func(path string) string {
		t.Helper()
		code, body, err := get(plainClient(), base+path, hdr)
		if err != nil || code != 200 {
			t.Errorf("GET %s: %d %v", path, code, err)
		}
		if path == "/api/support-dump" {
			body = untarGz(t, body)
		}
		out = append(out, "GET "+path+":\n"+body)
		return body
	}
	for _, path := range apiPaths {
		if path == "/dashboard/" {
			continue // the Traefik under test has no dashboard UI
		}
		body := fetch(path)
		if !strings.HasPrefix(path, "/api/http/") {
			continue
		}
		var list []struct {
			Name string `json:"name"`
		}
		if err := jsonUnmarshal(body, &list); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, o := range list {
			fetch(path + "/" + url.PathEscape(o.Name))
		}
	}
	return out
}

// untarGz returns the files of a gzipped tar, one after the other.
func untarGz(t *testing.T, s string) string {
	t.Helper()
	zr, err := gzip.NewReader(strings.NewReader(s))
	if err != nil {
		t.Fatalf("support dump: %v", err)
	}
	tr := tar.NewReader(zr)
	var b strings.Builder
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return b.String()
		}
		if err != nil {
			t.Fatalf("support dump: %v", err)
		}
		b.WriteString("== " + h.Name + "\n")
		if _, err := io.Copy(&b, tr); err != nil {
			t.Fatalf("support dump: %v", err)
		}
	}
}
