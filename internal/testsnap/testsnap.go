// Package testsnap turns the metadata emulator's answers into the snapshot
// the product reads from them, for tests: the emulator's default answer
// encoded as JSON, read back by the metadata decoder. It is never linked
// into the product.
package testsnap

import (
	"encoding/json"
	"testing"

	"rancher-traefik/internal/metadataserver"
	"rancher-traefik/internal/rancher"
)

// Of is the snapshot of a's default answer.
func Of(t testing.TB, a metadataserver.Answers) *rancher.Snapshot {
	t.Helper()
	tree, err := json.Marshal(a["2016-07-29"]["default"])
	if err != nil {
		t.Fatal(err)
	}
	snap, err := rancher.Decode(tree)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// File is the snapshot of an answers or stack file.
func File(t testing.TB, path string) *rancher.Snapshot {
	t.Helper()
	a, err := metadataserver.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return Of(t, a)
}

// Stack is the snapshot of an answers or stack file's text.
func Stack(t testing.TB, text []byte) *rancher.Snapshot {
	t.Helper()
	a, err := metadataserver.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return Of(t, a)
}
