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
	for _, dir := range writtenDirs(cfg) {
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

// writtenDirs are the directories run writes in: render's (traefik.toml's,
// the dynamic files', the certificates', acme/), the credential key's and
// the label credentials' when Rancher is read, and the pairs of Rancher's
// certificate store when some are served. (The staging directory is left
// out: a write falls back to the target's directory when it is unusable.)
func writtenDirs(cfg *config.Config) []string {
	dirs := []string{filepath.Dir(cfg.StaticFile()), cfg.DynamicDir(), cfg.CertsDir(), filepath.Dir(cfg.ACMEStorage())}
	if cfg.RancherMode != "off" {
		dirs = append(dirs, cfg.CredentialsDir())
	}
	if !cfg.RancherCertificates.None() {
		dirs = append(dirs, storeCertsDir(cfg))
	}
	return dirs
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
