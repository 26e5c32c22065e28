package publish

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"rancher-traefik/internal/metadataserver"
)

// TestPublishStagesOutsideTheWatchedDirectory: with Stage set, the only
// event a publish makes in the routes file's directory (what Traefik's file
// provider watches) is the rename of rancher.toml into it; the stage is
// left empty.
func TestPublishStagesOutsideTheWatchedDirectory(t *testing.T) {
	srv, p, _ := setup(t, 0, 0)
	base := t.TempDir()
	dir := filepath.Join(base, "dynamic")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p.Path, p.Stage = filepath.Join(dir, "rancher.toml"), filepath.Join(base, ".staging")
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		t.Skipf("inotify: %v", err)
	}
	defer syscall.Close(fd)
	if _, err := syscall.InotifyAddWatch(fd, dir, syscall.IN_CREATE|syscall.IN_MODIFY|syscall.IN_ATTRIB|syscall.IN_MOVED_FROM|syscall.IN_MOVED_TO|syscall.IN_DELETE); err != nil {
		t.Fatal(err)
	}
	p.First(context.Background(), 5*time.Second)
	checkOnlyRename(t, fd, "the first publish")
	a, err := metadataserver.Parse([]byte(stack(5)))
	if err != nil {
		t.Fatal(err)
	}
	srv.Set(a)
	run(t, p)
	wait(t, "the fifth service published", func() bool { return routersIn(t, p.Path) == 5 })
	checkOnlyRename(t, fd, "the change")
	if left, _ := os.ReadDir(p.Stage); len(left) != 0 {
		t.Errorf("the stage holds %d files after the writes", len(left))
	}
	if fi, err := os.Stat(p.Path); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("rancher.toml has mode %v, want 0600 (label values with no file form are in it)", fi.Mode().Perm())
	}
}

// checkOnlyRename reads the events queued on fd (the kernel merges equal
// events in a row, so a write is one) and wants exactly one: rancher.toml
// renamed into the directory.
func checkOnlyRename(t *testing.T, fd int, what string) {
	t.Helper()
	buf := make([]byte, 64<<10)
	n, err := syscall.Read(fd, buf)
	if err != nil {
		t.Fatalf("%s: no event: %v", what, err)
	}
	var events []string
	for off := 0; off+syscall.SizeofInotifyEvent <= n; {
		ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
		name := strings.TrimRight(string(buf[off+syscall.SizeofInotifyEvent:off+syscall.SizeofInotifyEvent+int(ev.Len)]), "\x00")
		events = append(events, fmt.Sprintf("%#x %s", ev.Mask, name))
		off += syscall.SizeofInotifyEvent + int(ev.Len)
	}
	if want := fmt.Sprintf("%#x rancher.toml", syscall.IN_MOVED_TO); len(events) != 1 || events[0] != want {
		t.Errorf("%s: events in the watched directory %v, want only %q", what, events, want)
	}
}
