// Package secrets resolves secret-bearing environment variables (a VAR_FILE, a
// file path, a Rancher secret alias or the value itself) into a Secret, a type
// that never prints its value.
package secrets

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Redacted is what a Secret prints in place of its value.
const Redacted = "[redacted]"

// MaxSize bounds how much of a secret file is read.
const MaxSize = 1 << 20

// Secret holds a sensitive value. Every way of printing it (fmt verbs, slog,
// text and JSON marshalling) shows Redacted; Reveal is the only way out.
type Secret struct {
	v string
}

// New wraps v.
func New(v string) Secret { return Secret{v: v} }

// Reveal returns the value. Call it only where the value is used, never to log.
func (s Secret) Reveal() string { return s.v }

// IsSet reports whether the secret holds a non-empty value.
func (s Secret) IsSet() bool { return s.v != "" }

// String returns Redacted.
func (s Secret) String() string { return Redacted }

// GoString returns Redacted, so %#v of a struct holding a Secret is safe.
func (s Secret) GoString() string { return Redacted }

// Format prints Redacted for every verb (%x and %d included).
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, Redacted) }

// LogValue returns Redacted.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalText returns Redacted, which also covers encoding/json.
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// Source says where a resolved secret came from; its String is safe to log.
type Source struct {
	Kind SourceKind
	Path string // the file read, for SourceFile and SourceAlias
	Via  string // the NAME_FILE variable that named it, if any
}

// SourceKind is how a secret was given.
type SourceKind int

// Kinds of source.
const (
	SourceUnset SourceKind = iota
	SourceValue            // the variable's value itself
	SourceFile             // a file path (or NAME_FILE)
	SourceAlias            // a Rancher secret alias in the secrets directory
)

func (s Source) String() string {
	switch s.Kind {
	case SourceValue:
		return "value"
	case SourceFile:
		if s.Via != "" {
			return "file " + s.Path + " (from " + s.Via + ")"
		}
		return "file " + s.Path
	case SourceAlias:
		return "secret " + s.Path
	}
	return "unset"
}

// Resolver resolves secret variables. Dir is the Rancher secrets directory
// (normally /run/secrets).
type Resolver struct {
	Dir string
	// ReadFile reads a secret file; nil means os.ReadFile with a MaxSize bound.
	ReadFile func(path string) ([]byte, error)
}

// Resolve finds the value of the secret variable name, looked up through
// lookup, in this order: name_FILE names a file (an error if name is also
// set); a value starting with "/" is a file path; a value that names an
// existing file in r.Dir is that Rancher secret alias; otherwise the value
// itself. When trim is true one trailing newline is removed (scalar secrets
// such as API keys). Errors name the variable and the path, never the value.
func (r Resolver) Resolve(name string, lookup func(string) (string, bool), trim bool) (Secret, Source, error) {
	val, _ := lookup(name)
	fileVar := name + "_FILE"
	path, _ := lookup(fileVar)
	var (
		data []byte
		src  Source
		err  error
	)
	switch {
	case val != "" && path != "":
		return Secret{}, Source{}, &VarError{Var: name, Err: fmt.Errorf("%s is also set: set only one of them", fileVar)}
	case path != "":
		data, err = r.read(path)
		if err != nil {
			return Secret{}, Source{}, &VarError{Var: fileVar, Err: err}
		}
		src = Source{Kind: SourceFile, Path: path, Via: fileVar}
	case val == "":
		return Secret{}, Source{}, nil
	case strings.HasPrefix(val, "/"):
		if strings.ContainsAny(val, "\n\r") {
			// A multi-line value starting with "/" is no path; never echo it.
			return Secret{}, Source{}, &VarError{Var: name, Err: errors.New("value starts with \"/\" but is not a file path (it spans several lines)")}
		}
		data, err = r.read(val)
		if err != nil {
			return Secret{}, Source{}, &VarError{Var: name, Err: err}
		}
		src = Source{Kind: SourceFile, Path: val}
	default:
		if alias, ok := r.alias(val); ok {
			data, err = r.read(alias)
			if err != nil {
				return Secret{}, Source{}, &VarError{Var: name, Err: err}
			}
			src = Source{Kind: SourceAlias, Path: alias}
		} else {
			data, src = []byte(val), Source{Kind: SourceValue}
		}
	}
	s := string(data)
	if trim {
		s = strings.TrimSuffix(s, "\n")
		s = strings.TrimSuffix(s, "\r")
	}
	if s == "" {
		return Secret{}, Source{}, &VarError{Var: name, Err: fmt.Errorf("%s is empty", src)}
	}
	return Secret{v: s}, src, nil
}

// VarError is a failure to resolve one variable. Its message names the
// variable and, where one is involved, the file; never the value.
type VarError struct {
	Var string
	Err error
}

func (e *VarError) Error() string { return e.Var + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *VarError) Unwrap() error { return e.Err }

// alias reports whether v names a regular file in r.Dir, and its path.
func (r Resolver) alias(v string) (string, bool) {
	if r.Dir == "" || len(v) > 255 || v == "." || v == ".." || strings.ContainsAny(v, "/\x00\n\r") {
		return "", false
	}
	p := filepath.Join(r.Dir, v)
	fi, err := os.Stat(p)
	if err != nil || fi.IsDir() {
		return "", false
	}
	return p, true
}

func (r Resolver) read(path string) ([]byte, error) {
	if r.ReadFile != nil {
		b, err := r.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading secret file %s: %w", path, unwrapPath(err))
		}
		return b, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading secret file %s: %w", path, unwrapPath(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading secret file %s: %w", path, unwrapPath(err))
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("secret file %s is larger than %d bytes", path, MaxSize)
	}
	return b, nil
}

// unwrapPath drops the path from a *fs.PathError (it is already in the message)
// while keeping the error chain for errors.Is.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
