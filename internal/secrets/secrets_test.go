package secrets

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func lookupOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	secretsDir := filepath.Join(dir, "secrets")
	if err := os.Mkdir(secretsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(p, s string) string {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	aliasFile := write(filepath.Join(secretsDir, "traefik-access"), "ALIASVALUE\n")
	plainFile := write(filepath.Join(dir, "plain"), "FILEVALUE\n")
	crlfFile := write(filepath.Join(dir, "crlf"), "CRLF\r\n")
	twoNL := write(filepath.Join(dir, "twonl"), "TWO\n\n")
	empty := write(filepath.Join(dir, "empty"), "")
	if err := os.Mkdir(filepath.Join(secretsDir, "adir"), 0o700); err != nil {
		t.Fatal(err)
	}
	r := Resolver{Dir: secretsDir}

	tests := []struct {
		name    string
		env     map[string]string
		trim    bool
		want    string
		wantSrc string
		wantErr string
	}{
		{name: "unset", env: nil, wantSrc: "unset"},
		{name: "empty is unset", env: map[string]string{"K": ""}, wantSrc: "unset"},
		{name: "literal", env: map[string]string{"K": "abc"}, want: "abc", wantSrc: "value"},
		{name: "literal keeps newline without trim", env: map[string]string{"K": "abc\n"}, want: "abc\n", wantSrc: "value"},
		{name: "literal trimmed", env: map[string]string{"K": "abc\n"}, trim: true, want: "abc", wantSrc: "value"},
		{name: "_FILE", env: map[string]string{"K_FILE": plainFile}, trim: true, want: "FILEVALUE", wantSrc: "file " + plainFile + " (from K_FILE)"},
		{name: "_FILE untrimmed", env: map[string]string{"K_FILE": plainFile}, want: "FILEVALUE\n", wantSrc: "file " + plainFile + " (from K_FILE)"},
		{name: "both set", env: map[string]string{"K": "x", "K_FILE": plainFile}, wantErr: "K: K_FILE is also set: set only one of them"},
		{name: "absolute path", env: map[string]string{"K": plainFile}, trim: true, want: "FILEVALUE", wantSrc: "file " + plainFile},
		{name: "crlf trimmed once", env: map[string]string{"K": crlfFile}, trim: true, want: "CRLF", wantSrc: "file " + crlfFile},
		{name: "only one newline trimmed", env: map[string]string{"K": twoNL}, trim: true, want: "TWO\n", wantSrc: "file " + twoNL},
		{name: "alias", env: map[string]string{"K": "traefik-access"}, trim: true, want: "ALIASVALUE", wantSrc: "secret " + aliasFile},
		{name: "alias that is a directory is a literal", env: map[string]string{"K": "adir"}, want: "adir", wantSrc: "value"},
		{name: "missing alias is a literal", env: map[string]string{"K": "nosuch"}, want: "nosuch", wantSrc: "value"},
		{name: "dot-dot is no alias", env: map[string]string{"K": ".."}, want: "..", wantSrc: "value"},
		{name: "missing path", env: map[string]string{"K": "/nonexistent/x"}, wantErr: "K: reading secret file /nonexistent/x: no such file or directory"},
		{name: "missing _FILE", env: map[string]string{"K_FILE": "/nonexistent/y"}, wantErr: "K_FILE: reading secret file /nonexistent/y: no such file or directory"},
		{name: "empty file", env: map[string]string{"K": empty}, wantErr: "K: file " + empty + " is empty"},
		{name: "directory path", env: map[string]string{"K": secretsDir}, wantErr: "K: reading secret file " + secretsDir + ": is a directory"},
		{name: "multi-line slash value", env: map[string]string{"K": "/SECRETLINE\nMORE"}, wantErr: "K: value starts with \"/\" but is not a file path (it spans several lines)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, src, err := r.Resolve("K", lookupOf(tt.env), tt.trim)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got.Reveal() != tt.want {
				t.Errorf("value = %q, want %q", got.Reveal(), tt.want)
			}
			if src.String() != tt.wantSrc {
				t.Errorf("source = %q, want %q", src, tt.wantSrc)
			}
		})
	}
}

func TestResolveMissingFileIsNotExist(t *testing.T) {
	_, _, err := Resolver{}.Resolve("K", lookupOf(map[string]string{"K": "/nonexistent"}), false)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v, want one wrapping fs.ErrNotExist", err)
	}
}

func TestResolveTooLarge(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(p, make([]byte, MaxSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := Resolver{}.Resolve("K", lookupOf(map[string]string{"K": p}), false)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("err = %v, want a size error", err)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	const canary = "CANARY-7f3a"
	s := New(canary)
	type holder struct {
		Name string
		Key  Secret
	}
	h := holder{"n", s}
	var logBuf strings.Builder
	logger := slog.New(slog.NewTextHandler(&logBuf, nil))
	logger.Info("x", "secret", s, "holder", h)
	jlog := slog.New(slog.NewJSONHandler(&logBuf, nil))
	jlog.Info("x", "secret", s, "holder", h)
	js, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	outputs := []string{
		fmt.Sprint(s), fmt.Sprintf("%s %v %+v %#v %q %x %X %d", s, s, s, s, s, s, s, s),
		fmt.Sprintf("%v %+v %#v", h, h, h), fmt.Sprint(&h), string(js), logBuf.String(),
		fmt.Errorf("wrapped %v: %w", s, errors.New("e")).Error(),
	}
	for _, out := range outputs {
		if strings.Contains(out, canary) {
			t.Errorf("secret printed: %s", out)
		}
		if !strings.Contains(out, Redacted) {
			t.Errorf("output %q does not show %s", out, Redacted)
		}
	}
	if s.Reveal() != canary || !s.IsSet() || New("").IsSet() {
		t.Error("Reveal/IsSet do not return the value")
	}
}

// FuzzResolve checks that whatever the variable holds, Resolve neither panics
// nor puts a secret file's content into an error, and returns either the
// value itself or a file's content.
func FuzzResolve(f *testing.F) {
	dir := t2dir(f)
	const content = "FILE-CONTENT-SECRET\n"
	if err := os.WriteFile(filepath.Join(dir, "alias"), []byte(content), 0o600); err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "alias", "/", "/etc/hostname", "..", "a\nb", "/x\n", filepath.Join(dir, "alias"), "-----BEGIN X-----\n"} {
		f.Add(s, "", true)
	}
	f.Add("", filepath.Join(dir, "alias"), false)
	r := Resolver{Dir: dir}
	f.Fuzz(func(t *testing.T, val, file string, trim bool) {
		env := map[string]string{"K": val, "K_FILE": file}
		got, _, err := r.Resolve("K", lookupOf(env), trim)
		if err != nil {
			if strings.Contains(err.Error(), "FILE-CONTENT-SECRET") {
				t.Fatalf("error shows file content: %v", err)
			}
			if strings.ContainsAny(val, "\n") && strings.Contains(err.Error(), val) {
				t.Fatalf("error shows a multi-line value: %v", err)
			}
			return
		}
		v := got.Reveal()
		ok := v == "" || v == val || v == strings.TrimSuffix(val, "\n") || v == strings.TrimSuffix(strings.TrimSuffix(val, "\n"), "\r")
		if !ok && (strings.HasPrefix(val, "/") || file != "" || val == "alias") {
			ok = true // read from a file
		}
		if !ok {
			t.Fatalf("Resolve(%q) = %q: neither the value nor a file", val, v)
		}
	})
}

func t2dir(f *testing.F) string {
	d, err := os.MkdirTemp("", "secrets-fuzz")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { os.RemoveAll(d) })
	return d
}
