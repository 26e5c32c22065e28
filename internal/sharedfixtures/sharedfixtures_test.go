package sharedfixtures

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// layout makes root/repo (a module) and, when withShared, root/<sharedAt>/shared/fixtures
// with rancher-metadata/answers.yml; it runs the test from root/repo/internal/pkg.
func layout(t *testing.T, sharedAt string, withShared bool) (root string) {
	t.Helper()
	root = t.TempDir()
	pkg := filepath.Join(root, "wt", "repo", "internal", "pkg")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "wt", "repo", "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if withShared {
		dir := filepath.Join(root, sharedAt, "shared", "fixtures", "rancher-metadata")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "answers.yml"), []byte("x: 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(pkg)
	return root
}

func TestLocate(t *testing.T) {
	t.Setenv(EnvDir, "")
	for _, tc := range []struct {
		name, sharedAt string
		withShared     bool
		want           string // relative to the temp root; "" for not found
	}{
		{"beside the checkout (CI)", "wt", true, "wt/shared/fixtures/rancher-metadata/answers.yml"},
		{"above a worktree directory", ".", true, "shared/fixtures/rancher-metadata/answers.yml"},
		{"absent", "", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := layout(t, tc.sharedAt, tc.withShared)
			got, err := Locate(filepath.Join("rancher-metadata", "answers.yml"))
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), "no shared/fixtures/rancher-metadata/answers.yml above") {
					t.Errorf("Locate = %q, %v; want a not-found error", got, err)
				}
				return
			}
			if want := filepath.Join(root, tc.want); err != nil || got != want {
				t.Errorf("Locate = %q, %v; want %q", got, err, want)
			}
		})
	}
}

func TestLocateByEnv(t *testing.T) {
	layout(t, "", false)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "rancher-metadata"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rancher-metadata", "simple.yml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvDir, dir)
	if got, err := Locate("rancher-metadata/simple.yml"); err != nil || got != filepath.Join(dir, "rancher-metadata", "simple.yml") {
		t.Errorf("Locate = %q, %v", got, err)
	}
	if _, err := Locate("rancher-metadata/answers.yml"); err == nil || !strings.Contains(err.Error(), EnvDir+"="+dir) {
		t.Errorf("a missing file under %s: %v", EnvDir, err)
	}
}

// recorder stands in for a test, to see RancherMetadata skip or fail.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                          {}
func (r *recorder) Skipf(format string, args ...any) { r.skipped = format }
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = format
}

func TestRancherMetadataAbsent(t *testing.T) {
	layout(t, "", false)
	t.Setenv(EnvDir, "")
	for ci, wantFail := range map[string]bool{"": false, "false": false, "0": false, "true": true, "1": true} {
		t.Setenv("CI", ci)
		r := &recorder{TB: t}
		if p := RancherMetadata(r, "answers.yml"); p != "" {
			t.Errorf("CI=%q: path %q for an absent fixture", ci, p)
		}
		if failed := r.failed != ""; failed != wantFail || failed == (r.skipped != "") {
			t.Errorf("CI=%q: failed %q skipped %q; want failed=%v", ci, r.failed, r.skipped, wantFail)
		}
	}
}
