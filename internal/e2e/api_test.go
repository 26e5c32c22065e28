package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startWithKeys runs metadata-server with the API face and key keys.
func (m *emulator) startWithKeys(keys string) { m.start("--api-keys", keys) }

// TestSeedAPIDeployment runs the seed image's exact environment — the six
// variables, key and secret as Rancher secrets — against the emulator's API.
func TestSeedAPIDeployment(t *testing.T) {
	ips := []string{"127.0.0.41", "127.0.0.42", "127.0.0.43"}
	backends(t, ips...)
	i := newInstance(t, map[string]string{"TRAEFIK_RANCHER_MODE": ""}) // the seed set no mode: auto
	c := i.withCert("whoami.example.com", "*.example.com")
	i.writeSecret("traefik-access", []byte("AKSEED\n"))
	i.writeSecret("traefik-secret", []byte("SKSEEDSECRET\n"))
	m := &emulator{t: t, file: filepath.Join(i.dir, "stack.yml"), addr: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	m.write(whoamiStack(ips[0], ips[1]))
	m.startWithKeys("AKSEED:SKSEEDSECRET")
	t.Cleanup(m.stop)
	i.env["TRAEFIK_RANCHER_ACCESSKEY"] = "traefik-access"
	i.env["TRAEFIK_RANCHER_SECRET"] = "traefik-secret"
	i.env["TRAEFIK_RANCHER_ENDPOINT"] = "http://" + m.addr + "/v1"
	i.env["TRAEFIK_RANCHER_DOMAIN"] = "example.com"
	i.start("run")
	i.waitReady()
	if !strings.Contains(i.stderr.String(), `msg="reading the Rancher server API"`) {
		t.Fatalf("not in API mode:\n%s", i.stderr.String())
	}
	client := tlsClient(certPool(c), i.httpsPort)
	url := "https://whoami.example.com/"
	expectBackends(t, client, url, ips[0], ips[1])
	i.waitLog(0, `msg="subscribed to Rancher events"`, 10*time.Second)

	t.Run("scaling followed through events", func(t *testing.T) {
		m.write(whoamiStack(ips...))
		expectBackends(t, client, url, ips...)
		m.write(whoamiStack(ips[2]))
		expectBackends(t, client, url, ips[2])
	})
	t.Run("wrong secret: a clear error, the last good routes kept", func(t *testing.T) {
		mark := len(i.stderr.String())
		m.stop()
		m.startWithKeys("AKSEED:ROTATED") // the server no longer takes our secret
		m.write(whoamiStack(ips[0]))
		i.waitLog(mark, "check TRAEFIK_RANCHER_ACCESSKEY/SECRET", 30*time.Second)
		expectBackends(t, client, url, ips[2])
		out := i.stderr.String() + i.stdout.String()
		for _, secret := range []string{"SKSEEDSECRET", "AKSEED:", "ROTATED"} {
			if strings.Contains(out, secret) {
				t.Errorf("the output shows %q", secret)
			}
		}
	})
}

// TestAPIPaginates3500Services: every page of every collection is read.
func TestAPIPaginates3500Services(t *testing.T) {
	var b strings.Builder
	b.WriteString("stacks:\n  - name: big\n    services:\n")
	for n := range 3500 {
		fmt.Fprintf(&b, "      - name: s%d\n        labels: {traefik.enable: \"true\", traefik.port: \"80\"}\n        containers:\n          - ip: 10.9.%d.%d\n", n, n/250, n%250+1)
	}
	i := newInstance(t, map[string]string{"TRAEFIK_RANCHER_MODE": "api", "TRAEFIK_RANCHER_DOMAIN": "example.com",
		"TRAEFIK_RANCHER_ACCESSKEY": "AK", "TRAEFIK_RANCHER_SECRET": "SK"})
	m := &emulator{t: t, file: filepath.Join(i.dir, "stack.yml"), addr: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	m.write(b.String())
	m.startWithKeys("AK:SK")
	t.Cleanup(m.stop)
	i.env["TRAEFIK_RANCHER_ENDPOINT"] = "http://" + m.addr + "/v2-beta/projects/1a5"
	i.start("run")
	file := filepath.Join(i.home, "etc", "dynamic", "rancher.toml")
	eventually(t, 60*time.Second, "3500 routers", func() error {
		raw, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		if n := len(routerHeader.FindAllIndex(raw, -1)); n != 3500 {
			return fmt.Errorf("%d routers", n)
		}
		return nil
	})
	raw, _ := os.ReadFile(file)
	for _, name := range []string{"s0-big", "s999-big", "s1000-big", "s3499-big"} {
		if !strings.Contains(string(raw), "[http.routers."+name+"]") {
			t.Errorf("router %s missing", name)
		}
	}
	// The real Traefik loads all of them.
	i.waitReady()
	eventually(t, 60*time.Second, "3500 routers in Traefik", func() error {
		code, body, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/api/rawdata", i.admin), nil)
		if err != nil || code != 200 {
			return fmt.Errorf("%d %v", code, err)
		}
		var raw struct {
			Routers map[string]struct {
				Status string `json:"status"`
			} `json:"routers"`
		}
		if err := jsonUnmarshal(body, &raw); err != nil {
			return err
		}
		n := 0
		for name, r := range raw.Routers {
			if strings.HasSuffix(name, "-big@file") && r.Status == "enabled" {
				n++
			}
		}
		if n != 3500 {
			return fmt.Errorf("%d enabled routers", n)
		}
		return nil
	})
}

var routerHeader = regexp.MustCompile(`(?m)^\s*\[http\.routers\.[^.\]]+\]$`)

// TestSameRoutesBothWays: one stack served by the metadata service and by
// the API gives the same routes.
func TestSameRoutesBothWays(t *testing.T) {
	i := newInstance(t, map[string]string{"TRAEFIK_RANCHER_MODE": "api", "TRAEFIK_RANCHER_DOMAIN": "example.com",
		"TRAEFIK_RANCHER_ACCESSKEY": "AK", "TRAEFIK_RANCHER_SECRET": "SK", "TRAEFIK_BINARY": fakeBin})
	stack, err := os.ReadFile(filepath.Join("..", "routes", "testdata", "stacks.yml"))
	if err != nil {
		t.Fatal(err)
	}
	m := &emulator{t: t, file: filepath.Join(i.dir, "stack.yml"), addr: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	m.write(string(stack))
	m.startWithKeys("AK:SK")
	t.Cleanup(m.stop)
	i.env["TRAEFIK_RANCHER_ENDPOINT"] = "http://" + m.addr + "/v1"
	code, viaMetadata, stderr := i.run("routes", "--metadata-url", "http://"+m.addr+"/2016-07-29")
	if code != 0 {
		t.Fatal(stderr)
	}
	i.start("run")
	file := filepath.Join(i.home, "etc", "dynamic", "rancher.toml")
	var viaAPI []byte
	eventually(t, 20*time.Second, "API routes", func() error {
		viaAPI, err = os.ReadFile(file)
		return err
	})
	if string(viaAPI) != viaMetadata {
		t.Errorf("routes differ:\n--- API\n%s\n--- metadata\n%s", viaAPI, viaMetadata)
	}
}
