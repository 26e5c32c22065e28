package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.toml")

	steps := []struct {
		name        string
		data        string
		perm        os.FileMode
		wantChanged bool
	}{
		{"create", "one", 0o644, true},
		{"same content and mode", "one", 0o644, false},
		{"new content", "two", 0o644, true},
		{"same content new mode", "two", 0o600, true},
		{"same again", "two", 0o600, false},
		{"same length other bytes", "twO", 0o600, true},
	}
	for _, s := range steps {
		changed, err := Write(path, []byte(s.data), s.perm)
		if err != nil {
			t.Fatalf("%s: Write: %v", s.name, err)
		}
		if changed != s.wantChanged {
			t.Errorf("%s: changed = %v, want %v", s.name, changed, s.wantChanged)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != s.data {
			t.Errorf("%s: content = %q, want %q", s.name, got, s.data)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != s.perm {
			t.Errorf("%s: mode = %v, want %v", s.name, fi.Mode().Perm(), s.perm)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only a.toml (temporary files left behind?)", len(entries))
	}
}

func TestWriteUnchangedKeepsInode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a")
	if _, err := Write(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Unix(1000, 0)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.ModTime().Equal(old) {
		t.Errorf("unchanged write touched the file: mtime %v", fi.ModTime())
	}
}

func TestWriteReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a")
	if _, err := Write(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A reader holding the old file keeps the old content: the new one is a new inode.
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := Write(path, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	n, _ := f.Read(buf)
	if string(buf[:n]) != "old" {
		t.Errorf("open reader sees %q, want the old content (file rewritten in place?)", buf[:n])
	}
}

func TestWriteMissingDirectory(t *testing.T) {
	_, err := Write(filepath.Join(t.TempDir(), "nope", "a"), []byte("x"), 0o644)
	if err == nil {
		t.Fatal("Write into a missing directory succeeded")
	}
}
