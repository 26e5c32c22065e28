package routes_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

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
