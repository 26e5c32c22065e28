package atomicfile

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// TestWriteStaged: the content and mode arrive, the stage is made 0700
// when missing, and no temporary file is left in either directory; where
// the stage is unusable the file is still written (beside, as Write).
func TestWriteStaged(t *testing.T) {
	for _, tt := range []struct {
		name    string
		prepare func(t *testing.T, stage string)
	}{
		{"stage missing", func(*testing.T, string) {}},
		{"stage exists", func(t *testing.T, stage string) { mkdir(t, stage) }},
		{"stage is a file", func(t *testing.T, stage string) {
			if err := os.WriteFile(stage, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			dir, stage := filepath.Join(base, "dynamic"), filepath.Join(base, ".staging")
			mkdir(t, dir)
			tt.prepare(t, stage)
			path := filepath.Join(dir, "rancher.toml")
			for _, step := range []struct {
				data        string
				perm        os.FileMode
				wantChanged bool
			}{{"one", 0o644, true}, {"one", 0o644, false}, {"two", 0o600, true}} {
				changed, err := WriteStaged(path, stage, []byte(step.data), step.perm)
				if err != nil {
					t.Fatal(err)
				}
				if changed != step.wantChanged {
					t.Errorf("%q: changed = %v, want %v", step.data, changed, step.wantChanged)
				}
				got, err := os.ReadFile(path)
				if err != nil || string(got) != step.data {
					t.Fatalf("content %q (%v), want %q", got, err, step.data)
				}
				if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != step.perm {
					t.Errorf("mode %v (%v), want %v", fi.Mode().Perm(), err, step.perm)
				}
			}
			if left := unknown(t, dir, []string{"rancher.toml"}); len(left) > 0 {
				t.Errorf("left in the directory: %v", left)
			}
			if fi, err := os.Stat(stage); err == nil && fi.IsDir() {
				if fi.Mode().Perm() != 0o700 && tt.name == "stage missing" {
					t.Errorf("stage made %v, want 0700", fi.Mode().Perm())
				}
				if left := unknown(t, stage, nil); len(left) > 0 {
					t.Errorf("left in the stage: %v", left)
				}
			}
		})
	}
}

// TestWriteStagedOtherFileSystem: a stage on another file system than the
// file (rename would fail with EXDEV) is not used; the write succeeds.
func TestWriteStagedOtherFileSystem(t *testing.T) {
	dir := t.TempDir()
	stage, err := os.MkdirTemp("/dev/shm", "atomicfile-stage-")
	if err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(stage) })
	var a, b syscall.Stat_t
	if syscall.Stat(dir, &a) != nil || syscall.Stat(stage, &b) != nil || a.Dev == b.Dev {
		t.Skip("/dev/shm and the test's temporary directory are one file system here")
	}
	path := filepath.Join(dir, "rancher.toml")
	if _, err := WriteStaged(path, stage, []byte("x"), 0o644); err != nil {
		t.Fatalf("WriteStaged across file systems: %v", err)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "x" {
		t.Errorf("content %q (%v)", got, err)
	}
	if left := unknown(t, stage, nil); len(left) > 0 {
		t.Errorf("left in the stage: %v", left)
	}
}

