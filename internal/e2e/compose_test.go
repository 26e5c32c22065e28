package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestComposeExample runs examples/docker-compose.yml for real, with
// Debian's docker-compose 1.x and with Compose v2 (built from the Go module
// proxy by `make compose`; `make test` passes its path in
// COMPOSE_V2_BINARY): both backends answer through Traefik over HTTPS,
// scaling stack.yml 2→1 is followed, and down leaves nothing behind.
func TestComposeExample(t *testing.T) {
	requireImage(t)
	for _, tc := range []struct {
		name, bin, missing string
		given              bool // a path given must work
	}{
		{"docker-compose 1.x", "docker-compose", "docker-compose is not installed", false},
		{"Compose v2", os.Getenv("COMPOSE_V2_BINARY"), "COMPOSE_V2_BINARY is not set (make test sets it after make compose)", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.bin == "" {
				t.Skip(tc.missing + ", so the compose example is not tested with " + tc.name)
			}
			path, err := exec.LookPath(tc.bin)
			if err != nil && tc.given {
				t.Fatalf("%s: %v", tc.bin, err)
			}
			if err != nil {
				t.Skipf("%s, so the compose example is not tested with %s: %v", tc.missing, tc.name, err)
			}
			out, err := exec.Command(path, "version").CombinedOutput()
			if err != nil {
				t.Fatalf("%s version: %v\n%s", path, err, out)
			}
			t.Logf("%s", strings.TrimSpace(string(out)))
			composeExample(t, path)
		})
	}
}

// exampleSubnet is the network examples/docker-compose.yml pins (stack.yml
// lists the backends' addresses in it).
const exampleSubnet = "172.29.77."

// copyExample copies the compose example into dir, on subnet instead of the
// pinned one: runs sharing a Docker daemon (or a user's own copy of the
// example running) would otherwise clash on the pinned subnet.
func copyExample(t *testing.T, dir, subnet string) {
	t.Helper()
	for _, f := range []string{"docker-compose.yml", "stack.yml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "examples", f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), exampleSubnet) {
			t.Fatalf("examples/%s no longer uses the subnet %s0/24; update this test", f, exampleSubnet)
		}
		b = []byte(strings.ReplaceAll(string(b), exampleSubnet, subnet))
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// composeExample runs the copied example with composeBin: up, both
// backends over HTTPS, the redirect, every container healthy, a scale
// 2 → 1 by editing stack.yml, and down leaving nothing behind.
func composeExample(t *testing.T, composeBin string) {
	dir := t.TempDir()
	https, httpPort, admin := freePort(t), freePort(t), freePort(t)
	p := &composeProject{bin: composeBin, dir: dir, name: fmt.Sprintf("rte2e%d", rand.IntN(1<<30)),
		env: []string{"RANCHER_TRAEFIK_IMAGE=" + testImage, "RANCHER_TRAEFIK_DEV_IMAGE=" + testDevImage, "HTTPS_PORT=" + strconv.Itoa(https),
			"HTTP_PORT=" + strconv.Itoa(httpPort), "ADMIN_PORT=" + strconv.Itoa(admin)}}
	downed := false
	t.Cleanup(func() {
		if !downed {
			_, _ = p.run("down", "-v", "--remove-orphans")
		}
	})
	subnet := p.up(t)
	client := exampleClient(https)
	eventually(t, 60*time.Second, "both backends over HTTPS", func() error {
		seen, err := exampleBackends(client)
		if err != nil {
			return err
		}
		if !seen["I am whoami-1"] || !seen["I am whoami-2"] {
			return fmt.Errorf("answered by %v", seen)
		}
		return nil
	})
	// HTTP redirects to the mapped HTTPS port, and following it works.
	composeRedirect(t, httpPort, https)
	// Every container, the helpers too, reports healthy.
	composeHealthy(t, p.name)
	// Scale 2 → 1 by editing stack.yml, as the comment in it says.
	removeSecondContainer(t, dir, subnet)
	eventually(t, 30*time.Second, "scaled to one backend", func() error {
		seen, err := exampleBackends(client)
		if err != nil {
			return err
		}
		if len(seen) != 1 || !seen["I am whoami-1"] {
			return fmt.Errorf("answered by %v", seen)
		}
		return nil
	})
	if out, err := p.run("down"); err != nil {
		t.Fatalf("docker-compose down: %v\n%s", err, out)
	}
	downed = true
	left, _ := docker("ps", "-aq", "--filter", "label=com.docker.compose.project="+p.name)
	nets, _ := docker("network", "ls", "-q", "--filter", "label=com.docker.compose.project="+p.name)
	if left != "" || nets != "" {
		t.Errorf("left behind: containers %q networks %q", left, nets)
	}
}

// composeProject is the example copied into dir, as project name.
type composeProject struct {
	bin, dir, name string
	env            []string // added to ours
}

// run runs the compose binary on the project, for at most 3 minutes.
func (p *composeProject) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.bin, append([]string{"-p", p.name, "-f", filepath.Join(p.dir, "docker-compose.yml")}, args...)...)
	cmd.Env = append(os.Environ(), p.env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// up copies the example on a random subnet and starts it; when another
// network holds that subnet, it tries another one (five times in all). It
// returns the subnet used.
func (p *composeProject) up(t *testing.T) string {
	t.Helper()
	for try := 1; ; try++ {
		subnet := fmt.Sprintf("172.29.%d.", rand.IntN(250)+1)
		copyExample(t, p.dir, subnet)
		out, err := p.run("up", "-d")
		if err == nil {
			return subnet
		}
		if !strings.Contains(out, "Pool overlaps") || try == 5 {
			t.Fatalf("docker-compose up: %v\n%s", err, out)
		}
		_, _ = p.run("down", "-v", "--remove-orphans")
	}
}

// exampleClient reaches the example's HTTPS port whatever the URL's host.
func exampleClient(https int) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, // Traefik's own self-signed certificate, as documented
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", strconv.Itoa(https)))
		},
	}}
}

