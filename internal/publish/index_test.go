package publish

import (
	"maps"
	"os"
	"path/filepath"
	"testing"

	"rancher-traefik/internal/routes"
	"rancher-traefik/internal/testsnap"
	"rancher-traefik/internal/teststack"
)

// TestIndexEncodedIsIndexRouters: the index made from a configuration's
// items is the one made by reading its routes file back — every router's
// fingerprint and the servers' count — for the routes package's stack
// files (both dialects, rawmind0's, credentials, redirects, TCP and UDP
// routers) and a large mixed environment, with HTTPS on and off.
func TestIndexEncodedIsIndexRouters(t *testing.T) {
	files, err := filepath.Glob("../routes/testdata/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no stack files: %v", err)
	}
	envs := map[string][]byte{"scale-300": []byte(teststack.Scale(300, false)), "publish-stack": []byte(stack(7))}
	for _, f := range files {
		if envs[filepath.Base(f)], err = os.ReadFile(f); err != nil {
			t.Fatal(err)
		}
	}
	for name, env := range envs {
		for _, https := range []bool{false, true} {
			o := routes.Options{Domain: "example.com", HTTPS: https, CredentialDir: t.TempDir()}
			enc := routes.BuildEncoded(testsnap.Stack(t, env), o, routes.EncodeOptions{})
			b, err := enc.TOML()
			if err != nil {
				t.Fatal(err)
			}
			want, err := indexRouters(b)
			if err != nil {
				t.Fatal(err)
			}
			got := indexEncoded(enc)
			if len(want.routers) == 0 {
				t.Errorf("%s (https %v): no routers: the comparison proves nothing", name, https)
			}
			if !maps.Equal(got.routers, want.routers) || got.servers != want.servers {
				t.Errorf("%s (https %v): from the items %d routers, %d servers; from the file %d routers, %d servers (or fingerprints differ)",
					name, https, len(got.routers), got.servers, len(want.routers), want.servers)
			}
		}
	}
}
