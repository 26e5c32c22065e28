// Package layout holds the package table of docs/architecture.md to the
// code: every package listed, every import allowed, every package documented.
package layout

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "rancher-traefik/"

// row is one package of the table.
type row struct {
	path      string   // e.g. internal/app
	mayImport []string // short names, e.g. "config"
	testsOnly bool
}

// table reads the rows between the layout markers of docs/architecture.md.
func table(t *testing.T) map[string]row {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := bytes.Cut(b, []byte("<!-- layout:begin -->"))
	body, _, ok2 := bytes.Cut(rest, []byte("<!-- layout:end -->"))
	if !ok || !ok2 {
		t.Fatal("docs/architecture.md has no layout markers")
	}
	rows := map[string]row{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		cells := strings.Split(sc.Text(), "|")
		if len(cells) < 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		r := row{path: strings.Trim(strings.TrimSpace(cells[1]), "`")}
		switch imports := strings.TrimSpace(cells[3]); imports {
		case "—":
		case "(tests only)":
			r.testsOnly = true
		default:
			for _, n := range strings.Split(imports, ",") {
				r.mayImport = append(r.mayImport, strings.TrimSpace(n))
			}
		}
		rows[r.path] = r
	}
	return rows
}

// pkg is what go list says of one package of the module.
type pkg struct {
	path, doc string
	imports   []string // the module's packages only, without the module prefix
	testsOnly bool     // only _test.go files
}

func packages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-f", "{{.ImportPath}}\t{{len .GoFiles}}\t{{join .Imports \" \"}}\t{{.Doc}}", "./...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var ps []pkg
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.SplitN(l, "\t", 4)
		p := pkg{path: strings.TrimPrefix(f[0], module), testsOnly: f[1] == "0", doc: f[3]}
		for _, imp := range strings.Fields(f[2]) {
			if s, ok := strings.CutPrefix(imp, module); ok {
				p.imports = append(p.imports, s)
			}
		}
		ps = append(ps, p)
	}
	return ps
}

// short is a package's name in the "May import" column.
func short(path string) string { return path[strings.LastIndexByte(path, '/')+1:] }

// TestImportsFollowTheTable: each package imports only what the table lets
// it, and the table lists every package there is, and no other.
func TestImportsFollowTheTable(t *testing.T) {
	rows := table(t)
	seen := map[string]bool{}
	for _, p := range packages(t) {
		seen[p.path] = true
		r, ok := rows[p.path]
		if !ok {
			t.Errorf("%s is not in docs/architecture.md's package table", p.path)
			continue
		}
		if r.testsOnly != p.testsOnly {
			t.Errorf("%s: the table says tests only = %v, the package has non-test files = %v", p.path, r.testsOnly, !p.testsOnly)
		}
		for _, imp := range p.imports {
			if !slices.Contains(r.mayImport, short(imp)) {
				t.Errorf("%s imports %s, which docs/architecture.md does not allow", p.path, imp)
			}
		}
	}
	for path := range rows {
		if !seen[path] {
			t.Errorf("docs/architecture.md lists %s, which does not exist", path)
		}
	}
}

// TestPackagesSayWhatTheyAreFor: every package with code has a doc comment.
func TestPackagesSayWhatTheyAreFor(t *testing.T) {
	for _, p := range packages(t) {
		if !p.testsOnly && p.doc == "" {
			t.Errorf("%s has no package doc comment", p.path)
		}
	}
}
