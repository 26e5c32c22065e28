package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"rancher-traefik/internal/metadataserver"
	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/routes"
	"rancher-traefik/internal/testlog"
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

// TestUndeliveredWhenNotWritten: with a Deliver (REST delivery) the
// configuration is handed over before it is written; when the write then
// fails, Deliver is handed the durable copy again — the last routes
// written, or none when nothing was — so that what Traefik serves is what
// a restart would serve. The write fails for real: the routes file's name
// is as long as a name may be, and its temporary file's, longer.
func TestUndeliveredWhenNotWritten(t *testing.T) {
	for _, tt := range []struct {
		name       string
		first      int // services in the routes file left before; 0: no file
		wantRouted int // routers handed over last
	}{
		{"a file written before", 2, 2},
		{"nothing written yet", 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			long := filepath.Join(dir, strings.Repeat("r", 250)+".toml") // 255 bytes: its temporary file's name is too long
			if tt.first > 0 {
				writeRoutesFile(t, long, services(tt.first))
			}
			var handed []int // routers in each configuration handed to Deliver
			p := &Publisher{Options: routes.Options{Domain: "example.com"}, Path: long,
				Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
				Deliver: func(body []byte) error {
					http, _ := deliveredTree(t, body)["http"].(map[string]any)
					rs, _ := http["routers"].(map[string]any)
					handed = append(handed, len(rs))
					return nil
				}}
			before, _ := os.ReadFile(long)
			err := p.publish(&rancher.Snapshot{Version: "2", Services: services(3)})
			if !errors.Is(err, syscall.ENAMETOOLONG) {
				t.Fatalf("publish: %v, want the write's ENAMETOOLONG", err)
			}
			if after, _ := os.ReadFile(long); string(after) != string(before) {
				t.Error("the routes file changed though the write failed")
			}
			if len(handed) != 2 || handed[0] != 3 {
				t.Fatalf("handed over %v: want the new configuration (3 routers) before the write, then the durable copy", handed)
			}
			if handed[1] != tt.wantRouted {
				t.Errorf("handed over %v: want the durable copy (%d routers) handed back after the failed write", handed, tt.wantRouted)
			}
		})
	}
}

// writeRoutesFile writes to path the routes file a publish of svcs
// writes (as an earlier run would have left it).
func writeRoutesFile(t *testing.T, path string, svcs []rancher.Service) {
	t.Helper()
	p := &Publisher{Options: routes.Options{Domain: "example.com"}, Path: filepath.Join(t.TempDir(), "rancher.toml"),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := p.publish(&rancher.Snapshot{Version: "1", Services: svcs}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p.Path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestFailureLogSaysWhatFailed: a refresh that failed after Rancher
// answered (the routes not written or delivered) is not reported as
// Rancher not answering.
func TestFailureLogSaysWhatFailed(t *testing.T) {
	for _, tt := range []struct {
		err       error
		want, not string
	}{
		{publishError{errors.New("writing rancher.toml: no space left on device")}, "the routes could not be published; keeping the last good routes", "Rancher"},
		{errors.New("dial tcp: connection refused"), "Rancher is not answering; keeping the last good routes", "published"},
	} {
		logs := &testlog.Buffer{}
		log := slog.New(slog.NewTextHandler(logs, nil))
		logFailure(log, 1, tt.err) // the first is retried quietly (debug)
		logFailure(log, 2, tt.err)
		if out := logs.String(); !strings.Contains(out, tt.want) || strings.Contains(out, tt.not) {
			t.Errorf("%v: logged %q, want %q and no %q", tt.err, out, tt.want, tt.not)
		}
	}
}
