package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// finalStage returns the instructions after a Dockerfile's last FROM, one a
// line (continuations joined, comments dropped).
func finalStage(t *testing.T, name string) (all, final []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	var cur strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		all = append(all, strings.Join(strings.Fields(cur.String()), " "))
		cur.Reset()
	}
	last := -1
	for i, in := range all {
		if strings.HasPrefix(in, "FROM ") {
			last = i
		}
	}
	if last < 0 {
		t.Fatalf("%s has no FROM", name)
	}
	return all, all[last:]
}

// TestDockerfilesAgree: the official-image Dockerfile cannot be built here
// (no registry), so it is held to the one that is built and tested,
// Dockerfile.local: the same final stage — every file to the same place,
// the same environment, ports, health check, entry point and labels — and
// to the versions the rest of the project pins.
func TestDockerfilesAgree(t *testing.T) {
	allOfficial, official := finalStage(t, "Dockerfile")
	_, local := finalStage(t, "Dockerfile.local")
	// COPY sources differ (other stages vs the local context); destinations
	// must not.
	dest := regexp.MustCompile(`^COPY (--from=\S+ )?\S+ (\S+)$`)
	norm := func(ins []string) []string {
		var out []string
		for _, in := range ins {
			if m := dest.FindStringSubmatch(in); m != nil {
				in = "COPY → " + m[2]
			}
			out = append(out, in)
		}
		return out
	}
	if diff := cmp.Diff(norm(official), norm(local)); diff != "" {
		t.Errorf("final stages differ (-Dockerfile +Dockerfile.local):\n%s", diff)
	}
	for _, want := range []string{`ENTRYPOINT ["/usr/local/bin/rancher-traefik"]`, `CMD ["run"]`, "EXPOSE 80 443 8000", "STOPSIGNAL SIGTERM"} {
		if !slices.Contains(official, want) {
			t.Errorf("the final stage lacks %s", want)
		}
	}

	text := strings.Join(allOfficial, "\n")
	makefile, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	traefikMod, err := os.ReadFile(filepath.Join("..", "..", "tools", "traefik", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goMod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	tv := regexp.MustCompile(`(?m)^TRAEFIK_VERSION\s*:=\s*(\S+)`).FindSubmatch(makefile)
	if tv == nil {
		t.Fatal("no TRAEFIK_VERSION in the Makefile")
	}
	if !strings.Contains(text, "ARG TRAEFIK_VERSION="+string(tv[1])) {
		t.Errorf("the Dockerfile does not pin Traefik %s (the Makefile's)", tv[1])
	}
	if !strings.Contains(string(traefikMod), "github.com/traefik/traefik/v3 "+string(tv[1])) {
		t.Errorf("tools/traefik/go.mod does not pin Traefik %s (the Makefile's)", tv[1])
	}
	// And the Compose v2 the compose example is tested with.
	cv := regexp.MustCompile(`(?m)^COMPOSE_VERSION\s*:=\s*(\S+)`).FindSubmatch(makefile)
	composeMod, err := os.ReadFile(filepath.Join("..", "..", "tools", "compose", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if cv == nil || !strings.Contains(string(composeMod), "github.com/docker/compose/v2 "+string(cv[1])) {
		t.Errorf("tools/compose/go.mod does not pin the Makefile's COMPOSE_VERSION %s", cv)
	}
	gv := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(goMod)
	if gv == nil || !strings.Contains(text, "ARG GO_VERSION="+string(gv[1])) {
		t.Errorf("the Dockerfile's GO_VERSION is not go.mod's %s", gv)
	}
	// The build stage builds as `make build` does: static, trimmed, stamped.
	for _, flag := range []string{"CGO_ENABLED=0", "-trimpath", "-X rancher-traefik/internal/cli.version=${VERSION}", "./cmd/rancher-traefik"} {
		if !strings.Contains(text, flag) {
			t.Errorf("the build stage lacks %s", flag)
		}
	}
	if !strings.Contains(string(makefile), "-X rancher-traefik/internal/cli.version=$(VERSION)") {
		t.Error("the Makefile no longer stamps the version the way the Dockerfile does")
	}
}
