package devtools

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func execute(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Execute(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"bogus"}, {"whoami", "extra"}, {"whoami", "--nope"},
		{"dev-cert"}, {"dev-cert", "--dir", "d"}, {"dev-cert", "--host", "a.example.com"},
	} {
		code, _, errb := execute(t, args...)
		if code != ExitUsage || !strings.Contains(errb, "rancher-traefik-dev --help") {
			t.Errorf("%v: exit %d, want %d: %q", args, code, ExitUsage, errb)
		}
	}
}

// TestDevCertNeedsDirAndHost: without --dir and --host nothing is written
// where the command happens to run; with them, the three files are.
func TestDevCertNeedsDirAndHost(t *testing.T) {
	cwd := t.TempDir()
	t.Chdir(cwd)
	for _, args := range [][]string{{"dev-cert"}, {"dev-cert", "--host", "a.example.com"}, {"dev-cert", "--dir", "."}} {
		code, _, errb := execute(t, args...)
		if code != ExitUsage || !strings.Contains(errb, "required flag") {
			t.Errorf("%v: exit %d, want %d: %s", args, code, ExitUsage, errb)
		}
	}
	if ls, _ := os.ReadDir(cwd); len(ls) != 0 {
		t.Fatalf("dev-cert without its flags wrote %v", ls)
	}
	out := filepath.Join(cwd, "certs")
	if code, _, errb := execute(t, "dev-cert", "--dir", out, "--host", "a.example.com"); code != ExitOK {
		t.Fatalf("dev-cert: %d %s", code, errb)
	}
	var names []string
	ls, _ := os.ReadDir(out)
	for _, e := range ls {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff(names, []string{"ca.pem", "cert.pem", "key.pem"}); diff != "" {
		t.Errorf("files (-got +want):\n%s", diff)
	}
}

// TestDevCertChain: the pair loads as TLS does it, verifies against ca.pem
// for every name given (and no other), and the key is readable by its owner
// only.
func TestDevCertChain(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	code, out, errb := execute(t, "dev-cert", "--dir", dir, "--host", "whoami.example.com,*.example.com", "--host", "127.0.0.1")
	if code != ExitOK || !strings.Contains(out, "whoami.example.com, *.example.com, 127.0.0.1") {
		t.Fatalf("dev-cert: %d %q %q", code, out, errb)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem holds no certificate")
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for name, valid := range map[string]bool{"whoami.example.com": true, "other.example.com": true, "127.0.0.1": true, "example.org": false} {
		_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name})
		if (err == nil) != valid {
			t.Errorf("verify for %s: %v, want valid=%v", name, err, valid)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key.pem: %v %v, want mode 0600", fi.Mode().Perm(), err)
	}
}

// TestDevCertUnwritableDir: a directory that cannot be made is a failure
// (exit 1) naming it, not a usage error.
func TestDevCertUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errb := execute(t, "dev-cert", "--dir", filepath.Join(file, "certs"), "--host", "a.example.com")
	if code != ExitFailure || !strings.Contains(errb, file) {
		t.Errorf("exit %d, want %d naming %s: %q", code, ExitFailure, file, errb)
	}
}

// startWhoami runs `whoami --listen 127.0.0.1:0 --name NAME` until the test
// ends, and returns the address it announced and its exit code's channel.
func startWhoami(t *testing.T, ctx context.Context, name string) (string, <-chan int) {
	t.Helper()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, []string{"whoami", "--listen", "127.0.0.1:0", "--name", name}, io.Discard, pw)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("whoami announced nothing: %v (exit %d)", err, <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	want := "whoami " + name + " listening on "
	if !strings.HasPrefix(line, want) {
		t.Fatalf("whoami announced %q", line)
	}
	return strings.TrimSpace(strings.TrimPrefix(line, want)), done
}

// TestWhoami: the backend answers with its name and what it saw, stops
// cleanly (exit 0) when its context ends, and a taken address is a failure
// naming --listen.
func TestWhoami(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, done := startWhoami(t, ctx, "backend-1")

	req, err := http.NewRequest("GET", "http://"+addr+"/some/path", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "whoami.example.com"
	req.Header.Set("X-Forwarded-For", "192.0.2.7")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := "I am backend-1\nHost: whoami.example.com\nPath: /some/path\nX-Forwarded-For: 192.0.2.7\n"
	if resp.StatusCode != 200 || string(body) != want {
		t.Errorf("answered %d %q, want 200 %q", resp.StatusCode, body, want)
	}

	code, _, errb := execute(t, "whoami", "--listen", addr)
	if code != ExitFailure || !strings.Contains(errb, "--listen: ") || !strings.Contains(errb, "address already in use") {
		t.Errorf("a second whoami on %s: exit %d, want %d naming --listen: %q", addr, code, ExitFailure, errb)
	}

	cancel()
	if code := <-done; code != ExitOK {
		t.Errorf("whoami stopped with %d, want 0", code)
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Error("whoami still listens after it stopped")
	}
}
