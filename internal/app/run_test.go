package app

import (
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"rancher-traefik/internal/testlog"
)

// TestKeepsDeathSignal: the kernel clears a child's parent-death signal at
// the exec of a set-user-ID binary or one with file capabilities; such a
// TRAEFIK_BINARY is warned about, a plain one is not.
func TestKeepsDeathSignal(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, want string
	}{
		{"plain", mk("plain", 0o755), ""},
		{"setuid", mk("setuid", 0o755|os.ModeSetuid), "it is set-user-ID or set-group-ID"},
	}
	if capped := mk("capped", 0o755); exec.Command("setcap", "cap_net_bind_service=+ep", capped).Run() == nil {
		tests = append(tests, struct{ name, path, want string }{"file capabilities", capped, "it has file capabilities (setcap)"})
	} else {
		t.Log("setcap unavailable here (not root, or no libcap2-bin): the file-capability case is not run")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out testlog.Buffer
			keepsDeathSignal(slog.New(slog.NewTextHandler(&out, nil)), tt.path)
			got := out.String()
			if tt.want == "" && got != "" {
				t.Errorf("warned about a plain binary: %s", got)
			}
			if tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("log %q lacks %q", got, tt.want)
			}
		})
	}
}
