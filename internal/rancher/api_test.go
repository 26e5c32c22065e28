package rancher

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"rancher-traefik/internal/metadataserver"
	"rancher-traefik/internal/secrets"
)

func apiEmulator(t *testing.T, path string) (*metadataserver.Server, string) {
	t.Helper()
	a, err := metadataserver.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s := metadataserver.New(a, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.API = &metadataserver.APIKeys{Access: "AK", Secret: "SK"}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

func TestAPIBase(t *testing.T) {
	for in, want := range map[string]string{
		"http://rancher:8080/v1":                   "http://rancher:8080/v2-beta",
		"http://rancher:8080/v1/":                  "http://rancher:8080/v2-beta",
		"https://rancher/v2-beta":                  "https://rancher/v2-beta",
		"http://rancher:8080/v1/projects/1a5":      "http://rancher:8080/v2-beta/projects/1a5",
		"http://rancher:8080/v2-beta/projects/1a5": "http://rancher:8080/v2-beta/projects/1a5",
		"http://rancher:8080":                      "http://rancher:8080/v2-beta",
	} {
		got, err := (&API{Endpoint: in}).base()
		if err != nil || got != want {
			t.Errorf("base(%q) = %q %v, want %q", in, got, err, want)
		}
	}
}

// TestAPIMatchesMetadata: one stack served both ways gives the same model.
func TestAPIMatchesMetadata(t *testing.T) {
	_, url := apiEmulator(t, "../metadataserver/testdata/stack.yml")
	fromMeta, err := (&Client{Base: url + "/2016-07-29"}).Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, endpoint := range []string{url + "/v1", url + "/v2-beta/projects/1a5"} {
		api := &API{Endpoint: endpoint, AccessKey: secrets.New("AK"), Secret: secrets.New("SK"), PageSize: 1}
		fromAPI, err := api.Snapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		// The API's stacks do not name their environment (the project):
		// Environment is "" there.
		ignore := cmpopts.IgnoreFields(Service{}, "UUID", "Hostname", "Environment")
		ignoreC := cmpopts.IgnoreFields(Container{}, "UUID", "Ports")
		if diff := cmp.Diff(fromAPI.Services, fromMeta.Services, ignore, ignoreC, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: API vs metadata (-api +metadata):\n%s", endpoint, diff)
		}
	}
}

func TestAPIUnauthorized(t *testing.T) {
	_, url := apiEmulator(t, "../metadataserver/testdata/stack.yml")
	_, err := (&API{Endpoint: url + "/v1", AccessKey: secrets.New("AK"), Secret: secrets.New("SECRETWRONG")}).Snapshot(context.Background())
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "401 Unauthorized") || !strings.Contains(err.Error(), "check TRAEFIK_RANCHER_ACCESSKEY/SECRET") {
		t.Errorf("err = %v", err)
	}
	if strings.Contains(err.Error(), "SECRETWRONG") || strings.Contains(err.Error(), "AK:") {
		t.Errorf("the error shows the key: %v", err)
	}
}

func TestAPIEventsWakeWaiters(t *testing.T) {
	s, url := apiEmulator(t, "../metadataserver/testdata/stack.yml")
	api := &API{Endpoint: url + "/v1", AccessKey: secrets.New("AK"), Secret: secrets.New("SK"), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = api.Events(ctx) }()
	// Subscribing moves the generation (changes may have been missed): the
	// first wait ends when the stream is up. No poll can end it first.
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	defer scancel()
	if _, err := api.WaitVersion(sctx, "0", 3600); err != nil {
		t.Fatalf("event stream not connected: %v", err)
	}
	snap, err := api.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The change is made once WaitVersion blocks: it must be the event
	// that wakes it, not a generation that moved before it looked.
	blocked := make(chan struct{})
	api.waiting = func() { close(blocked) }
	done := make(chan string, 1)
	go func() {
		v, _ := api.WaitVersion(ctx, snap.Version, 60)
		done <- v
	}()
	select {
	case <-blocked:
	case v := <-done:
		t.Fatalf("WaitVersion returned %q at once: an event arrived before the change", v)
	case <-time.After(10 * time.Second):
		t.Fatal("WaitVersion never blocked")
	}
	a, _ := metadataserver.Load("../metadataserver/testdata/stack.yml")
	s.Set(a)
	select {
	case v := <-done:
		if v == strings.SplitN(snap.Version, "-", 2)[0] {
			t.Errorf("WaitVersion returned the same generation %q", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("an event did not wake WaitVersion")
	}
}

func TestAPIPollsWithoutEvents(t *testing.T) {
	api := &API{Endpoint: "http://127.0.0.1:1/v1"}
	start := time.Now()
	v, err := api.WaitVersion(context.Background(), "0-abc", 1)
	if err != nil || v == "0" || time.Since(start) < time.Second {
		t.Errorf("poll: %q %v after %v", v, err, time.Since(start))
	}
}

// FuzzMapAPI feeds arbitrary JSON items to the API mapping: errors, never
// panics; labels of any JSON type decode.
func FuzzMapAPI(f *testing.F) {
	f.Add(`{"id":"1st1","name":"s"}`, `{"id":"1s1","name":"a","stackId":"1st1","launchConfig":{"labels":{"x":1,"y":null}}}`, `{"id":"1i1","serviceIds":["1s1"],"primaryIpAddress":"10.0.0.1","healthState":null}`)
	f.Add(`[]`, `{"launchConfig":7}`, `"x"`)
	f.Fuzz(func(t *testing.T, stack, service, container string) {
		snap, err := mapAPI([]json.RawMessage{json.RawMessage(stack)}, []json.RawMessage{json.RawMessage(service)}, []json.RawMessage{json.RawMessage(container)}, "1")
		if err == nil && snap.Version == "" {
			t.Fatal("no version")
		}
	})
}

// TestBasicAuth: the event stream's header is the one SetBasicAuth gives a
// request (the API calls use that).
func TestBasicAuth(t *testing.T) {
	for _, tt := range []struct{ user, pass string }{
		{"AK", "SK"},
		{"", ""},
		{"key", "pa:ss:word"},
		{"ключ", "sécret"},
	} {
		req := httptest.NewRequest("GET", "http://rancher/", nil)
		req.SetBasicAuth(tt.user, tt.pass)
		if got, want := basicAuth(tt.user, tt.pass), req.Header.Get("Authorization"); got != want {
			t.Errorf("basicAuth(%q, %q) = %q, want %q", tt.user, tt.pass, got, want)
		}
	}
}
