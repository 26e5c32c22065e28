package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rancher-traefik/internal/restpush"
	"rancher-traefik/internal/testlog"
)

// TestRESTPushKeepsLastGood: the pusher against the real Traefik's REST
// provider. A configuration Traefik refuses (400: it does not decode) is
// retried and logged, and the last one Traefik accepted stays live; the
// next good one goes live.
func TestRESTPushKeepsLastGood(t *testing.T) {
	ips := []string{"127.0.0.45", "127.0.0.46"}
	backends(t, ips...)
	web, api := freePort(t), freePort(t)
	static := bareStatic(web, api, `  providersThrottleDuration = "50ms"
  [providers.rest]
    insecure = true
`)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "traefik.toml")
	if err := os.WriteFile(cfg, []byte(static), 0o644); err != nil {
		t.Fatal(err)
	}
	proc := startProc(t, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, traefikBin, "--configFile="+cfg)
	t.Cleanup(func() { proc.stop(t) })

	var logs testlog.Buffer
	p := &restpush.Pusher{URL: fmt.Sprintf("http://127.0.0.1:%d%s", api, restpush.Path),
		Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), MaxRetry: 100 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	client := portClient(web)
	url := "http://app.test/"
	if err := p.Set(appConfig(ips[0])); err != nil {
		t.Fatal(err)
	}
	expectBackends(t, client, url, ips[0])

	p.SetJSON([]byte(`{"http":{"routers":"not a table"}}`))
	eventually(t, 20*time.Second, "the refused push retried", func() error {
		if n := strings.Count(logs.String(), "400 Bad Request"); n < 3 {
			return fmt.Errorf("%d refusals logged", n)
		}
		return nil
	})
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("a refused push is not a warning:\n%s", logs.String())
	}
	// Still the last good configuration: answered, not 404.
	expectBackends(t, client, url, ips[0])

	if err := p.Set(appConfig(ips[1])); err != nil {
		t.Fatal(err)
	}
	expectBackends(t, client, url, ips[1])
}

// appConfig routes Host(`app.test`) to ip:8080, through a middleware of
// the configuration's own (a bare name, kept) and the server's default.
func appConfig(ip string) map[string]any {
	return map[string]any{"http": map[string]any{
		"routers": map[string]any{"app": map[string]any{
			"rule": "Host(`app.test`)", "service": "app", "middlewares": []string{"app-headers"}, "entryPoints": []string{"web"},
		}},
		"middlewares": map[string]any{"app-headers": map[string]any{"headers": map[string]any{"customResponseHeaders": map[string]string{"X-App": "1"}}}},
		"services": map[string]any{"app": map[string]any{"loadBalancer": map[string]any{
			"servers": []map[string]any{{"url": "http://" + ip + ":8080"}},
		}}},
	}}
}
