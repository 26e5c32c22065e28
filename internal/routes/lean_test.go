package routes_test

import (
	"bytes"
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/restpush"
	"rancher-traefik/internal/routes"
)

// TestEncodedIsBuild: for every environment of this package's tests
// (routes.EncodedCases), BuildEncoded gives byte for byte the TOML
// Encode writes for Build's Config and the JSON restpush.AppendRoutes
// writes for it, with the same warnings (in order), servers and
// credentials. The publisher publishes BuildEncoded's; the golden files,
// explain and the routes command show Build's.
func TestEncodedIsBuild(t *testing.T) {
	for _, c := range routes.EncodedCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			want := routes.Build(c.Snap, c.Opts)
			checkEncoded(t, want, routes.BuildEncoded(c.Snap, c.Opts, routes.EncodeOptions{JSON: restpush.AppendItem}), true)
			// The publisher's: its snapshot's services let go of as
			// they are translated (a copy of them here), JSON or not.
			for _, json := range []routes.ItemJSON{nil, restpush.AppendItem} {
				snap := *c.Snap
				snap.Services = slices.Clone(c.Snap.Services)
				checkEncoded(t, want, routes.BuildEncoded(&snap, c.Opts, routes.EncodeOptions{JSON: json, Release: true}), json != nil)
			}
		})
	}
}

func checkEncoded(t *testing.T, want routes.Result, got *routes.Encoded, withJSON bool) {
	t.Helper()
	wantTOML, err := routes.Encode(want.Config)
	if err != nil {
		t.Fatal(err)
	}
	gotTOML, err := got.TOML()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotTOML, wantTOML) {
		t.Errorf("TOML differs:\n%s", cmp.Diff(string(wantTOML), string(gotTOML)))
	}
	if withJSON {
		checkJSON(t, want, got)
	}
	if diff := cmp.Diff(want.Warnings, got.Warnings); diff != "" {
		t.Errorf("warnings (-Build +BuildEncoded):\n%s", diff)
	}
	if diff := cmp.Diff(want.Servers, got.Servers); diff != "" {
		t.Errorf("servers (-Build +BuildEncoded):\n%s", diff)
	}
	if diff := cmp.Diff(credentials(want.Credentials), credentials(got.Credentials)); diff != "" {
		t.Errorf("credentials (-Build +BuildEncoded):\n%s", diff)
	}
}

func checkJSON(t *testing.T, want routes.Result, got *routes.Encoded) {
	t.Helper()
	wantJSON, err := restpush.AppendRoutes(nil, want.Config)
	if err != nil {
		t.Fatal(err)
	}
	gotJSON, err := restpush.AppendEncoded(nil, got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("JSON differs:\n%s", cmp.Diff(string(wantJSON), string(gotJSON)))
	}
}

// credentials are the files' paths and contents, to compare.
func credentials(c routes.Credentials) map[string]string {
	out := map[string]string{}
	for p, s := range c {
		out[p] = s.Reveal()
	}
	return out
}

// FuzzEncodedIsBuild holds BuildEncoded to Build for any one label, set
// on two services (their names may collide) beside a service of error
// pages, with and without HTTPS and the acme resolver dropped.
func FuzzEncodedIsBuild(f *testing.F) {
	f.Add("traefik.http.routers.r.rule", "Host(`a`)")
	f.Add("traefik.frontend.errors.e.backend", "pages-st")
	f.Add("traefik.http.routers.r.middlewares", "a@rancher,b@file,r-errors-x")
	f.Add("traefik.http.middlewares.m.chain.middlewares", "x,y@file")
	f.Add("traefik.http.routers.r.tls.certresolver", "acme")
	f.Add("traefik.tcp.routers.r.rule", "HostSNI(`*`)")
	f.Fuzz(func(t *testing.T, key, value string) {
		svc := func(name string, labels map[string]string) rancher.Service {
			l := map[string]string{"traefik.enable": "true", "traefik.frontend.errors.e.status": "500", "traefik.frontend.errors.e.backend": "pages-st"}
			maps.Copy(l, labels)
			return rancher.Service{Name: name, Stack: "st", Kind: "service", Ports: []string{"80/tcp"}, Labels: l,
				Containers: []rancher.Container{{PrimaryIP: "10.0.0.1"}}}
		}
		snap := &rancher.Snapshot{Version: "1", Services: []rancher.Service{
			svc("a", map[string]string{key: value}), svc("b", map[string]string{key: value}),
			svc("pages", map[string]string{"traefik.port": "8080"}),
		}}
		for _, o := range []routes.Options{
			{Domain: "example.com", HTTPS: true, ACME: true},
			{Domain: "example.com", HTTPS: true, ACME: true, DropResolver: "acme", EntryPoints: map[string]string{"pg": "tcp", "dns": "udp"}},
		} {
			want := routes.Build(snap, o)
			copied := *snap
			copied.Services = slices.Clone(snap.Services)
			checkEncoded(t, want, routes.BuildEncoded(&copied, o, routes.EncodeOptions{JSON: restpush.AppendItem, Release: true}), true)
		}
	})
}
