package rancher

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/metadataserver"
	"rancher-traefik/internal/sharedfixtures"
)

func emulator(t *testing.T, path string) (*metadataserver.Server, string) {
	t.Helper()
	a, err := metadataserver.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s := metadataserver.New(a, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

// TestSnapshotOfFixtures decodes answers documents in every version's
// shape: the project's own, and the real ones of rancher-metadata from
// ../shared/fixtures where present (required in CI).
func TestSnapshotOfFixtures(t *testing.T) {
	shop := []Service{
		{Name: "db", Stack: "Shop", Environment: "Default", Kind: "service", UUID: "1b2c3d4e-5f60-4718-8293-a4b5c6d7e900",
			Labels: map[string]string{"io.rancher.stack_service.name": "Shop/db"}, Ports: []string{"5432:5432/tcp"},
			Containers: []Container{{Name: "Shop_db_1", PrimaryIP: "10.42.1.20", State: "stopped", UUID: "4c8e2f0a-51b7-4d2e-9a63-0f1d2e3c4b60", Ports: []string{"5432:5432/tcp"}}}},
		{Name: "web", Stack: "Shop", Environment: "Default", Kind: "service", UUID: "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9",
			Labels: map[string]string{"io.rancher.stack.name": "Shop", "io.rancher.stack_service.name": "Shop/web", "io.rancher.scheduler.affinity:host_label": "zone=a", "traefik.port": "8080"},
			Containers: []Container{
				{Name: "Shop_web_1", PrimaryIP: "10.42.1.11", State: "running", HealthState: "healthy", UUID: "4c8e2f0a-51b7-4d2e-9a63-0f1d2e3c4b51"},
				{Name: "Shop_web_2", PrimaryIP: "10.42.1.12", State: "running", UUID: "4c8e2f0a-51b7-4d2e-9a63-0f1d2e3c4b52"},
			}},
	}
	alena := []Service{{Name: "alena", Stack: "Default", Environment: "Default", Kind: "service", UUID: "695036a7-b9fa-4024-87c9-20eb4d534459",
		Labels:     map[string]string{"io.rancher.container.pull_image": "always"},
		Containers: []Container{{Name: "Default_alena_1", PrimaryIP: "10.42.75.49", UUID: "57ad0af4-01a9-44cb-862c-0e2ed80c6bdb"}}}}
	for _, fx := range []struct {
		name     string
		path     func(t *testing.T) string
		version  string
		services []Service
		eligible []bool // per container, in services order
	}{
		{"project", func(*testing.T) string { return "../metadataserver/testdata/answers.yml" }, "7-3f2a9c0e5b1d4e8f",
			shop, []bool{false, true, true}},
		{"real", func(t *testing.T) string { return sharedfixtures.RancherMetadata(t, "answers.yml") },
			"20-aff454dabf2760385d247a5955488ff375b8230edefe079d3748ab44426edd9f", alena, []bool{true}},
	} {
		for _, version := range []string{"2015-07-25", "2015-12-19", "latest"} {
			t.Run(fx.name+"/"+version, func(t *testing.T) {
				_, url := emulator(t, fx.path(t))
				snap, err := (&Client{Base: url + "/" + version}).Snapshot(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if snap.Version != fx.version {
					t.Errorf("version %q, want %q", snap.Version, fx.version)
				}
				if diff := cmp.Diff(snap.Services, fx.services); diff != "" {
					t.Errorf("services (-got +want):\n%s", diff)
				}
				var eligible []bool
				for _, s := range snap.Services {
					for _, c := range s.Containers {
						eligible = append(eligible, c.Eligible())
					}
				}
				if diff := cmp.Diff(eligible, fx.eligible); diff != "" {
					t.Errorf("eligible containers (-got +want):\n%s", diff)
				}
			})
		}
	}
}

func TestSnapshotOfStackFile(t *testing.T) {
	_, url := emulator(t, "../metadataserver/testdata/stack.yml")
	for _, version := range []string{"2015-07-25", "2015-12-19", "2016-07-29"} {
		snap, err := (&Client{Base: url + "/" + version}).Snapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]bool{}
		for _, s := range snap.Services {
			for _, c := range s.Containers {
				got[s.Key()+sys(s.System)] = append(got[s.Key()+sys(s.System)], c.Eligible())
			}
		}
		want := map[string][]bool{"iamfoo/whoami": {true, false}, "iamfoo/db": {false}, "infra/agent (system)": {true}}
		if version != "2016-07-29" {
			want = map[string][]bool{"IamFoo/WhoAmI": {true, false}, "IamFoo/db": {false}, "infra/agent (system)": {true}}
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("%s eligibility (-got +want):\n%s", version, diff)
		}
	}
}

func sys(b bool) string {
	if b {
		return " (system)"
	}
	return ""
}

func TestEligibility(t *testing.T) {
	tests := []struct {
		state, health string
		want          bool
	}{
		{"running", "", true}, {"running", "healthy", true}, {"updating-running", "updating-healthy", true}, {"upgraded", "healthy", true},
		{"running", "unhealthy", false}, {"running", "updating-unhealthy", false}, {"running", "initializing", false}, {"running", "reinitializing", false},
		{"stopped", "", false}, {"starting", "", false}, {"stopping", "healthy", false}, {"", "", true},
	}
	for _, tt := range tests {
		c := Container{PrimaryIP: "10.0.0.1", State: tt.state, HealthState: tt.health}
		if c.Eligible() != tt.want {
			t.Errorf("state %q health %q: eligible %v, want %v", tt.state, tt.health, c.Eligible(), tt.want)
		}
	}
	if (&Container{State: "running"}).Eligible() {
		t.Error("a container without an IP is eligible")
	}
}

func TestDecodeBad(t *testing.T) {
	for name, in := range map[string]string{
		"not JSON":          `<html>`,
		"truncated":         `{"version":"1","services":[{"name":"a"`,
		"no version":        `{"services":[]}`,
		"no services":       `{"version":"1"}`,
		"service not obj":   `{"version":"1","services":[5]}`,
		"container bad":     `{"version":"1","services":[{"name":"a","containers":[7]}]}`,
		"version not text":  `{"version":{},"services":[]}`,
		"services not list": `{"version":"1","services":{}}`,
	} {
		if _, err := Decode([]byte(in)); err == nil {
			t.Errorf("%s: Decode succeeded", name)
		}
	}
	// Nulls and odd label values decode.
	snap, err := Decode([]byte(`{"version":"1","services":[{"name":"a","stack_name":null,"labels":{"x":null,"n":3,"b":true},"ports":[null,"80/tcp"],"containers":[{"name":"c","primary_ip":null,"health_state":null}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(snap.Services[0].Labels, map[string]string{"x": "", "n": "3", "b": "true"}); diff != "" {
		t.Errorf("labels (-got +want):\n%s", diff)
	}
	// An environment without services: the real server answers null.
	if snap, err := Decode([]byte(`{"version":"1","services":null,"containers":null,"stacks":null}`)); err != nil || len(snap.Services) != 0 {
		t.Errorf("services null: %+v %v, want an empty snapshot", snap, err)
	}
}

// TestSnapshotOfEmptyEnvironment: the real generator answers "services":
// null when an environment has none (a nil list); that is an empty
// snapshot, not a truncated answer.
func TestSnapshotOfEmptyEnvironment(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "stack.yml"), []byte("stacks:\n  - name: bare\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, url := emulator(t, filepath.Join(dir, "stack.yml"))
	for _, version := range []string{"2015-07-25", "2015-12-19", "2016-07-29"} {
		snap, err := (&Client{Base: url + "/" + version}).Snapshot(context.Background())
		if err != nil || len(snap.Services) != 0 || snap.Version == "" {
			t.Errorf("%s: %+v %v, want an empty snapshot", version, snap, err)
		}
	}
}

func TestWaitVersion(t *testing.T) {
	s, url := emulator(t, "../metadataserver/testdata/stack.yml")
	c := &Client{Base: url + "/latest"}
	v, err := c.WaitVersion(context.Background(), "init", 5)
	if err != nil || v != s.Version() {
		t.Fatalf("WaitVersion(init) = %q %v", v, err)
	}
	done := make(chan string, 1)
	go func() {
		nv, _ := c.WaitVersion(context.Background(), v, 30)
		done <- nv
	}()
	if err := s.AwaitLongPolls(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	a, _ := metadataserver.Load("../metadataserver/testdata/stack.yml")
	s.Set(a)
	select {
	case nv := <-done:
		if nv == v {
			t.Error("WaitVersion returned the old version after a reload")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WaitVersion did not return on change")
	}
	if _, err := (&Client{Base: url + "/1999-01-01"}).WaitVersion(context.Background(), "x", 1); err == nil {
		t.Error("unknown version: no error")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"version":"1","services":[{"name":"a","containers":["c"]}],"containers":[{"name":"c"}]}`))
	f.Add([]byte(`{"version":"1","services":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		snap, err := Decode(b)
		if err == nil && snap.Version == "" {
			t.Fatal("a snapshot without a version")
		}
	})
}
