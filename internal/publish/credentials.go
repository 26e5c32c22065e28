package publish

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"rancher-traefik/internal/atomicfile"
	"rancher-traefik/internal/routes"
)

// writeCredentials writes the credential files a configuration names
// (0600, atomically, only when changed) into dir, before that configuration
// is published: Traefik must find them when it reads it. A file outside dir
// is refused. It reports whether a file changed.
func writeCredentials(dir string, creds routes.Credentials) (bool, error) {
	if len(creds) == 0 {
		return false, nil
	}
	if dir == "" {
		return false, errors.New("credential files but no directory for them")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("credential directory: %w", err)
	}
	paths := make([]string, 0, len(creds))
	for p := range creds {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	changed := false
	for _, p := range paths {
		if filepath.Dir(p) != filepath.Clean(dir) || !routes.CredentialFileName(filepath.Base(p)) {
			return false, fmt.Errorf("credential file %s is not one of %s", p, dir)
		}
		c, err := atomicfile.Write(p, []byte(creds[p].Reveal()), 0o600)
		if err != nil {
			return false, fmt.Errorf("writing credential file: %w", err) // names the path, never the content
		}
		changed = changed || c
	}
	return changed, nil
}

// removeStaleCredentials removes the files of the credential directory the
// published configuration no longer names; a failure is logged (the files
// are removed at the next change).
func (p *Publisher) removeStaleCredentials(creds routes.Credentials) {
	n, err := removeStaleCredentials(p.Options.CredentialDir, creds)
	if err != nil {
		p.log().Warn("could not remove credential files no longer used", "err", err)
	}
	if n > 0 {
		p.log().Debug("credential files removed", "count", n)
	}
}

// removeStaleCredentials removes the credential files of dir that creds no
// longer names, once the configuration naming creds is published. Only
// names of the credential form are touched.
func removeStaleCredentials(dir string, creds routes.Credentials) (removed int, err error) {
	if dir == "" {
		return 0, nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("credential directory: %w", err)
	}
	var errs []error
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if !e.Type().IsRegular() || !routes.CredentialFileName(e.Name()) {
			continue
		}
		if _, ok := creds[p]; ok {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}
