package routes

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/rancher"
)

// TestParallelBuildEqualsSequential: with several goroutines (forced even on
// one CPU) Build gives the configuration, server counts and warnings, in
// the same order, that one goroutine gives — including which of two
// services claiming one name wins (the first in the snapshot).
func TestParallelBuildEqualsSequential(t *testing.T) {
	snap := bigSnapshot(3 * minChunk)
	// Every 97th service claims the names of the one before it (a clash
	// when that one speaks the v1 dialect, as even ones do), and every 89th
	// has a bad port label (which only the v1 dialect reads).
	for i := 97; i < len(snap.Services); i += 97 {
		prev := snap.Services[i-1]
		snap.Services[i] = rancher.Service{Name: prev.Name, Stack: prev.Stack, Kind: "service",
			Labels: map[string]string{"traefik.enable": "true", "traefik.port": "81"}, Containers: prev.Containers}
	}
	for i := 89; i < len(snap.Services); i += 89 {
		snap.Services[i].Labels["traefik.port"] = fmt.Sprintf("port%d", i)
	}
	o := Options{Domain: "example.com", HTTPS: true}
	prev := runtime.GOMAXPROCS(1)
	seq := Build(snap, o)
	runtime.GOMAXPROCS(4)
	par := Build(snap, o)
	runtime.GOMAXPROCS(prev)
	var taken, badPort int
	for _, w := range seq.Warnings {
		if strings.Contains(w.Msg, "already defined by another service") {
			taken++
		}
		if w.Label == "traefik.port" {
			badPort++
		}
	}
	if taken == 0 || badPort == 0 {
		t.Fatalf("%d name conflicts and %d bad ports: the test's faults did not happen", taken, badPort)
	}
	if diff := cmp.Diff(seq, par); diff != "" {
		t.Errorf("parallel build differs (-sequential +parallel):\n%s", diff)
	}
	a, err := Encode(seq.Config)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encode(par.Config)
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Error("the encoded configurations differ")
	}
}
