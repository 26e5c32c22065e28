package rancher

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"rancher-traefik/internal/metadataserver"
)

// TestSnapshotRequests: one request an answer while services embed their
// containers; a version whose services name them (2015-07-25) is asked
// again and decoded in full, then in full from the first request on.
func TestSnapshotRequests(t *testing.T) {
	a, err := metadataserver.Load("../metadataserver/testdata/stack.yml")
	if err != nil {
		t.Fatal(err)
	}
	s := metadataserver.New(a, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var requests atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		s.ServeHTTP(w, r)
	}))
	defer ts.Close()
	for _, tt := range []struct {
		version string
		want    []int64 // requests of each of three snapshots
	}{
		{"2016-07-29", []int64{1, 1, 1}},
		{"2015-12-19", []int64{1, 1, 1}},
		{"2015-07-25", []int64{2, 1, 1}},
	} {
		c := &Client{Base: ts.URL + "/" + tt.version}
		for i, want := range tt.want {
			before := requests.Load()
			snap, err := c.Snapshot(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(snap.Services) != 3 || len(snap.Services[0].Containers) == 0 {
				t.Errorf("%s: snapshot %d: %+v", tt.version, i, snap.Services)
			}
			if got := requests.Load() - before; got != want {
				t.Errorf("%s: snapshot %d took %d requests, want %d", tt.version, i, got, want)
			}
		}
	}
}
