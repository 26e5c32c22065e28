package routes

import (
	"testing"

	"rancher-traefik/internal/rancher"
)

// TestExclusionAgreesWithBuild: a service Exclusion names a reason for is
// left out by Build silently; any other is published or warned about —
// over the golden stacks, the rawmind0 cases, under each option that
// excludes services.
func TestExclusionAgreesWithBuild(t *testing.T) {
	snap := snapshot(t, "testdata/stacks.yml")
	for _, tt := range rawmindCases {
		snap.Services = append(snap.Services, rancher.Service{Name: "r", Stack: tt.key, Kind: "service", Labels: tt.labels})
	}
	snap.Services = append(snap.Services,
		rancher.Service{Name: "off", Stack: "raw", Kind: "service", Labels: map[string]string{"traefik.enable": "false", "traefik.alias": "x"}},
		rancher.Service{Name: "lb", Stack: "raw", Kind: "loadBalancerService", Labels: map[string]string{"traefik.enable": "true"}},
		rancher.Service{Name: "sys", Stack: "raw", Kind: "service", System: true, Labels: map[string]string{"traefik.enable": "true"}})
	cs, err := ParseConstraints("tag==api")
	if err != nil {
		t.Fatal(err)
	}
	opts := []Options{
		{Domain: "example.com"},
		{Domain: "example.com", ExposedByDefault: true, IncludeSystem: true},
		{Domain: "example.com", Constraints: cs},
	}
	excluded := 0
	for _, o := range opts {
		for i := range snap.Services {
			s := &snap.Services[i]
			res := Build(&rancher.Snapshot{Version: "1", Services: []rancher.Service{*s}}, o)
			why := Exclusion(s, o)
			silent := len(res.Config) == 0 && len(res.Warnings) == 0
			if (why != "") != silent {
				t.Errorf("%s with %+v: Exclusion %q, Build published %d sections, warned %v", s.Key(), o, why, len(res.Config), res.Warnings)
			}
			if why != "" {
				excluded++
			}
		}
	}
	if excluded == 0 {
		t.Error("no service was excluded: the test checks nothing")
	}
}

func TestDialect(t *testing.T) {
	for _, tt := range []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{"traefik.enable": "true"}, "v1"},
		{map[string]string{"traefik.enable": "stack"}, "rawmind0"},
		{map[string]string{"traefik.http.routers.a.rule": "Host(`a`)"}, "v2"},
		{map[string]string{"traefik.alias": "a", "traefik.http.services.x.y": ""}, "v2"},
		{map[string]string{"traefik.frontend.rule": "Host:a", "traefik.http.middlewares.m.stripprefix.prefixes": "/a"}, "v1 + v2 middlewares"},
	} {
		if got := Dialect(tt.labels); got != tt.want {
			t.Errorf("Dialect(%v) = %s, want %s", tt.labels, got, tt.want)
		}
	}
}
