// Package atomicfile writes files the only safe way for files other processes
// watch: a temporary file on the same file system, fsync, rename, and
// nothing at all when the content and mode are already what is asked for.
package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Write makes path hold data with permission perm. It reports whether the file
// changed. The temporary file is named ".<base>.<random>.tmp" so that a
// directory watcher that only reads .toml/.yaml files never sees it.
func Write(path string, data []byte, perm fs.FileMode) (changed bool, err error) {
	if same, err := unchanged(path, data, perm); err != nil || same {
		return false, err
	}
	return true, replace(path, dirOf(path), data, perm)
}

// WriteStaged is Write with the temporary file made in stage, a directory
// outside path's own (created 0700 when missing), for a file whose
// directory is watched. Traefik's file provider reads the whole directory
// again on every event in it: a temporary file beside path costs one read
// for its creation, one for its mode, one per write and one for the rename
// (and the first of them starts Traefik's throttle, which then holds back
// the read of the new content); staged, the rename is the one event.
// Where stage cannot be made, or is on another file system than path (a
// volume mounted on path's directory: rename(2) would fail with EXDEV),
// the temporary file goes beside path as Write does. The temporary files
// a killed write leaves in stage are RemoveStaleIn(stage, ...)'s to remove.
func WriteStaged(path, stage string, data []byte, perm fs.FileMode) (changed bool, err error) {
	if same, err := unchanged(path, data, perm); err != nil || same {
		return false, err
	}
	if stage == "" || !usableStage(stage, dirOf(path)) {
		return true, replace(path, dirOf(path), data, perm)
	}
	err = replace(path, stage, data, perm)
	if errors.Is(err, syscall.EXDEV) {
		err = replace(path, dirOf(path), data, perm)
	}
	return true, err
}

// usableStage makes stage when missing and reports whether it is a
// directory on dir's file system.
func usableStage(stage, dir string) bool {
	if err := os.MkdirAll(stage, 0o700); err != nil {
		return false
	}
	var s, d syscall.Stat_t
	if syscall.Stat(stage, &s) != nil || syscall.Stat(dir, &d) != nil {
		return false
	}
	return s.Mode&syscall.S_IFMT == syscall.S_IFDIR && s.Dev == d.Dev
}

func dirOf(path string) string {
	dir := filepath.Dir(path)
	if dir == "" {
		return "."
	}
	return dir
}

// replace writes data to a temporary file in tmpDir, syncs it and renames
// it to path.
func replace(path, tmpDir string, data []byte, perm fs.FileMode) (err error) {
	tmp, err := os.CreateTemp(tmpDir, tempPrefix(filepath.Base(path))+"*"+tempSuffix)
	if err != nil {
		return fmt.Errorf("creating temporary file for %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("setting mode of %s: %w", tmpName, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", tmpName, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", tmpName, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmpName, err)
	}
	if err = os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", tmpName, path, err)
	}
	syncDir(dirOf(path))
	return nil
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
	same, err := sameContent(path, data)
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", path, err)
	}
	return same, nil
}

// sameContent reports whether the file at path holds data, reading it a
// piece at a time: a large routes file is not held a second time beside
// its new content.
func sameContent(path string, data []byte) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, min(len(data)+1, 64<<10)) // +1: a file grown since is seen
	for {
		n, err := io.ReadFull(f, buf)
		if n > len(data) || !bytes.Equal(buf[:n], data[:n]) {
			return false, nil
		}
		data = data[n:]
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return len(data) == 0, nil
		case err != nil:
			return false, err
		}
	}
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
