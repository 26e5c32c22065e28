package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// testOnly are the packages that exist for tests and the development tools
// (rancher-traefik-dev): none may be linked into the shipped entrypoint.
// `testing` and its helpers stand for any test helper not listed here.
var testOnly = []string{
	"rancher-traefik/internal/devtools",       // whoami, dev-cert
	"rancher-traefik/internal/testcert",       // throw-away certificate chains
	"rancher-traefik/internal/testlog",        // buffers tests read while written
	"rancher-traefik/internal/teststack",      // stack files of any size, for benchmarks
	"rancher-traefik/internal/sharedfixtures", // the real Rancher fixtures beside the checkout
	"rancher-traefik/internal/golden",         // golden files
	"testing",
	"testing/fstest",
	"net/http/httptest",
	"github.com/google/go-cmp/cmp",
}

// deps lists the packages a main package links (go list -deps: no test
// files).
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, stderr)
	}
	return strings.Fields(string(out))
}

// linkedTestCode returns the test-only packages among pkg's dependencies,
// and any other package of the module whose name says it is for tests.
func linkedTestCode(t *testing.T, pkg string) []string {
	t.Helper()
	var found []string
	for _, d := range deps(t, pkg) {
		name := d[strings.LastIndex(d, "/")+1:]
		if slices.Contains(testOnly, d) || (strings.HasPrefix(d, "rancher-traefik/") && strings.HasPrefix(name, "test")) {
			found = append(found, d)
		}
	}
	return found
}

// TestShippedBinaryLinksNoTestCode: rancher-traefik, the image's
// entrypoint, links none of the test helpers nor the development tools; the
// same check over rancher-traefik-dev, which links them on purpose, finds
// them (so the check sees what it looks for).
func TestShippedBinaryLinksNoTestCode(t *testing.T) {
	// Every module package listed exists: a rename must update the list,
	// not silently drop a guard.
	for _, p := range testOnly {
		if strings.HasPrefix(p, "rancher-traefik/") {
			deps(t, p)
		}
	}
	if found := linkedTestCode(t, "rancher-traefik/cmd/rancher-traefik"); len(found) > 0 {
		t.Errorf("rancher-traefik links test or development code: %v (move it to rancher-traefik-dev or a _test.go file)", found)
	}
	found := linkedTestCode(t, "rancher-traefik/cmd/rancher-traefik-dev")
	for _, want := range []string{"rancher-traefik/internal/devtools", "rancher-traefik/internal/testcert"} {
		if !slices.Contains(found, want) {
			t.Errorf("the check does not see %s in rancher-traefik-dev (found %v)", want, found)
		}
	}
}
