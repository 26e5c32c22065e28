package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"rancher-traefik/internal/restpush"
	"rancher-traefik/internal/routes"
	"rancher-traefik/internal/testsnap"
)

// TestRESTShapeCompat: the label-compatibility table's configuration, as
// the pusher encodes it, decodes into the real Traefik's
// dynamic.Configuration without losing a setting. Traefik's REST handler
// decodes leniently (a key it does not know is dropped, no error) and
// answers with what it decoded: every non-zero leaf we send must come
// back. (TestCompatTraefik has the same table enabled and served.)
func TestRESTShapeCompat(t *testing.T) {
	res := routes.Build(testsnap.File(t, compatStackFile), routes.Options{Domain: "example.com", HTTPS: true, EntryPoints: map[string]string{"pg": "tcp", "dns": "udp"},
		CredentialDir: t.TempDir()})
	body, err := restpush.AppendRoutes(nil, res.Config) // the pusher's encoding
	if err != nil {
		t.Fatal(err)
	}
	echo := restEcho(t, body)
	sent, back := leaves(t, body), leaves(t, echo)
	var lost []string
	for path, v := range sent {
		if _, ok := back[path]; !ok {
			lost = append(lost, path+" = "+v)
		}
	}
	sort.Strings(lost)
	if len(sent) < 100 {
		t.Fatalf("only %d settings sent: the table did not build", len(sent))
	}
	if len(lost) > 0 {
		t.Errorf("%d of %d settings lost in Traefik's decoding:\n%s", len(lost), len(sent), lost)
	}
}

// restEcho PUTs body to a Traefik with the REST provider and returns its
// answer: the configuration as Traefik decoded it.
func restEcho(t *testing.T, body []byte) []byte {
	t.Helper()
	api := freePort(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "traefik.toml")
	static := fmt.Sprintf("[global]\n  checkNewVersion = false\n  sendAnonymousUsage = false\n[entryPoints.traefik]\n  address = \"127.0.0.1:%d\"\n[ping]\n[providers.rest]\n  insecure = true\n", api)
	if err := os.WriteFile(cfg, []byte(static), 0o644); err != nil {
		t.Fatal(err)
	}
	proc := startProc(t, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, traefikBin, "--configFile="+cfg)
	t.Cleanup(func() { proc.stop(t) })
	var echo []byte
	eventually(t, 30*time.Second, "Traefik's REST provider accepts the configuration", func() error {
		req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("http://127.0.0.1:%d%s", api, restpush.Path), bytes.NewReader(body))
		resp, err := plainClient().Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		echo, err = io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s %v", resp.Status, err)
		}
		return nil
	})
	return echo
}

// leaves flattens a JSON document into path → value, keeping only
// non-zero values (Traefik's answer omits empty ones).
func leaves(t *testing.T, b []byte) map[string]string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range x {
				walk(path+"["+strconv.Itoa(i)+"]", e)
			}
		case string:
			if x != "" {
				out[path] = x
			}
		case float64:
			if x != 0 {
				out[path] = strconv.FormatFloat(x, 'g', -1, 64)
			}
		case bool:
			if x {
				out[path] = "true"
			}
		}
	}
	walk("", v)
	return out
}
