package rancher

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/metadataserver"
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

func fixture(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "fixtures", "rancher-metadata", name)
}

func TestSnapshotOfFixtures(t *testing.T) {
	alena := Service{Name: "alena", Stack: "Default", Kind: "service", UUID: "695036a7-b9fa-4024-87c9-20eb4d534459",
		Labels:     map[string]string{"io.rancher.container.pull_image": "always"},
		Containers: []Container{{Name: "Default_alena_1", PrimaryIP: "10.42.75.49", UUID: "57ad0af4-01a9-44cb-862c-0e2ed80c6bdb"}}}
	for _, version := range []string{"2015-07-25", "2015-12-19", "latest"} {
		t.Run(version, func(t *testing.T) {
			_, url := emulator(t, fixture("answers.yml"))
			c := &Client{Base: url + "/" + version}
			snap, err := c.Snapshot(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if snap.Version != "20-aff454dabf2760385d247a5955488ff375b8230edefe079d3748ab44426edd9f" {
				t.Errorf("version %q", snap.Version)
			}
			if diff := cmp.Diff(snap.Services, []Service{alena}); diff != "" {
				t.Errorf("services (-got +want):\n%s", diff)
			}
			if !snap.Services[0].Containers[0].Eligible() {
				t.Error("a container of a version without states or health checks must get traffic")
			}
		})
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
	time.Sleep(50 * time.Millisecond)
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
