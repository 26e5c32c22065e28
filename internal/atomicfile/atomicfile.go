// Package atomicfile writes files the only safe way for files other processes
// watch: a temporary file in the same directory, fsync, rename, and nothing at
// all when the content and mode are already what is asked for.
package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Write makes path hold data with permission perm. It reports whether the file
// changed. The temporary file is named ".<base>.<random>.tmp" so that a
// directory watcher that only reads .toml/.yaml files never sees it.
func Write(path string, data []byte, perm fs.FileMode) (changed bool, err error) {
	if same, err := unchanged(path, data, perm); err != nil {
		return false, err
	} else if same {
		return false, nil
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, tempPrefix(base)+"*"+tempSuffix)
	if err != nil {
		return false, fmt.Errorf("creating temporary file for %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return false, fmt.Errorf("setting mode of %s: %w", tmpName, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return false, fmt.Errorf("writing %s: %w", tmpName, err)
	}
	if err = tmp.Sync(); err != nil {
		return false, fmt.Errorf("syncing %s: %w", tmpName, err)
	}
	if err = tmp.Close(); err != nil {
		return false, fmt.Errorf("closing %s: %w", tmpName, err)
	}
	if err = os.Rename(tmpName, path); err != nil {
		return false, fmt.Errorf("renaming %s to %s: %w", tmpName, path, err)
	}
	syncDir(dir)
	return true, nil
}

// unchanged reports whether path already holds data with mode perm.
func unchanged(path string, data []byte, perm fs.FileMode) (bool, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("inspecting %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != perm.Perm() || fi.Size() != int64(len(data)) {
		return false, nil
	}
	old, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", path, err)
	}
	return bytes.Equal(old, data), nil
}

// syncDir makes the rename durable. Failing to sync a directory is not worth
// failing the write for (some filesystems refuse it), so errors are dropped.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// The temporary file of base is tempPrefix(base) + decimal digits +
// tempSuffix: os.CreateTemp puts a random unsigned number where the pattern
// has its "*".
const tempSuffix = ".tmp"

func tempPrefix(base string) string { return "." + base + "." }

// isTemp reports whether name is a temporary file Write makes for base.
func isTemp(name, base string) bool {
	digits, ok := strings.CutPrefix(name, tempPrefix(base))
	if !ok {
		return false
	}
	digits, ok = strings.CutSuffix(digits, tempSuffix)
	if !ok || digits == "" {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// RemoveStale removes the temporary files a Write of path left behind when
// its process was killed between creating and renaming them (kill -9, OOM,
// power loss). Only names Write itself makes for path are touched — a
// regular file ".<base>.<digits>.tmp" beside it — so a file of anyone else
// stays. Call it before any Write of path starts: a temporary file of a
// write in progress looks the same. It returns the paths removed; a
// missing directory is not an error.
func RemoveStale(path string) ([]string, error) {
	dir, base := filepath.Split(path)
	return RemoveStaleIn(dir, func(b string) bool { return b == base })
}

// RemoveStaleIn is RemoveStale for every file of dir whose base name own
// accepts, whether that file exists or not (a killed first write leaves
// only its temporary file).
func RemoveStaleIn(dir string, own func(base string) bool) ([]string, error) {
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	var removed []string
	for _, e := range entries {
		base, ok := tempBase(e.Name())
		if !e.Type().IsRegular() || !ok || !own(base) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("removing the stale temporary file %s: %w", p, err)
		}
		removed = append(removed, p)
	}
	return removed, nil
}

// tempBase returns the base name a temporary file of Write's is for.
func tempBase(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, ".")
	if !ok {
		return "", false
	}
	rest, ok = strings.CutSuffix(rest, tempSuffix)
	if !ok {
		return "", false
	}
	i := strings.LastIndexByte(rest, '.')
	if i <= 0 {
		return "", false
	}
	base := rest[:i]
	return base, isTemp(name, base)
}