// exampleBackends are the backends ten requests to whoami.localhost reach,
// by the first line of their answers.
func exampleBackends(client *http.Client) (map[string]bool, error) {
	seen := map[string]bool{}
	for range 10 {
		code, body, err := get(client, "https://whoami.localhost/", nil)
		if err != nil || code != 200 {
			return nil, fmt.Errorf("%d %v", code, err)
		}
		first, _, _ := strings.Cut(body, "\n")
		seen[first] = true
	}
	return seen, nil
}

// removeSecondContainer edits dir/stack.yml as a user would (written
// aside, renamed over): the second backend's container goes.
func removeSecondContainer(t *testing.T, dir, subnet string) {
	t.Helper()
	stack, _ := os.ReadFile(filepath.Join(dir, "stack.yml"))
	edited := strings.Replace(string(stack), "          - ip: "+subnet+"12\n", "", 1)
	if edited == string(stack) {
		t.Fatal("stack.yml has no second container to remove")
	}
	tmp := filepath.Join(dir, ".stack.yml.tmp")
	if err := os.WriteFile(tmp, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "stack.yml")); err != nil {
		t.Fatal(err)
	}
}

// composeHealthy waits until each of the example's four containers reports
// healthy in docker ps: Traefik by the image's HEALTHCHECK, the emulator and
// the whoami backends by their own (they would inherit the image's, which
// asks a Traefik that is not there). Unhealthy at any time fails at once.
func composeHealthy(t *testing.T, project string) {
	t.Helper()
	out, err := docker("ps", "-q", "--filter", "label=com.docker.compose.project="+project)
	ids := strings.Fields(out)
	if err != nil || len(ids) != 4 {
		t.Fatalf("docker ps: %v, %d containers, want 4: %s", err, len(ids), out)
	}
	eventually(t, 90*time.Second, "every container healthy", func() error {
		var waiting []string
		for _, id := range ids {
			name, status, _ := strings.Cut(inspect(t, id, "{{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{else}}no-healthcheck{{end}}"), " ")
			switch status {
			case "healthy":
			case "unhealthy", "no-healthcheck":
				t.Fatalf("%s is %s", name, status)
			default:
				waiting = append(waiting, name+" "+status)
			}
		}
		if len(waiting) > 0 {
			return fmt.Errorf("not yet: %v", waiting)
		}
		return nil
	})
}
