package rancher

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"rancher-traefik/internal/metadataserver"
)

// TestSnapshotRequests: /version and /stacks while stacks embed their
// services with their containers; a version whose stacks name their
// services (2015-07-25) falls back to the root tree, asked again and
// decoded in full as its services name their containers, then the root in
// full from the first request on.
func TestSnapshotRequests(t *testing.T) {
	a, err := metadataserver.Load("../metadataserver/testdata/stack.yml")
	if err != nil {
		t.Fatal(err)
	}
	s := metadataserver.New(a, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var mu sync.Mutex
	var paths []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		s.ServeHTTP(w, r)
	}))
	defer ts.Close()
	for _, tt := range []struct {
		version string
		want    [][]string // paths requested by each of three snapshots, less the version's
	}{
		{"2016-07-29", [][]string{{"/version", "/stacks"}, {"/version", "/stacks"}, {"/version", "/stacks"}}},
		{"2015-12-19", [][]string{{"/version", "/stacks"}, {"/version", "/stacks"}, {"/version", "/stacks"}}},
		{"2015-07-25", [][]string{{"/version", "/stacks", "", ""}, {""}, {""}}},
	} {
		c := &Client{Base: ts.URL + "/" + tt.version}
		for i, want := range tt.want {
			mu.Lock()
			paths = nil
			mu.Unlock()
			snap, err := c.Snapshot(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(snap.Services) != 3 || len(snap.Services[0].Containers) == 0 {
				t.Errorf("%s: snapshot %d: %+v", tt.version, i, snap.Services)
			}
			mu.Lock()
			got := make([]string, len(paths))
			for j, p := range paths {
				got[j] = strings.TrimPrefix(p, "/"+tt.version)
			}
			mu.Unlock()
			if !slices.Equal(got, want) {
				t.Errorf("%s: snapshot %d requested %q, want %q", tt.version, i, got, want)
			}
		}
	}
}