// TestWriteStagedOneEvent watches the file's directory with inotify, as
// Traefik's file provider does (fsnotify), and counts the events of one
// write: staged, the rename into the directory is the only one; beside
// (Write), the temporary file's creation, mode, writes and rename away
// come too — each a read of the whole directory by Traefik.
func TestWriteStagedOneEvent(t *testing.T) {
	for _, tt := range []struct {
		name   string
		write  func(path, stage string) error
		single bool
	}{
		{"staged", func(path, stage string) error { _, err := WriteStaged(path, stage, []byte("new"), 0o644); return err }, true},
		{"beside", func(path, _ string) error { _, err := Write(path, []byte("new"), 0o644); return err }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			dir, stage := filepath.Join(base, "dynamic"), filepath.Join(base, ".staging")
			mkdir(t, dir)
			mkdir(t, stage)
			path := filepath.Join(dir, "rancher.toml")
			if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			fd := watchDir(t, dir)
			if err := tt.write(path, stage); err != nil {
				t.Fatal(err)
			}
			events := readEvents(t, fd)
			want := []string{"IN_MOVED_TO rancher.toml"}
			if tt.single && !slices.Equal(events, want) {
				t.Errorf("events %v, want %v", events, want)
			}
			if !tt.single && len(events) <= 1 {
				t.Errorf("events %v: the temporary file beside made none of its own (does the test see events?)", events)
			}
		})
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// watchDir returns a non-blocking inotify descriptor watching dir for what
// fsnotify reports (create, write, remove, rename, chmod).
func watchDir(t *testing.T, dir string) int {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		t.Skipf("inotify: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	mask := uint32(syscall.IN_CREATE | syscall.IN_MODIFY | syscall.IN_ATTRIB | syscall.IN_MOVED_FROM | syscall.IN_MOVED_TO | syscall.IN_DELETE)
	if _, err := syscall.InotifyAddWatch(fd, dir, mask); err != nil {
		t.Fatal(err)
	}
	return fd
}

// readEvents reads the events queued on fd (the write has returned: its
// events are queued), as "MASK name", temporary names as "tmp".
func readEvents(t *testing.T, fd int) []string {
	t.Helper()
	buf := make([]byte, 64<<10)
	n, err := syscall.Read(fd, buf)
	if err == syscall.EAGAIN {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	names := map[uint32]string{syscall.IN_CREATE: "IN_CREATE", syscall.IN_MODIFY: "IN_MODIFY", syscall.IN_ATTRIB: "IN_ATTRIB",
		syscall.IN_MOVED_FROM: "IN_MOVED_FROM", syscall.IN_MOVED_TO: "IN_MOVED_TO", syscall.IN_DELETE: "IN_DELETE"}
	var out []string
	for off := 0; off+syscall.SizeofInotifyEvent <= n; {
		var ev syscall.InotifyEvent
		if err := binary.Read(bytes.NewReader(buf[off:off+syscall.SizeofInotifyEvent]), binary.NativeEndian, &ev); err != nil {
			t.Fatal(err)
		}
		name := string(bytes.TrimRight(buf[off+syscall.SizeofInotifyEvent:off+syscall.SizeofInotifyEvent+int(ev.Len)], "\x00"))
		if isTemp(name, "rancher.toml") {
			name = "tmp"
		}
		out = append(out, names[ev.Mask&^syscall.IN_ISDIR]+" "+name)
		off += syscall.SizeofInotifyEvent + int(ev.Len)
	}
	return out
}

// TestRemoveStaleInStageAfterKill: a staged writer killed with SIGKILL
// leaves its temporary file in the stage, nothing in the watched
// directory; RemoveStaleIn on the stage removes exactly it.
func TestRemoveStaleInStageAfterKill(t *testing.T) {
	base := t.TempDir()
	dir, stage := filepath.Join(base, "dynamic"), filepath.Join(base, ".staging")
	mkdir(t, dir)
	path := filepath.Join(dir, "rancher.toml")
	if _, err := WriteStaged(path, stage, []byte("first"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stage, ".other.toml.1.tmp"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	stale := killWriter(t, path, stage, []string{".other.toml.1.tmp"})
	if left := unknown(t, dir, []string{"rancher.toml"}); len(left) > 0 {
		t.Errorf("the killed staged writer left %v in the watched directory", left)
	}
	removed, err := RemoveStaleIn(stage, func(b string) bool { return b == "rancher.toml" })
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	if !slices.Equal(removed, stale) {
		t.Errorf("removed %v, want exactly what the killed writer left: %v", removed, stale)
	}
	if _, err := os.Stat(filepath.Join(stage, ".other.toml.1.tmp")); err != nil {
		t.Errorf("another file's temporary file was removed: %v", err)
	}
}
