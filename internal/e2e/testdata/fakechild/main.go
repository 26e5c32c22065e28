// Command fakechild stands in for Traefik where a test needs a child whose
// behaviour it controls. It reads FAKE_* variables (passed through
// TRAEFIK_CHILD_ENV):
//
//	FAKE_STARTED  append "<pid> <unix-nanos>" to this file on start
//	FAKE_SIGNALS  append the name of every signal received to this file
//	FAKE_SIGNAL_TIMES  append "<unix-nanos>" for every signal received
//	FAKE_EXIT     exit with this code after FAKE_AFTER (default at once)
//	FAKE_ON_TERM  exit:N (exit N on SIGTERM), ignore, or default (die by it)
//	FAKE_ORPHANS  start a process that starts this many children and exits
//	              at once, leaving them to be re-parented
//	FAKE_ENVIRON  write this process's /proc/self/environ to this file
package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "spawn" {
		spawn(os.Args[2])
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "sleep" {
		time.Sleep(50 * time.Millisecond)
		return
	}
	if f := os.Getenv("FAKE_ENVIRON"); f != "" {
		b, _ := os.ReadFile("/proc/self/environ")
		_ = os.WriteFile(f, b, 0o644)
	}
	if f := os.Getenv("FAKE_STARTED"); f != "" {
		appendLine(f, fmt.Sprintf("%d %d", os.Getpid(), time.Now().UnixNano()))
	}
	if n := os.Getenv("FAKE_ORPHANS"); n != "" {
		cmd := exec.Command("/proc/self/exe", "spawn", n)
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "fakechild: spawn:", err)
			os.Exit(3)
		}
	}
	onTerm := os.Getenv("FAKE_ON_TERM")
	sigs := make(chan os.Signal, 64)
	// In Traefik's order: SIGTERM (with SIGINT) first, SIGHUP last — the
	// supervisor forwards signals once SIGINT and SIGHUP are caught.
	if onTerm != "default" {
		signal.Notify(sigs, syscall.SIGTERM)
	}
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH, syscall.SIGCHLD, syscall.SIGHUP)
	if f := os.Getenv("FAKE_READY"); f != "" {
		appendLine(f, strconv.Itoa(os.Getpid()))
	}
	var exitC <-chan time.Time
	if code := os.Getenv("FAKE_EXIT"); code != "" {
		d, _ := time.ParseDuration(os.Getenv("FAKE_AFTER"))
		exitC = time.After(d)
	}
	for {
		select {
		case <-exitC:
			n, _ := strconv.Atoi(os.Getenv("FAKE_EXIT"))
			os.Exit(n)
		case s := <-sigs:
			if s == syscall.SIGCHLD {
				continue
			}
			if f := os.Getenv("FAKE_SIGNAL_TIMES"); f != "" {
				appendLine(f, strconv.FormatInt(time.Now().UnixNano(), 10))
			}
			if f := os.Getenv("FAKE_SIGNALS"); f != "" {
				appendLine(f, s.String())
			}
			if s == syscall.SIGTERM && strings.HasPrefix(onTerm, "exit:") {
				n, _ := strconv.Atoi(strings.TrimPrefix(onTerm, "exit:"))
				os.Exit(n)
			}
		}
	}
}

// spawn starts n children without waiting for them and returns, so they are
// re-parented to the nearest subreaper when they end.
func spawn(n string) {
	count, _ := strconv.Atoi(n)
	for range count {
		cmd := exec.Command("/proc/self/exe", "sleep")
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "fakechild: start:", err)
			os.Exit(3)
		}
	}
}

func appendLine(path, line string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}
