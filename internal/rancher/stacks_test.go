package rancher

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/metadataserver"
	"rancher-traefik/internal/teststack"
)

// TestStacksMatchRoot: for every tree of the project's answers and stack
// files and a generated environment, in every version, the snapshot from
// the stacks alone is the reference decoder's of the whole root tree — or
// the stacks are refused (errNeedsRoot) and the client reads the root. The
// stack files' trees from 2015-12-19 on must not be refused: the client
// would lose what it reads the stacks for.
func TestStacksMatchRoot(t *testing.T) {
	trees := map[string]metadataserver.Answers{}
	for _, file := range []string{"../metadataserver/testdata/answers.yml", "../metadataserver/testdata/simple.yml", "../metadataserver/testdata/stack.yml"} {
		a, err := metadataserver.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		trees[file] = a
	}
	a, err := metadataserver.Parse([]byte(teststack.Scale(120, true)))
	if err != nil {
		t.Fatal(err)
	}
	trees["scale"] = a
	compared := 0
	for file, a := range trees {
		for version, byClient := range a {
			root, ok := byClient["default"].(map[string]any)
			if !ok {
				continue
			}
			name := file + " " + version
			b, err := json.Marshal(root)
			if err != nil {
				t.Fatal(err)
			}
			want, err := refDecodeReader(strings.NewReader(string(b)))
			if err != nil {
				continue // not a whole tree (no version): the root's errors are the root's
			}
			stacks, err := json.Marshal(root["stacks"])
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeStacks(strings.NewReader(string(stacks)), want.Version)
			mustUse := !strings.HasSuffix(file, "answers.yml") && !strings.HasSuffix(file, "simple.yml") && version != "2015-07-25"
			switch {
			case errors.Is(err, errNeedsRoot) && !mustUse:
				continue
			case err != nil:
				t.Fatalf("%s: %v", name, err)
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("%s: the stacks' snapshot differs from the root's (-stacks +root):\n%s", name, diff)
			}
			compared++
		}
	}
	if compared < 4 { // stack.yml and scale, 2015-12-19 and 2016-07-29 at least
		t.Errorf("%d trees compared, want at least 4", compared)
	}
}

// TestDecodeStacks: what the stacks alone cannot answer for is refused, and
// what is not a list of stacks is an error.
func TestDecodeStacks(t *testing.T) {
	svc := func(extra string) string {
		return `{"name":"web","stack_name":"shop","labels":{"a":"b"}` + extra + `}`
	}
	for _, tt := range []struct {
		name, in string
		want     string // "" ok, "root" errNeedsRoot, else a part of the error
	}{
		{"embedded", `[{"name":"shop","system":true,"environment_name":"Default","services":[` + svc(`,"containers":[{"name":"c1","primary_ip":"10.0.0.1"}]`) + `]}]`, ""},
		{"no stacks", `[]`, ""},
		{"null", `null`, ""},
		{"stack without services", `[{"name":"shop","services":null}]`, ""},
		{"service by name", `[{"name":"shop","services":["web"]}]`, "root"},
		{"service without containers", `[{"name":"shop","services":[` + svc(``) + `]}]`, "root"},
		{"containers null", `[{"name":"shop","services":[` + svc(`,"containers":null`) + `]}]`, "root"},
		{"container by name", `[{"name":"shop","services":[` + svc(`,"containers":["c1"]`) + `]}]`, "root"},
		{"other stack's service", `[{"name":"other","services":[` + svc(`,"containers":[]`) + `]}]`, "root"},
		{"services twice", `[{"name":"shop","services":[` + svc(`,"containers":[]`) + `],"services":[]}]`, "root"},
		{"null stack", `[null]`, "root"},
		{"an object", `{"stacks":[]}`, "not a JSON list"},
		{"truncated", `[{"name":"shop","services":[`, "decoding metadata stacks"},
		{"trailing", `[] []`, "more data"},
		{"a stack not an object", `[1]`, "a stack"},
		{"bad labels", `[{"name":"shop","services":[` + svc(`,"labels":[]`) + `]}]`, "labels"},
	} {
		snap, err := decodeStacks(strings.NewReader(tt.in), "v1")
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want == "root" && !errors.Is(err, errNeedsRoot):
			t.Errorf("%s: %v, want errNeedsRoot", tt.name, err)
		case tt.want != "" && tt.want != "root" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want an error with %q", tt.name, err, tt.want)
		case tt.want == "" && snap.Version != "v1":
			t.Errorf("%s: version %q", tt.name, snap.Version)
		}
	}
	snap, err := decodeStacks(strings.NewReader(`[{"name":"shop","system":true,"environment_name":"Prod","services":[`+svc(`,"containers":[{"name":"c2"},{"name":"c1"}]`)+`]}]`), "v1")
	if err != nil {
		t.Fatal(err)
	}
	want := []Service{{Name: "web", Stack: "shop", Kind: "service", System: true, Environment: "Prod", Labels: map[string]string{"a": "b"},
		Containers: []Container{{Name: "c1"}, {Name: "c2"}}}}
	if diff := cmp.Diff(snap.Services, want); diff != "" {
		t.Errorf("services (-got +want):\n%s", diff)
	}
}
