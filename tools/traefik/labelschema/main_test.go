package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedFilesAreCurrent: the routes package's generated files are
// what this generator writes from the pinned Traefik (run go generate
// ./internal/routes when this fails).
func TestGeneratedFilesAreCurrent(t *testing.T) {
	for name, want := range generate("v3.6.12") {
		got, err := os.ReadFile(filepath.Join("..", "..", "..", "internal", "routes", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("internal/routes/%s is not what labelschema generates: run go generate ./internal/routes", name)
		}
	}
}
