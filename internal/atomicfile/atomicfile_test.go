package atomicfile

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

func TestIsTemp(t *testing.T) {
	for _, tt := range []struct {
		name string
		want bool
	}{
		{".rancher.toml.1234567890.tmp", true},
		{".rancher.toml.0.tmp", true},
		{".rancher.toml..tmp", false},        // no number
		{".rancher.toml.12a.tmp", false},     // not a number
		{".rancher.toml.-1.tmp", false},      // CreateTemp's numbers are unsigned
		{".rancher.toml.123.tmp.bak", false}, // someone's copy
		{"rancher.toml.123.tmp", false},      // not hidden
		{".rancher.toml.tmp", false},         // the e2e harness's own name
		{".tls.toml.123.tmp", false},         // another file's
		{".x.rancher.toml.123.tmp", false},   // another file's
		{".rancher.toml", false},
	} {
		if got := isTemp(tt.name, "rancher.toml"); got != tt.want {
			t.Errorf("isTemp(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestRemoveStaleAfterKill: a writer killed with SIGKILL in the middle of
// writes leaves its temporary file; RemoveStale removes exactly that, and
// nothing that is not Write's own.
func TestRemoveStaleAfterKill(t *testing.T) {
	if os.Getenv("ATOMICFILE_WRITER") != "" {
		writeForever(os.Getenv("ATOMICFILE_WRITER"), os.Getenv("ATOMICFILE_STAGE"))
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "rancher.toml")
	others := []string{".rancher.toml.tmp", ".rancher.toml.12a.tmp", ".tls.toml.123.tmp", ".rancher.toml.123.tmp.bak", "rancher.toml.123.tmp"}
	for _, n := range others {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("keep"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Not regular files: left alone even with our name.
	if err := os.Mkdir(filepath.Join(dir, ".rancher.toml.55.tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("rancher.toml", filepath.Join(dir, ".rancher.toml.66.tmp")); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(path, []byte("first"), 0o644); err != nil {
		t.Fatal(err)
	}
	known := append(others, ".rancher.toml.55.tmp", ".rancher.toml.66.tmp", "rancher.toml")
	stale := killWriter(t, path, "", known)
	removed, err := RemoveStale(path)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	if !slices.Equal(removed, stale) {
		t.Errorf("removed %v, want exactly what the killed writer left: %v", removed, stale)
	}
	for _, n := range known {
		if _, err := os.Lstat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s was removed: %v", n, err)
		}
	}
	if removed, err := RemoveStale(filepath.Join(dir, "missing", "a")); err != nil || len(removed) != 0 {
		t.Errorf("missing directory: %v %v", removed, err)
	}
}

// writeForever is the killed writer: large writes, back to back (staged
// in stage when not "").
func writeForever(path, stage string) {
	big := make([]byte, 4<<20)
	for i := 0; ; i++ {
		big[0] = byte(i)
		if _, err := WriteStaged(path, stage, big, 0o644); err != nil {
			os.Exit(3)
		}
	}
}

// killWriter runs writeForever in a child and kills it with SIGKILL while a
// file other than the known ones exists in its temporary files' directory
// (stage, or path's), until one is left behind (the kill can land after a
// rename). It returns the files left, sorted.
func killWriter(t *testing.T, path, stage string, known []string) []string {
	t.Helper()
	dir := filepath.Dir(path)
	if stage != "" {
		dir = stage
	}
	for attempt := 0; attempt < 50; attempt++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRemoveStaleAfterKill$")
		cmd.Env = append(os.Environ(), "ATOMICFILE_WRITER="+path, "ATOMICFILE_STAGE="+stage)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for len(unknown(t, dir, known)) == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if left := unknown(t, dir, known); len(left) > 0 {
			return left
		}
	}
	t.Fatal("no kill left a temporary file behind in 50 tries")
	return nil
}

// unknown lists the files in dir not named in known, sorted.
func unknown(t *testing.T, dir string, known []string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !slices.Contains(known, e.Name()) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

// TestRemoveStaleIn: the temporary files of every base name the caller owns
// go, whether the file itself exists or not (a killed first write); others
// stay.
func TestRemoveStaleIn(t *testing.T) {
	dir := t.TempDir()
	files := map[string]bool{ // name → removed
		".a.x.123.tmp":  true,  // a.x never written in full
		"..key.7.tmp":   true,  // the key file ".key"
		"a.x":           false, // the file itself
		".b.x.123.tmp":  false, // not ours
		".a.x.12a.tmp":  false, // not Write's form
		".a.x.tmp":      false,
		"a.x.123.tmp":   false,
		".a.x.123.tmpx": false,
	}
	for n := range files {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := RemoveStaleIn(dir, func(base string) bool { return base == "a.x" || base == ".key" })
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	want := []string{filepath.Join(dir, "..key.7.tmp"), filepath.Join(dir, ".a.x.123.tmp")}
	if !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	for n, gone := range files {
		if _, err := os.Stat(filepath.Join(dir, n)); (err != nil) != gone {
			t.Errorf("%s: removed=%v, want %v", n, err != nil, gone)
		}
	}
}

// TestSameContent compares a file with data a piece at a time: equal,
// a byte different at either end or past the first piece, and a file
// longer or shorter than data.
func TestSameContent(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 200<<10/16) // several 64 KB pieces
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 1
		return c
	}
	tests := []struct {
		name       string
		file, data []byte
		want       bool
	}{
		{"empty", nil, nil, true},
		{"small equal", []byte("routes"), []byte("routes"), true},
		{"large equal", big, bytes.Clone(big), true},
		{"first byte differs", big, flip(big, 0), false},
		{"a byte past the first piece differs", big, flip(big, 70<<10), false},
		{"last byte differs", big, flip(big, len(big)-1), false},
		{"file longer", append(bytes.Clone(big), 'x'), big, false},
		{"file shorter", big[:len(big)-1], big, false},
		{"file longer by a piece", append(bytes.Clone(big), big[:64<<10]...), big, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(path, tt.file, 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := sameContent(path, tt.data)
			if err != nil || got != tt.want {
				t.Errorf("sameContent = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
