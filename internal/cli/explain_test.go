package cli

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"rancher-traefik/internal/app"
)

// TestExplainFlags: explain's flags and argument land in its options
// without running anything; a second argument and both sources together
// are refused.
func TestExplainFlags(t *testing.T) {
	a := &app.App{}
	tests := []struct {
		args []string
		want *ExplainOptions // nil: refused
	}{
		{nil, &ExplainOptions{App: a}},
		{[]string{"--answers", "stack.yml", "web/api"}, &ExplainOptions{App: a, Answers: "stack.yml", Service: "web/api"}},
		{[]string{"--metadata-url", "http://m/2016-07-29", "web"}, &ExplainOptions{App: a, MetadataURL: "http://m/2016-07-29", Service: "web"}},
		{[]string{"web/api", "web/db"}, nil},
		{[]string{"--answers", "a.yml", "--metadata-url", "http://m/latest"}, nil},
		{[]string{"--stdout"}, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var got *ExplainOptions
			err := parse(t, NewCmdExplain(a, func(o *ExplainOptions) error { got = o; return nil }), tt.args...)
			if tt.want == nil {
				if err == nil || got != nil {
					t.Errorf("accepted: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, tt.want, cmpopts.IgnoreFields(ExplainOptions{}, "Ctx")); diff != "" {
				t.Errorf("(-got +want):\n%s", diff)
			}
		})
	}
}

// TestExplainCommand: the command reaches app.Explain, and its exit codes
// come from app's map: 0, and 1 for a service not in the snapshot; 64 for
// a bad command line.
func TestExplainCommand(t *testing.T) {
	vars := map[string]string{"TRAEFIK_RANCHER_DOMAIN": "example.com"}
	code, out, errb := execute(t, vars, "explain", "--answers", "../routes/testdata/stacks.yml", "iamfoo/whoami")
	if code != app.ExitOK || !strings.Contains(out, "iamfoo/whoami (service, v1 labels): published") {
		t.Errorf("exit %d, out %q, err %q", code, out, errb)
	}
	if code, _, errb := execute(t, vars, "explain", "--answers", "../routes/testdata/stacks.yml", "iamfoo/nope"); code != app.ExitFailure || !strings.Contains(errb, `no service "iamfoo/nope"`) {
		t.Errorf("missing service: exit %d, err %q", code, errb)
	}
	if code, _, _ := execute(t, vars, "explain", "a/b", "c/d"); code != app.ExitUsage {
		t.Errorf("two services: exit %d, want %d", code, app.ExitUsage)
	}
	if code, out, _ := execute(t, nil, "explain", "--help"); code != app.ExitOK || !strings.Contains(out, " 78 ") || strings.Contains(out, "127 ") {
		t.Errorf("help: exit %d, codes %q", code, out)
	}
}
