package app

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"rancher-traefik/internal/supervisor"
)

// The test binary is also the trampoline and the child ("Traefik") of the
// Run tests: TestMain becomes one or the other before any test runs.
func TestMain(m *testing.M) {
	supervisor.Trampoline(os.Args)
	if started := os.Getenv("APP_TEST_CHILD"); started != "" {
		testChild(started)
		return
	}
	os.Exit(m.Run())
}

// testChild stands in for Traefik: it asks for the signals Traefik handles
// (SIGHUP last, the supervisor's sign that all are set), writes its args
// to the file started, and exits 0 on SIGTERM or SIGINT.
func testChild(started string) {
	c := make(chan os.Signal, 4)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
	signal.Notify(c, syscall.SIGHUP)
	if err := os.WriteFile(started, []byte(fmt.Sprint(os.Args[1:])), 0o644); err != nil {
		os.Exit(2)
	}
	for sig := range c {
		if sig != syscall.SIGHUP {
			os.Exit(0)
		}
	}
}
