package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"rancher-traefik/internal/config"
)

// writableProblems checks that every directory rancher-traefik (or Traefik,
// for acme/) writes under TRAEFIK_HOME can be written, leaving nothing
// behind: an existing directory gets a probe file, created and removed at
// once; a missing one is probed at its nearest existing parent, where
// prepare would create it. Each probed directory is named once.
func writableProblems(cfg *config.Config) []config.Problem {
	var problems []config.Problem
	probed := map[string]bool{}
	for _, dir := range []string{filepath.Dir(cfg.StaticFile()), cfg.DynamicDir(), cfg.CertsDir(), filepath.Dir(cfg.ACMEStorage())} {
		at, err := probeDir(dir)
		if probed[at] {
			continue
		}
		probed[at] = true
		switch {
		case err == nil:
		case at == filepath.Clean(dir):
			problems = append(problems, config.Problem{Var: "TRAEFIK_HOME", Msg: fmt.Sprintf("%s is not writable: %v", dir, err)})
		default:
			problems = append(problems, config.Problem{Var: "TRAEFIK_HOME", Msg: fmt.Sprintf("%s cannot be created under %s: %v", dir, at, err)})
		}
	}
	return problems
}

// probeDir finds the nearest existing directory at or above dir and tries
// to create (and remove) a file in it. It returns the directory probed.
func probeDir(dir string) (string, error) {
	at := filepath.Clean(dir)
	for {
		fi, err := os.Stat(at)
		switch {
		case err == nil && !fi.IsDir():
			return at, errors.New("not a directory")
		case err == nil:
			f, err := os.CreateTemp(at, ".rancher-traefik-check-*")
			if err != nil {
				var pe *fs.PathError
				if errors.As(err, &pe) {
					err = pe.Err // the probe's random name says nothing
				}
				return at, err
			}
			name := f.Name()
			f.Close()
			if err := os.Remove(name); err != nil {
				return at, fmt.Errorf("removing the probe file %s: %w", name, err)
			}
			return at, nil
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return at, err
		}
		parent := filepath.Dir(at)
		if parent == at {
			return at, err
		}
		at = parent
	}
}
