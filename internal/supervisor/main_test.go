package supervisor

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary is also the trampoline and the child of these tests:
// TestMain becomes one or the other before any test runs.
func TestMain(m *testing.M) {
	Trampoline(os.Args)
	if mode := os.Getenv("SUPERVISOR_TEST_CHILD"); strings.HasPrefix(mode, "serve:") {
		serveChild(mode)
		return
	}
	if mode := os.Getenv("SUPERVISOR_TEST_CHILD"); mode != "" {
		testChild(mode)
		return
	}
	os.Exit(m.Run())
}

// testChild stands in for Traefik, setting its handlers as late as it does:
//
//	late:D  sleep D, then ask for SIGINT+SIGTERM, then SIGUSR1, SIGUSR2 and
//	        SIGHUP (Traefik's order); record every signal in
//	        $SUPERVISOR_TEST_RECORD; exit 0 on SIGTERM or SIGINT, once it
//	        has recorded $SUPERVISOR_TEST_EXPECT signals if that is set
//	        (signals sent together reach a Go program's threads
//	        concurrently, so a stop may be read before a signal sent ahead
//	        of it: neither the kernel nor the runtime orders them)
//	nohup:D the same without SIGHUP (a Traefik without a file provider)
//	never   never ask for any signal (the runtime's defaults apply)
//
// Each first writes its pid to the FIFO $SUPERVISOR_TEST_PIDS, if set.
func testChild(mode string) {
	if fifo := os.Getenv("SUPERVISOR_TEST_PIDS"); fifo != "" {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testChild:", err)
			os.Exit(2)
		}
		fmt.Fprintln(f, os.Getpid())
		f.Close()
	}
	rec := os.Getenv("SUPERVISOR_TEST_RECORD")
	if mode == "never" {
		time.Sleep(time.Minute)
		os.Exit(3)
	}
	kind, after, _ := strings.Cut(mode, ":")
	d, err := time.ParseDuration(after)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testChild:", err)
		os.Exit(2)
	}
	time.Sleep(d)
	c := make(chan os.Signal, 16)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
	// SIGHUP last, as Traefik: its handler is the sign that all are set.
	signal.Notify(c, syscall.SIGUSR1, syscall.SIGUSR2)
	if kind != "nohup" {
		signal.Notify(c, syscall.SIGHUP)
	}
	expect, _ := strconv.Atoi(os.Getenv("SUPERVISOR_TEST_EXPECT"))
	stopping, seen := false, 0
	for sig := range c {
		seen++
		if rec != "" {
			f, err := os.OpenFile(rec, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
			if err == nil {
				fmt.Fprintln(f, sig.(syscall.Signal).String())
				f.Close()
			}
		}
		stopping = stopping || sig == syscall.SIGTERM || sig == syscall.SIGINT
		if stopping && seen >= expect {
			os.Exit(0)
		}
	}
}
