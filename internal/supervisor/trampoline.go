package supervisor

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"rancher-traefik/internal/handover"
)

// TrampolineArg, as argv[1], makes rancher-traefik the trampoline: the
// process the supervisor forks, which sets SIGHUP and SIGINT to ignored and
// execs Traefik in its place (same pid). See Trampoline.
const TrampolineArg = "__exec-traefik"

// trampolineFD is the descriptor on which the trampoline reports a failed
// exec: the first after the sockets handed to Traefik (LISTEN_FDS of them,
// from fd 3, as socket activation wants them), fd 3 without any. It is
// close-on-exec, so a successful exec closes it without a byte.
func trampolineFD(env func(string) string) int {
	n, err := strconv.Atoi(env("LISTEN_FDS"))
	if err != nil || n < 0 {
		return listenFDsStart
	}
	return listenFDsStart + n
}

// listenFDsStart is SD_LISTEN_FDS_START: socket activation's first fd.
const listenFDsStart = 3

// ignoredAtExec are the signals Traefik starts with ignored. Why: a Go
// program's runtime catches every signal from its first instant (its
// SigCgt mask is full before main runs), and dies of SIGHUP, SIGINT or
// SIGTERM until the program asks for them with signal.Notify — Traefik does
// so some 20-100 ms after exec. /proc's SigCgt therefore cannot tell when
// Traefik has set its handlers, except for these two: the runtime keeps an
// inherited SIG_IGN for SIGHUP and SIGINT (os/signal: "If the program was
// started with SIGHUP or SIGINT ignored ... they will remain ignored") until
// signal.Notify installs its handler, which sets the signal's bit in SigCgt.
// Traefik asks for SIGINT together with SIGTERM first thing in its run
// command, and for SIGHUP later, when its file provider starts: both bits
// set means every handler is in place (see readiness.go). A signal that
// reaches Traefik before then is harmless for these two (ignored), and held
// for the others.
var ignoredAtExec = []os.Signal{syscall.SIGHUP, syscall.SIGINT}

// Trampoline is the first thing rancher-traefik's main does. When args are
// a trampoline's ([_, TrampolineArg, path, args...]) it never returns: it
// execs path with SIGHUP and SIGINT ignored, or reports why it could not on
// trampolineFD and exits 127 (not found) or 126 (not executable), the
// shell's codes. Otherwise it returns at once.
//
// A trampoline rather than setting the dispositions around fork: a signal
// disposition is process-wide, so ignoring SIGINT in the supervisor while it
// forks would drop a Ctrl-C arriving then, and Go offers no hook between
// fork and exec.
func Trampoline(args []string) {
	if len(args) < 3 || args[1] != TrampolineArg {
		return
	}
	signal.Ignore(ignoredAtExec...)
	fd := trampolineFD(os.Getenv)
	syscall.CloseOnExec(fd)
	env := os.Environ()
	if os.Getenv("LISTEN_FDS") != "" {
		// Socket activation (sd_listen_fds(3), go-systemd's
		// activation.Files, which Traefik reads) takes the descriptors only
		// when LISTEN_PID is the process's own pid: known only now, and
		// kept by the exec.
		env = append(env, "LISTEN_PID="+strconv.Itoa(os.Getpid()))
	}
	err := syscall.Exec(args[2], args[2:], env)
	kind, code := "not-startable", 126
	if errors.Is(err, fs.ErrNotExist) {
		kind, code = "not-found", 127
	}
	report := os.NewFile(uintptr(fd), "exec-status")
	fmt.Fprintf(report, "%s %s: %v", kind, args[2], err)
	os.Exit(code)
}

// command builds the child's command: through the trampoline when one is
// set, with the pipe on which it reports a failed exec (nil without one),
// and the sockets of gen (nil: none) from fd 3, with their socket
// activation environment. The pipe's write end is the last ExtraFiles.
func (s *Supervisor) command(gen *handover.Generation) (*exec.Cmd, *os.File, error) {
	env := withoutActivation(s.opts.Env)
	if s.opts.Trampoline == "" {
		cmd := exec.Command(s.opts.Path, s.opts.Args...)
		cmd.Env = env
		return cmd, nil, nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: exec-status pipe: %w", ErrNotStartable, err)
	}
	cmd := exec.Command(s.opts.Trampoline, append([]string{TrampolineArg, s.opts.Path}, s.opts.Args...)...)
	if gen != nil {
		cmd.ExtraFiles = gen.Files()
		env = append(env, gen.Env()...)
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, w)
	cmd.Env = env
	return cmd, r, nil
}

// withoutActivation is env without socket activation variables: only the
// sockets the supervisor hands over are Traefik's.
func withoutActivation(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if k != "LISTEN_FDS" && k != "LISTEN_FDNAMES" && k != "LISTEN_PID" {
			out = append(out, kv)
		}
	}
	return out
}

// execTimeout bounds the wait for the trampoline's exec. It takes a few
// milliseconds (the runtime's start); a stuck one is reported and then
// supervised as it is.
const execTimeout = 10 * time.Second

// awaitExec waits until the trampoline has exec'd Traefik: status closes
// without a byte. Bytes are its report of a failed exec, returned as
// ErrNotFound or ErrNotStartable.
func awaitExec(status *os.File) error {
	defer status.Close()
	_ = status.SetReadDeadline(time.Now().Add(execTimeout))
	b, err := io.ReadAll(io.LimitReader(status, 4096))
	if err != nil {
		return fmt.Errorf("waiting for traefik's exec: %w", err)
	}
	if len(b) == 0 {
		return nil
	}
	kind, msg, _ := strings.Cut(string(b), " ")
	if kind == "not-found" {
		return fmt.Errorf("%w: %s", ErrNotFound, msg)
	}
	return fmt.Errorf("%w: %s", ErrNotStartable, msg)
}
