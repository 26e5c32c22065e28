// Package sharedfixtures finds the real Rancher fixtures that developers and
// CI keep beside the checkout (../shared/fixtures). The repository's own tests
// use the project's fixtures (internal/metadataserver/testdata); these real
// answers are checked in addition where present: a test that asks for them
// is skipped with a one-line reason when they are absent, and fails when the
// CI environment variable is set, so CI cannot lose them silently.
package sharedfixtures

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// EnvDir names the fixtures directory (the one holding rancher-metadata/)
// explicitly; when set it must hold the fixture asked for.
const EnvDir = "RANCHER_TRAEFIK_FIXTURES"

// RancherMetadata is the path of the real answers document name
// (answers.yml, simple.yml) in rancher-metadata/ of the shared fixtures.
func RancherMetadata(t testing.TB, name string) string {
	t.Helper()
	p, err := Locate(filepath.Join("rancher-metadata", name))
	if err == nil {
		return p
	}
	if InCI() || os.Getenv(EnvDir) != "" {
		t.Fatalf("real Rancher fixture required (CI is set or %s names a directory): %v", EnvDir, err)
		return ""
	}
	t.Skipf("real Rancher fixture absent, skipped (the project's own fixtures ran): %v", err)
	return ""
}

// InCI reports whether the CI variable is set to something other than a
// false value.
func InCI() bool {
	v, ok := os.LookupEnv("CI")
	return ok && v != "" && v != "0" && v != "false"
}

// Locate finds rel under $RANCHER_TRAEFIK_FIXTURES, else under
// shared/fixtures in the first directory above the module root that has
// one: ../shared beside a checkout (as CI lays it out), or further up for
// a git worktree kept in a subdirectory.
func Locate(rel string) (string, error) {
	if dir := os.Getenv(EnvDir); dir != "" {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvDir, dir, err)
		}
		return p, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	for dir := filepath.Dir(root); ; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, "shared", "fixtures", rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	return "", fmt.Errorf("no shared/fixtures/%s above %s, and %s is unset", rel, root, EnvDir)
}

// moduleRoot is the nearest directory above the working directory (a
// package's, under go test) that holds go.mod.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", errors.New("no go.mod above " + wd)
		}
	}
}
