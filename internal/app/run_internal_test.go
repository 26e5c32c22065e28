package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runEnv is the environment of a Run test: a home and secrets directory of
// its own, the test binary as TRAEFIK_BINARY (see TestMain), which writes
// the file started when it runs.
func runEnv(t *testing.T) (vars map[string]string, started string) {
	dir := t.TempDir()
	started = filepath.Join(dir, "started")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"TRAEFIK_HOME":        filepath.Join(dir, "home"),
		"TRAEFIK_SECRETS_DIR": dir,
		"TRAEFIK_BINARY":      exe,
		"TRAEFIK_CHILD_ENV":   "APP_TEST_CHILD",
		"APP_TEST_CHILD":      started,
		"TRAEFIK_STOP_DELAY":  "0s",
	}, started
}

// TestRunStopBeforeStart: a stop signal during the wait for Rancher's
// first answer ends run at once, with 0, and Traefik is never started; a
// SIGHUP before it is dropped.
func TestRunStopBeforeStart(t *testing.T) {
	asked := make(chan struct{}, 1)
	// A metadata service that never answers: start-up waits for it.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case asked <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	}))
	defer srv.Close()
	vars, started := runEnv(t)
	vars["TRAEFIK_RANCHER_MODE"] = "metadata"
	vars["TRAEFIK_RANCHER_METADATA_URL"] = srv.URL + "/2016-07-29"
	vars["TRAEFIK_RANCHER_WAIT"] = "1h"
	a, _, errb := testApp(vars)
	sigs := make(chan os.Signal, 2)
	done := make(chan error)
	go func() { done <- a.run(context.Background(), sigs) }()
	<-asked
	sigs <- syscall.SIGHUP
	sigs <- syscall.SIGTERM
	if err := <-done; err != nil {
		t.Fatalf("run: %v\n%s", err, errb)
	}
	if _, err := os.Stat(started); err == nil {
		t.Error("Traefik was started after a stop signal")
	}
	for _, want := range []string{"signal before Traefik started; ignored", `msg="stop requested before Traefik started; exiting" signal=terminated`} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, errb)
		}
	}
}

// TestRunSupervisesTraefik: run prepares the files, starts Traefik with
// --configFile and passes a SIGTERM on; Traefik's clean exit is run's.
func TestRunSupervisesTraefik(t *testing.T) {
	vars, started := runEnv(t)
	vars["TRAEFIK_RANCHER_MODE"] = "off"
	a, _, errb := testApp(vars)
	sigs := make(chan os.Signal, 1)
	done := make(chan error)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() { done <- a.run(ctx, sigs) }()
	for {
		b, err := os.ReadFile(started)
		if err == nil && len(b) > 0 {
			want := "[--configFile=" + filepath.Join(vars["TRAEFIK_HOME"], "etc", "traefik.toml") + "]"
			if string(b) != want {
				t.Errorf("Traefik's args %s, want %s", b, want)
			}
			break
		}
		select {
		case err := <-done:
			t.Fatalf("run ended before Traefik started: %v\n%s", err, errb)
		case <-time.After(20 * time.Millisecond): // polling for the file
		}
	}
	sigs <- syscall.SIGTERM
	if err := <-done; err != nil {
		t.Fatalf("run: %v (exit %d)\n%s", err, ExitCode(err), errb)
	}
	if _, err := os.Stat(filepath.Join(vars["TRAEFIK_HOME"], "etc", "traefik.toml")); err != nil {
		t.Errorf("traefik.toml: %v", err)
	}
}

// TestRunTraefikNotFound: a missing TRAEFIK_BINARY is reported before any
// wait for Rancher, with its kind (exit 127).
func TestRunTraefikNotFound(t *testing.T) {
	vars, _ := runEnv(t)
	vars["TRAEFIK_BINARY"] = filepath.Join(t.TempDir(), "no-traefik")
	vars["TRAEFIK_RANCHER_MODE"] = "off"
	a, _, _ := testApp(vars)
	err := a.run(context.Background(), make(chan os.Signal))
	if ExitCode(err) != ExitNotFound || !strings.Contains(err.Error(), "TRAEFIK_BINARY") {
		t.Errorf("run: %v (exit %d), want exit %d naming TRAEFIK_BINARY", err, ExitCode(err), ExitNotFound)
	}
}
