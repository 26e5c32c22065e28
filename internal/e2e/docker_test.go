package e2e

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"rancher-traefik/internal/testcert"
)

// imageName is the IMAGE given to make image-local: a name of this run's
// own, so that test runs sharing a Docker daemon neither replace nor remove
// each other's image. RANCHER_TRAEFIK_E2E_IMAGE sets it (for
// TestImageIsRemovedAfterTheTests).
var imageName = cmp.Or(os.Getenv("RANCHER_TRAEFIK_E2E_IMAGE"), fmt.Sprintf("rancher-traefik-e2e-%d", os.Getpid()))

// testImage is what make image-local builds: IMAGE:local; testDevImage
// what make image-dev builds beside it: IMAGE-dev:local, the backends'.
var (
	testImage    = imageName + ":local"
	testDevImage = imageName + "-dev:local"
)

var (
	imageOnce sync.Once
	imageErr  error
	// imageBuilt is set once requireImage has run make image-local
	// image-dev, whose images (192 MB, and the backends' 20 MB)
	// removeTestImage removes after the last test: the docker and compose
	// tests share one build.
	imageBuilt bool
	// imageContext holds the build contexts make prepared for this run,
	// removed with the images.
	imageContext string
)

func docker(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// requireImage skips when no Docker daemon answers (saying so), and builds
// the image and the backends' image FROM scratch out of the binaries under
// test, once.
func requireImage(t *testing.T) {
	t.Helper()
	if out, err := docker("info", "--format", "{{.ServerVersion}}"); err != nil {
		t.Skipf("no Docker daemon answers, so the image is not tested: %v %s", err, out)
	}
	imageOnce.Do(func() {
		// The README's command, as a user would run it.
		root, _ := filepath.Abs(filepath.Join("..", ".."))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		imageBuilt = true // a failed build may still leave a part behind
		imageContext, imageErr = os.MkdirTemp("", "rancher-traefik-e2e-image")
		if imageErr != nil {
			return
		}
		cmd := exec.CommandContext(ctx, "make", "-C", root, "image-local", "image-dev", "IMAGE="+imageName,
			"IMAGE_CONTEXT="+filepath.Join(imageContext, "image"), "DEV_CONTEXT="+filepath.Join(imageContext, "dev"))
		if out, err := cmd.CombinedOutput(); err != nil {
			imageErr = fmt.Errorf("make image-local image-dev: %v\n%s", err, out)
		}
	})
	if imageErr != nil {
		t.Fatal(imageErr)
	}
}

// removeTestImage removes what requireImage made, once every test is done
// (TestMain): the image and its build context.
func removeTestImage() error {
	if !imageBuilt {
		return nil
	}
	var errs []error
	for _, image := range []string{testDevImage, testImage} {
		if out, err := docker("image", "inspect", "--format", "{{.Id}}", image); err == nil {
			if out, err := docker("rmi", "-f", image); err != nil {
				errs = append(errs, fmt.Errorf("docker rmi %s: %v %s", image, err, out))
			}
		} else if !strings.Contains(out, "No such image") {
			errs = append(errs, fmt.Errorf("docker image inspect %s: %v %s", image, err, out))
		}
	}
	if imageContext != "" {
		if err := os.RemoveAll(imageContext); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// dockerNet makes a network of our own with a known subnet, and removes
// every container on it afterwards.
func dockerNet(t *testing.T) (name, prefix string) {
	t.Helper()
	for range 5 {
		name = fmt.Sprintf("rte2e-%d", rand.IntN(1<<30))
		prefix = fmt.Sprintf("172.30.%d.", rand.IntN(250)+1)
		if _, err := docker("network", "create", "--subnet", prefix+"0/24", name); err == nil {
			t.Cleanup(func() {
				ids, _ := docker("ps", "-aq", "--filter", "network="+name)
				for _, id := range strings.Fields(ids) {
					_, _ = docker("rm", "-f", id)
				}
				_, _ = docker("network", "rm", name)
			})
			return name, prefix
		}
	}
	t.Fatal("could not create a docker network")
	return "", ""
}

func inspect(t *testing.T, id, format string) string {
	t.Helper()
	out, err := docker("inspect", "--format", format, id)
	if err != nil {
		t.Fatalf("docker inspect: %v %s", err, out)
	}
	return out
}

// TestImageSeedDeployment runs the image with the seed's environment and
// secrets mounted at /run/secrets, beside the emulator (API face) from the
// same image and two backends from the development tools' image.
func TestImageSeedDeployment(t *testing.T) {
	requireImage(t)
	network, prefix := dockerNet(t)
	dir := t.TempDir()
	chain, secrets := writeSeed(t, dir, prefix)
	backends := startSeedBackends(t, network, prefix)
	emu := network + "-emu"
	if out, err := docker("run", "-d", "--name", emu, "--network", network, "-v", filepath.Join(dir, "stack.yml")+":/stack.yml:ro",
		testImage, "metadata-server", "--answers", "/stack.yml", "--listen", ":8090", "--api-keys", "AKIMAGE:SKIMAGE"); err != nil {
		t.Fatalf("emulator: %v %s", err, out)
	}
	hp, sp, ap := freePort(t), freePort(t), freePort(t)
	id, err := docker("run", "-d", "--network", network, "--health-interval", "1s", "--health-start-period", "1s", "--stop-timeout", "15",
		"-p", fmt.Sprintf("127.0.0.1:%d:80", hp), "-p", fmt.Sprintf("127.0.0.1:%d:443", sp), "-p", fmt.Sprintf("127.0.0.1:%d:8000", ap),
		"-v", secrets+":/run/secrets:ro",
		"-e", "TRAEFIK_SSL_CERT=traefik-cert", "-e", "TRAEFIK_SSL_PRIVATE_KEY=traefik-key",
		"-e", "TRAEFIK_RANCHER_ACCESSKEY=traefik-access", "-e", "TRAEFIK_RANCHER_SECRET=traefik-secret",
		"-e", "TRAEFIK_RANCHER_ENDPOINT=http://"+emu+":8090/v1", "-e", "TRAEFIK_RANCHER_DOMAIN=example.com",
		"-e", "TRAEFIK_GRACE_TIMEOUT=3s", "-e", "TRAEFIK_STOP_TIMEOUT=15s", testImage)
	if err != nil {
		t.Fatalf("docker run: %v %s", err, id)
	}
	logs := func() string { out, _ := docker("logs", id); return out }
	defer func() {
		if t.Failed() {
			t.Logf("container logs:\n%s", logs())
		}
	}()
	checkSeedServes(t, chain, hp, sp, ap)
	eventually(t, 30*time.Second, "Docker reports healthy", func() error {
		for _, c := range append([]string{id}, backends...) {
			if h := inspect(t, c, "{{.State.Health.Status}}"); h != "healthy" {
				return fmt.Errorf("%s: health %s", c, h)
			}
		}
		return nil
	})
	checkPID1(t, id)
	if l := logs(); strings.Contains(l, "SKIMAGE") || strings.Contains(l, "BEGIN") {
		t.Error("the logs show a secret")
	}
	start := time.Now()
	if out, err := docker("stop", "-t", "15", id); err != nil {
		t.Fatalf("docker stop: %v %s", err, out)
	}
	if code := inspect(t, id, "{{.State.ExitCode}}"); code != "0" {
		t.Errorf("exit code %s after docker stop, want 0", code)
	}
	t.Logf("docker stop took %v", time.Since(start).Round(time.Millisecond))
}

// writeSeed writes the seed's secrets (a certificate for *.example.com, an
// API key) into dir/secrets, and a two-backend stack on the network's
// prefix into dir/stack.yml.
func writeSeed(t *testing.T, dir, prefix string) (chain *testcert.Chain, secrets string) {
	t.Helper()
	secrets = filepath.Join(dir, "secrets")
	if err := os.MkdirAll(secrets, 0o755); err != nil {
		t.Fatal(err)
	}
	chain, err := testcert.New(testcert.Options{Hosts: []string{"*.example.com", "example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"traefik-cert": chain.Bundle(), "traefik-key": chain.KeyPEM, "traefik-access": []byte("AKIMAGE\n"), "traefik-secret": []byte("SKIMAGE\n")} {
		if err := os.WriteFile(filepath.Join(secrets, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stack := strings.ReplaceAll(whoamiStack(prefix+"10", prefix+"11"), `traefik.port: "8080"`, `traefik.port: "80"`)
	if err := os.WriteFile(filepath.Join(dir, "stack.yml"), []byte(stack), 0o644); err != nil {
		t.Fatal(err)
	}
	return chain, secrets
}

// startSeedBackends runs the two whoami backends of the seed's stack, from
// the development tools' image; the backends' image checks its whoami by
// its own HEALTHCHECK.
func startSeedBackends(t *testing.T, network, prefix string) []string {
	t.Helper()
	var backends []string
	for n, ip := range []string{prefix + "10", prefix + "11"} {
		id, err := docker("run", "-d", "--network", network, "--ip", ip, "--health-interval", "1s", "--health-start-period", "1s",
			testDevImage, "whoami", "--listen", ":80", "--name", "backend-"+strconv.Itoa(n+1))
		if err != nil {
			t.Fatalf("backend: %v %s", err, id)
		}
		backends = append(backends, id)
	}
	return backends
}

// checkSeedServes: both backends answer over HTTPS with the seed's
// certificate, http redirects, and the admin port answers /ping.
func checkSeedServes(t *testing.T, chain *testcert.Chain, hp, sp, ap int) {
	t.Helper()
	roots := certPool(chain)
	client := tlsClient(roots, sp)
	eventually(t, 30*time.Second, "both backends", func() error {
		seen := map[string]bool{}
		for range 10 {
			code, body, err := get(client, "https://whoami.example.com/", nil)
			if err != nil || code != 200 {
				return fmt.Errorf("%d %v", code, err)
			}
			first, _, _ := strings.Cut(body, "\n")
			seen[first] = true
		}
		if !seen["I am backend-1"] || !seen["I am backend-2"] {
			return fmt.Errorf("answered by %v", seen)
		}
		return nil
	})
	conn, err := tlsDial(roots, sp, "whoami.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got := testcert.Fingerprint(conn.ConnectionState().PeerCertificates[0].Raw); got != chain.Fingerprint() {
		t.Errorf("served leaf %s, want %s", got, chain.Fingerprint())
	}
	conn.Close()
	code, loc, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/x", hp), http.Header{"Host": {"whoami.example.com"}})
	if err != nil || code != 301 || !strings.HasPrefix(loc, "Location: https://whoami.example.com") {
		t.Errorf("redirect: %d %q %v", code, loc, err)
	}
	if code, body, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/ping", ap), nil); err != nil || code != 200 || body != "OK" {
		t.Errorf("/ping: %d %q %v", code, body, err)
	}
}

// checkPID1: the container's PID 1 is rancher-traefik.
func checkPID1(t *testing.T, id string) {
	t.Helper()
	pid := inspect(t, id, "{{.State.Pid}}")
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
	if !strings.Contains(string(status), "NSpid:\t"+pid+"\t1\n") || !strings.HasPrefix(string(cmdline), "/usr/local/bin/rancher-traefik") {
		t.Errorf("PID 1 of the container is not rancher-traefik: %q", cmdline)
	}
}

// TestImageCarriesNoDevTools: the product image has no rancher-traefik-dev
// and its entrypoint refuses the development commands; the backends' image
// has them (its default command is the whoami backend).
func TestImageCarriesNoDevTools(t *testing.T) {
	requireImage(t)
	for _, cmd := range []string{"whoami", "dev-cert"} {
		// The extra argument makes the command, were it there, refuse
		// at once rather than serve.
		out, err := docker("run", "--rm", testImage, cmd, "extra")
		if code := exitCode(err); code != 64 || !strings.Contains(out, `unknown command "`+cmd+`"`) {
			t.Errorf("%s %s: exit %d, want 64 (unknown command): %s", testImage, cmd, code, out)
		}
	}
	if out, err := docker("run", "--rm", "--entrypoint", "/usr/local/bin/rancher-traefik-dev", testImage, "--help"); err == nil {
		t.Errorf("%s holds rancher-traefik-dev:\n%s", testImage, out)
	}
	for _, cmd := range []string{"whoami", "dev-cert"} {
		if out, err := docker("run", "--rm", testDevImage, cmd, "--help"); err != nil || !strings.Contains(out, "rancher-traefik-dev "+cmd) {
			t.Errorf("%s %s --help: %v\n%s", testDevImage, cmd, err, out)
		}
	}
	if cmd := inspect(t, testDevImage, "{{json .Config.Entrypoint}} {{json .Config.Cmd}}"); cmd != `["/usr/local/bin/rancher-traefik-dev"] ["whoami","--listen",":80"]` {
		t.Errorf("%s runs %s, want the whoami backend on :80", testDevImage, cmd)
	}
}

// exitCode is the exit code of a command that ran, -1 if it did not.
func exitCode(err error) int {
	var ee *exec.ExitError
	if err == nil {
		return 0
	}
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// TestImageWarnsAboutShortStopTimeout: a stop timeout shorter than the stop
// budget is named at start; with the defaults, which fit Docker's 10 s, the
// budget is logged without a warning.
func TestImageWarnsAboutShortStopTimeout(t *testing.T) {
	requireImage(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"short", []string{"--stop-timeout", "5", "-e", "TRAEFIK_STOP_TIMEOUT=5s"}, "the stop budget (10s) exceeds TRAEFIK_STOP_TIMEOUT (5s)"},
		{"defaults", nil, `msg="stop budget" total=10s`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := docker(append(append([]string{"run", "-d"}, tc.args...), "-e", "TRAEFIK_RANCHER_MODE=off", testImage)...)
			if err != nil {
				t.Fatalf("docker run: %v %s", err, id)
			}
			defer docker("rm", "-f", id)
			var out string
			// The budget is logged before Traefik starts.
			eventually(t, 20*time.Second, "traefik started", func() error {
				out, _ = docker("logs", id)
				if !strings.Contains(out, `msg="traefik started"`) {
					return fmt.Errorf("not logged yet")
				}
				return nil
			})
			if !strings.Contains(out, tc.want) {
				t.Errorf("%q not logged:\n%s", tc.want, out)
			}
			if warned := strings.Contains(out, "exceeds TRAEFIK_STOP_TIMEOUT"); warned != (tc.name == "short") {
				t.Errorf("warned about the stop budget: %v\n%s", warned, out)
			}
		})
	}
}

// TestImageIsRemovedAfterTheTests runs one image test in a go test of its
// own, with a temporary directory of its own, and checks that when it ends
// the image it built is gone, no container of it is left, and the
// temporary directory (build context included) is empty.
func TestImageIsRemovedAfterTheTests(t *testing.T) {
	if out, err := docker("info", "--format", "{{.ServerVersion}}"); err != nil {
		t.Skipf("no Docker daemon answers, so the image is not tested: %v %s", err, out)
	}
	if os.Getenv("RANCHER_TRAEFIK_E2E_IMAGE") != "" {
		t.Skip("already inside the run this test checks")
	}
	name := fmt.Sprintf("rancher-traefik-e2e-removal-%d", os.Getpid())
	tmp := t.TempDir()
	const inner = "TestImageWarnsAboutShortStopTimeout"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-v", "-run", "^"+inner+"$", ".")
	cmd.Env = append(os.Environ(), "RANCHER_TRAEFIK_E2E_IMAGE="+name, "TRAEFIK_TEST_BINARY="+traefikBin, "TMPDIR="+tmp)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+inner) {
		t.Fatalf("go test -run %s: %v\n%s", inner, err, out)
	}
	for _, image := range []string{name + ":local", name + "-dev:local"} {
		if out, err := docker("image", "inspect", image); err == nil || !strings.Contains(out, "No such image") {
			t.Errorf("the image %s is still there after the tests: %v %s", image, err, out)
			_, _ = docker("rmi", "-f", image)
		}
		if ids, _ := docker("ps", "-aq", "--filter", "ancestor="+image); ids != "" {
			t.Errorf("containers of the test image %s are left: %s", image, ids)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Errorf("the run left %v in its temporary directory", names)
	}
}
