package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/cobra"

	"rancher-traefik/internal/app"
)

// parse runs cmd on args with its run function replaced: only the flags
// are parsed, nothing runs.
func parse(t *testing.T, cmd *cobra.Command, args ...string) error {
	t.Helper()
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return cmd.Execute()
}

// TestFlags: each command's flags land in its options, with their
// defaults, without running anything.
func TestFlags(t *testing.T) {
	a := &app.App{}
	ignore := cmpopts.IgnoreFields
	t.Run("render", func(t *testing.T) {
		var got *RenderOptions
		if err := parse(t, NewCmdRender(a, func(o *RenderOptions) error { got = o; return nil }), "--stdout"); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, &RenderOptions{App: a, Stdout: true}); diff != "" {
			t.Errorf("(-got +want):\n%s", diff)
		}
	})
	t.Run("env", func(t *testing.T) {
		var got *EnvOptions
		if err := parse(t, NewCmdEnv(a, func(o *EnvOptions) error { got = o; return nil }), "--effective"); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, &EnvOptions{App: a, Effective: true}); diff != "" {
			t.Errorf("(-got +want):\n%s", diff)
		}
		if err := parse(t, NewCmdEnv(a, func(*EnvOptions) error { t.Error("ran"); return nil }), "--effective", "--markdown"); err == nil {
			t.Error("--effective with --markdown accepted")
		}
	})
	t.Run("healthcheck", func(t *testing.T) {
		var got *HealthcheckOptions
		if err := parse(t, NewCmdHealthcheck(a, func(o *HealthcheckOptions) error { got = o; return nil }), "--url", "http://127.0.0.1:8090/latest/version", "--timeout", "5s"); err != nil {
			t.Fatal(err)
		}
		want := &HealthcheckOptions{App: a, URL: "http://127.0.0.1:8090/latest/version", Timeout: 5 * time.Second}
		if diff := cmp.Diff(got, want, ignore(HealthcheckOptions{}, "Ctx")); diff != "" {
			t.Errorf("(-got +want):\n%s", diff)
		}
		if err := parse(t, NewCmdHealthcheck(a, func(o *HealthcheckOptions) error { got = o; return nil })); err != nil || got.Timeout != 3*time.Second {
			t.Errorf("default timeout %v (%v), want 3s", got.Timeout, err)
		}
	})
	t.Run("routes", func(t *testing.T) {
		var got *RoutesOptions
		if err := parse(t, NewCmdRoutes(a, func(o *RoutesOptions) error { got = o; return nil }), "--answers", "stack.yml"); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, &RoutesOptions{App: a, Answers: "stack.yml"}, ignore(RoutesOptions{}, "Ctx")); diff != "" {
			t.Errorf("(-got +want):\n%s", diff)
		}
	})
	t.Run("metadata-server", func(t *testing.T) {
		var got *MetadataServerOptions
		if err := parse(t, NewCmdMetadataServer(a, func(o *MetadataServerOptions) error { got = o; return nil }), "--answers", "a.yml", "--xff", "--api-keys", "ak:sk"); err != nil {
			t.Fatal(err)
		}
		want := &MetadataServerOptions{App: a, MetadataServer: app.MetadataServer{Answers: "a.yml", Listen: "127.0.0.1:8090", XFF: true, APIKeys: "ak:sk"}}
		if diff := cmp.Diff(got, want, ignore(MetadataServerOptions{}, "Ctx")); diff != "" {
			t.Errorf("(-got +want):\n%s", diff)
		}
		if err := parse(t, NewCmdMetadataServer(a, func(*MetadataServerOptions) error { t.Error("ran"); return nil })); err == nil {
			t.Error("metadata-server without --answers accepted")
		}
	})
}

// TestHelpShowsOwnExitCodes: each command's help lists the codes it can
// return, and only those; the root's lists them all.
func TestHelpShowsOwnExitCodes(t *testing.T) {
	for _, tt := range []struct {
		args      []string
		has, hasn []string
	}{
		{[]string{"--help"}, []string{" 65 ", " 75 ", " 78 ", "127 ", "143 "}, nil},
		{[]string{"check", "--help"}, []string{"  0 ", " 65 ", " 78 "}, []string{" 75 ", "127 "}},
		{[]string{"version", "--help"}, []string{"  0 ", " 64 "}, []string{" 65 ", " 78 ", "  1 "}},
		{[]string{"healthcheck", "--help"}, []string{"  1 ", " 64 "}, []string{" 65 ", " 78 "}},
	} {
		code, out, errb := execute(t, nil, tt.args...)
		if code != app.ExitOK {
			t.Fatalf("%v: exit %d: %s", tt.args, code, errb)
		}
		_, codes, _ := strings.Cut(out, "Exit codes:\n")
		for _, s := range tt.has {
			if !strings.Contains(codes, s) {
				t.Errorf("%v: help lacks code %q:\n%s", tt.args, s, codes)
			}
		}
		for _, s := range tt.hasn {
			if strings.Contains(codes, s) {
				t.Errorf("%v: help lists code %q:\n%s", tt.args, s, codes)
			}
		}
	}
}
