package e2e

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rancher-traefik/internal/testcert"
)

// secretWord is the secret value bad input carries: never echoed.
const secretWord = "SECRETCANARY"

// badRunCase is one row of TestBadInputStopsBeforeTraefik.
type badRunCase struct {
	name     string
	env      map[string]string
	secrets  map[string][]byte
	wantCode int
	want     []string // the problem lines, in order; SECRETS stands for the secrets directory
}

// badRunCases are TestBadInputStopsBeforeTraefik's rows: good and other
// are two unrelated certificate chains.
func badRunCases(good, other *testcert.Chain) []badRunCase {
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte(secretWord)})
	garbage := []byte("-----BEGIN CERTIFICATE-----\n" + secretWord + "\n-----END CERTIFICATE-----\n")
	return []badRunCase{
		{"non-numeric port", map[string]string{"TRAEFIK_HTTP_PORT": "http"}, nil, 78,
			[]string{`TRAEFIK_HTTP_PORT: "http" is not a port number`}},
		{"port 0", map[string]string{"TRAEFIK_HTTPS_PORT": "0"}, nil, 78,
			[]string{`TRAEFIK_HTTPS_PORT: port 0 is out of range 1-65535`}},
		{"port above 65535", map[string]string{"TRAEFIK_ADMIN_PORT": "70000"}, nil, 78,
			[]string{`TRAEFIK_ADMIN_PORT: port 70000 is out of range 1-65535`}},
		{"two entry points on one port", map[string]string{"TRAEFIK_HTTP_PORT": "9999", "TRAEFIK_ADMIN_PORT": "9999"}, nil, 78,
			[]string{`TRAEFIK_ADMIN_PORT: port 9999 is already used by TRAEFIK_HTTP_PORT: two entry points cannot share a port`}},
		{"unknown TRAEFIK_HTTPS_ENABLE", map[string]string{"TRAEFIK_HTTPS_ENABLE": "yes-please"}, nil, 78,
			[]string{`TRAEFIK_HTTPS_ENABLE: "yes-please" is not one of true, only, false`}},
		{"missing secret file", map[string]string{"TRAEFIK_RANCHER_ACCESSKEY": "/run/secrets-nowhere/access", "TRAEFIK_RANCHER_SECRET": "x"}, nil, 78,
			[]string{`TRAEFIK_RANCHER_ACCESSKEY: reading secret file /run/secrets-nowhere/access: no such file or directory`}},
		{"VAR and VAR_FILE both set", map[string]string{"TRAEFIK_RANCHER_ACCESSKEY": secretWord, "TRAEFIK_RANCHER_ACCESSKEY_FILE": "/etc/hostname", "TRAEFIK_RANCHER_SECRET": secretWord}, nil, 78,
			[]string{`TRAEFIK_RANCHER_ACCESSKEY: TRAEFIK_RANCHER_ACCESSKEY_FILE is also set: set only one of them`}},
		// 65, as the README says (it exited 78 before: #11).
		{"missing certificate file", map[string]string{"TRAEFIK_SSL_CERT": "/run/secrets-nowhere/cert", "TRAEFIK_SSL_PRIVATE_KEY": "/run/secrets-nowhere/key"}, nil, 65,
			[]string{`TRAEFIK_SSL_CERT: reading secret file /run/secrets-nowhere/cert: no such file or directory`, `TRAEFIK_SSL_PRIVATE_KEY: reading secret file /run/secrets-nowhere/key: no such file or directory`}},
		{"cert without key", map[string]string{"TRAEFIK_SSL_CERT": "cert"}, map[string][]byte{"cert": good.Bundle()}, 78,
			[]string{`TRAEFIK_SSL_PRIVATE_KEY: not set, but TRAEFIK_SSL_CERT is: set both or neither`}},
		{"key not matching cert", map[string]string{"TRAEFIK_SSL_CERT": "cert", "TRAEFIK_SSL_PRIVATE_KEY": "key"}, map[string][]byte{"cert": good.Bundle(), "key": other.KeyPEM}, 65,
			[]string{`TRAEFIK_SSL_PRIVATE_KEY: the private key does not match the certificate (a.example.com) nor any other in the chain (secret SECRETS/key)`}},
		{"garbage PEM", map[string]string{"TRAEFIK_SSL_CERT": "cert", "TRAEFIK_SSL_PRIVATE_KEY": "key"}, map[string][]byte{"cert": garbage, "key": good.KeyPEM}, 65,
			[]string{`TRAEFIK_SSL_CERT: certificate 1: x509: malformed certificate (secret SECRETS/cert)`}},
		{"no PEM at all", map[string]string{"TRAEFIK_SSL_CERT": "cert", "TRAEFIK_SSL_PRIVATE_KEY": "key"}, map[string][]byte{"cert": []byte(secretWord), "key": good.KeyPEM}, 65,
			[]string{`TRAEFIK_SSL_CERT: no PEM CERTIFICATE block found (secret SECRETS/cert)`}},
		{"encrypted key", map[string]string{"TRAEFIK_SSL_CERT": "cert", "TRAEFIK_SSL_PRIVATE_KEY": "key"}, map[string][]byte{"cert": good.Bundle(), "key": encrypted}, 65,
			[]string{`TRAEFIK_SSL_PRIVATE_KEY: the private key is encrypted: Traefik needs it without a password (openssl pkey -in key.pem -out key-plain.pem) (secret SECRETS/key)`}},
		// routes' grammar, checked when the environment is read.
		{"bad constraint", map[string]string{"TRAEFIK_RANCHER_CONSTRAINTS": "tag=api"}, nil, 78,
			[]string{`TRAEFIK_RANCHER_CONSTRAINTS: constraint "tag=api" is not tag==NAME or tag!=NAME (Traefik v1 constraints; a v2 expression such as Label("k","v") cannot be mixed with them)`}},
		// CATTLE_URL is read (and checked) only in place of TRAEFIK_RANCHER_ENDPOINT.
		{"bad CATTLE_URL in use", map[string]string{"CATTLE_URL": "rancher:8080"}, nil, 78,
			[]string{`CATTLE_URL: "rancher:8080" is not an http(s) URL`}},
		{"value injecting TOML", map[string]string{"TRAEFIK_ACME_EMAIL": "a\"\n[x]", "TRAEFIK_LOG_LEVEL": "INFO\"\n[api]\ninsecure=true"}, nil, 78,
			[]string{`TRAEFIK_LOG_LEVEL: "INFO\"\n[api]\ninsecure=true" is not one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, PANIC`, `TRAEFIK_ACME_EMAIL: "a\"\n[x]" is not an e-mail address`}},
	}
}

// TestBadInputStopsBeforeTraefik runs `run` with one kind of bad input at a
// time: it must exit non-zero before Traefik starts, print one line per
// problem naming the variable, and never echo a secret.
func TestBadInputStopsBeforeTraefik(t *testing.T) {
	good, err := testcert.New(testcert.Options{Hosts: []string{"a.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := testcert.New(testcert.Options{Hosts: []string{"b.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range badRunCases(good, other) {
		t.Run(tt.name, func(t *testing.T) { runBadInput(t, tt) })
	}
}

// runBadInput runs `run`, then `check`, with tt's input: both exit with
// tt's code and name its problems; the child never starts, traefik.toml is
// never written, no secret is echoed.
func runBadInput(t *testing.T, tt badRunCase) {
	i := newInstance(t, tt.env)
	for name, b := range tt.secrets {
		i.writeSecret(name, b)
	}
	started := filepath.Join(i.dir, "started")
	i.env["TRAEFIK_BINARY"] = fakeBin
	i.env["TRAEFIK_CHILD_ENV"] = "FAKE_STARTED"
	i.env["FAKE_STARTED"] = started
	code, stdout, stderr := i.run("run")
	if code != tt.wantCode {
		t.Errorf("exit code %d, want %d", code, tt.wantCode)
	}
	if _, err := os.Stat(started); err == nil {
		t.Error("the child was started despite bad input")
	}
	var want, wantStderr []string
	for _, w := range tt.want {
		want = append(want, strings.ReplaceAll(w, "SECRETS", i.secrets))
		wantStderr = append(wantStderr, "rancher-traefik: "+want[len(want)-1])
	}
	var problems []string // log lines (level=...) may come before
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if !strings.HasPrefix(l, "time=") {
			problems = append(problems, l)
		}
	}
	if got := strings.Join(problems, "\n"); got != strings.Join(wantStderr, "\n") {
		t.Errorf("stderr:\n%s\nwant:\n%s", got, strings.Join(wantStderr, "\n"))
	}
	if strings.Contains(stdout+stderr, secretWord) {
		t.Errorf("a secret value was echoed:\n%s%s", stdout, stderr)
	}
	// check finds the same problems, one per line, on stdout.
	code, stdout, _ = i.run("check")
	if code != tt.wantCode {
		t.Errorf("check: exit code %d, want %d", code, tt.wantCode)
	}
	if got := strings.TrimSpace(stdout); got != strings.Join(want, "\n") {
		t.Errorf("check stdout:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if _, err := os.Stat(filepath.Join(i.home, "etc", "traefik.toml")); err == nil {
		t.Error("traefik.toml written despite bad input")
	}
}

func TestCheckReportsEveryProblem(t *testing.T) {
	i := newInstance(t, map[string]string{"TRAEFIK_HTTP_PORT": "x", "TRAEFIK_HTTPS_ENABLE": "sure", "TRAEFIK_SSL_CERT": "/nonexistent/cert", "TRAEFIK_SSL_PRIVATE_KEY": "/nonexistent/key"})
	code, stdout, stderr := i.run("check")
	want := strings.Join([]string{
		`TRAEFIK_HTTP_PORT: "x" is not a port number`,
		`TRAEFIK_HTTPS_ENABLE: "sure" is not one of true, only, false`,
		`TRAEFIK_SSL_CERT: reading secret file /nonexistent/cert: no such file or directory`,
		`TRAEFIK_SSL_PRIVATE_KEY: reading secret file /nonexistent/key: no such file or directory`,
	}, "\n")
	if code != 78 || strings.TrimSpace(stdout) != want {
		t.Errorf("check: %d\n%s\nwant 78:\n%s", code, stdout, want)
	}
	if !strings.Contains(stderr, "4 problem(s) found") {
		t.Errorf("stderr %q lacks the count", stderr)
	}

	ok := newInstance(t, nil)
	ok.withCert("a.example.com")
	code, stdout, stderr = ok.run("check")
	if code != 0 || stdout != "" || !strings.Contains(stderr, "configuration is valid") {
		t.Errorf("check of a good configuration: %d %q %q", code, stdout, stderr)
	}
}

func TestTraefikBinaryProblems(t *testing.T) {
	notExec := filepath.Join(t.TempDir(), "traefik")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, bin string
		wantCode  int
		wantErr   string
	}{
		{"not found on PATH", "no-such-traefik", 127, `TRAEFIK_BINARY: traefik executable not found: "no-such-traefik"`},
		{"missing path", "/nonexistent/traefik", 127, `TRAEFIK_BINARY: traefik executable not found: "/nonexistent/traefik"`},
		{"not executable", notExec, 126, "TRAEFIK_BINARY: traefik could not be started"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Rancher does not answer and start-up would wait ten minutes
			// for it: the problem is reported before that wait (run gives
			// up after one minute).
			i := newInstance(t, map[string]string{"TRAEFIK_BINARY": tt.bin, "TRAEFIK_RANCHER_MODE": "metadata",
				"TRAEFIK_RANCHER_METADATA_URL": fmt.Sprintf("http://127.0.0.1:%d/2016-07-29", freePort(t)), "TRAEFIK_RANCHER_WAIT": "10m"})
			code, _, stderr := i.run("run")
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("got %d %q, want %d with %q", code, stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
}

func TestRenderCommand(t *testing.T) {
	i := newInstance(t, nil)
	i.withCert("a.example.com")
	code, stdout, stderr := i.run("render", "--stdout")
	if code != 0 {
		t.Fatalf("render --stdout: %d %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(i.home, "etc", "traefik.toml")); err == nil {
		t.Error("render --stdout wrote files")
	}
	code, _, stderr = i.run("render")
	if code != 0 {
		t.Fatalf("render: %d %s", code, stderr)
	}
	written, err := os.ReadFile(filepath.Join(i.home, "etc", "traefik.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(written) != stdout {
		t.Error("render --stdout differs from the file render writes")
	}
	for _, f := range []string{"certs/traefik.crt", "certs/traefik.key", "etc/dynamic/tls.toml"} {
		if _, err := os.Stat(filepath.Join(i.home, f)); err != nil {
			t.Errorf("render did not write %s: %v", f, err)
		}
	}
	// Rendering again changes nothing on disk.
	// An atomic write renames a new file into place: the same file after
	// the second render means it was not written again.
	before, _ := os.Stat(filepath.Join(i.home, "etc", "traefik.toml"))
	if code, _, stderr := i.run("render"); code != 0 {
		t.Fatalf("second render: %s", stderr)
	}
	after, _ := os.Stat(filepath.Join(i.home, "etc", "traefik.toml"))
	if before == nil || after == nil || !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Error("an unchanged render rewrote traefik.toml")
	}
}

// TestNoSecretLeaks runs check, render, env, routes, explain and run at
// DEBUG with canary secret values — the environment's, and credentials in
// every service label that has them, in each dialect (v1, rawmind0, v2) —
// and looks for the canaries everywhere we write and in the body of every
// endpoint of Traefik's API. Label credentials that Traefik has no file
// form for (header values, Redis's password) stay in its configuration, as
// the README says: those are looked for in what our commands print.
func TestNoSecretLeaks(t *testing.T) {
	i := newInstance(t, map[string]string{"TRAEFIK_LOG_LEVEL": "DEBUG", "TRAEFIK_RANCHER_DOMAIN": "example.com", "TRAEFIK_RANCHER_MODE": "api"})
	c := i.withCert("canary.example.com")
	keys := make([]*testcert.Chain, 3) // forward auth (v2, v1), Redis
	for n := range keys {
		k, err := testcert.New(testcert.Options{Hosts: []string{fmt.Sprintf("client%d.example.com", n)}})
		if err != nil {
			t.Fatal(err)
		}
		keys[n] = k
	}
	users := shaUser("admin", "canary-password")
	canaries := leakCanaries(c, keys, users)
	// In Traefik's configuration, and so in its API and debug log, as
	// documented; never in what our commands print or our log.
	printed := map[string]string{
		"Authorization header value": "NOFILEAUTHORIZATION0004",
		"Redis password":             "NOFILEREDISPASSWORD0005",
	}
	m := &emulator{t: t, file: filepath.Join(i.dir, "stack.yml"), addr: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	m.write(canaryStack(canaries, printed, keys))
	m.startWithKeys(canaries["access key"] + ":" + canaries["secret key"])
	t.Cleanup(m.stop)
	i.env["TRAEFIK_RANCHER_ENDPOINT"] = "http://" + m.addr + "/v1"
	i.env["TRAEFIK_RANCHER_ACCESSKEY"] = canaries["access key"]
	i.env["TRAEFIK_RANCHER_SECRET_FILE"] = i.writeSecret("rancher-secret", []byte(canaries["secret key"]+"\n"))
	i.env["CATTLE_SECRET_KEY"] = canaries["cattle secret"]
	i.env["TRAEFIK_ADMIN_AUTH_USERS"] = users

	commands := commandOutputs(t, i, m.url())
	outputs := append([]string(nil), commands...)
	i.start("run")
	i.waitReady()
	admin := basicAuth("admin", "canary-password")
	waitCanaryRouters(t, i, admin)
	outputs = append(outputs, apiBodies(t, i, admin)...)
	i.signal(15)
	if code := i.wait(20 * time.Second); code != 0 {
		t.Errorf("run exited %d", code)
	}
	// Traefik logs to stdout; ours, at DEBUG, is stderr.
	outputs = append(outputs, "run stdout:\n"+i.stdout.String(), "run stderr:\n"+i.stderr.String())
	commands = append(commands, "run stderr:\n"+i.stderr.String())
	outputs = append(outputs, writtenFiles(t, i.home)...)
	if !strings.Contains(i.stderr.String(), "level=DEBUG") {
		t.Error("run logged nothing at DEBUG: the test would prove little")
	}
	if !strings.Contains(i.stdout.String()+i.stderr.String(), printed["Redis password"]) {
		t.Error("Traefik's debug log does not show its configuration: the scan of run's output would prove little")
	}
	findNone(t, canaries, outputs)
	findNone(t, printed, commands)
}

// leakCanaries are the secret values TestNoSecretLeaks plants, by name:
// the environment's, the main key, and a credential of each label kind.
func leakCanaries(c *testcert.Chain, keys []*testcert.Chain, users string) map[string]string {
	pemBody := func(p []byte) string { return strings.Join(strings.Split(string(p), "\n")[1:3], "")[10:50] }
	return map[string]string{
		"key body":           pemBody(c.KeyPEM),
		"access key":         "CANARYACCESSKEY0001",
		"secret key":         "CANARYSECRETKEY0002",
		"cattle secret":      "CANARYCATTLESECRET3",
		"admin hash":         strings.SplitN(users, ":", 2)[1],
		"v1 basic hash":      strings.SplitN(shaUser("canary", "v1-basic-canary"), ":", 2)[1],
		"v1 digest hash":     "c0ffee0123456789canary0123456789",
		"v1 forward TLS key": pemBody(keys[1].KeyPEM),
		"rawmind0 hash":      strings.SplitN(shaUser("canary", "rawmind0-canary"), ":", 2)[1],
		"v2 basic hash":      strings.SplitN(shaUser("canary", "v2-basic-canary"), ":", 2)[1],
		"v2 digest hash":     "d1ge57c0ffee0123456789canary0123",
		"v2 forward TLS key": pemBody(keys[0].KeyPEM),
		"v2 Redis TLS key":   pemBody(keys[2].KeyPEM),
	}
}

// commandOutputs runs every command that reads the configuration and
// returns their stdout and stderr, each headed by the command.
func commandOutputs(t *testing.T, i *instance, metadataURL string) []string {
	t.Helper()
	var commands []string
	for _, args := range [][]string{{"check"}, {"render"}, {"render", "--stdout"}, {"env"}, {"env", "--effective"}, {"version"},
		{"routes"}, {"routes", "--metadata-url", metadataURL}, {"explain"}} {
		code, stdout, stderr := i.run(args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		commands = append(commands, fmt.Sprintf("%v stdout:\n%s", args, stdout), fmt.Sprintf("%v stderr:\n%s", args, stderr))
		if args[0] == "explain" && !strings.Contains(stdout, "canary/raw (service, rawmind0 labels): published") {
			t.Errorf("explain did not see the rawmind0 service:\n%s", stdout)
		}
	}
	return commands
}

// waitCanaryRouters waits until Traefik has read the credential files:
// every one of the five canary routers enabled.
func waitCanaryRouters(t *testing.T, i *instance, admin http.Header) {
	t.Helper()
	eventually(t, 20*time.Second, "every canary router enabled", func() error {
		code, body, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/api/http/routers", i.admin), admin)
		if err != nil || code != 200 {
			return fmt.Errorf("%d %v %s", code, err, body)
		}
		var routers []struct{ Name, Status string }
		if err := jsonUnmarshal(body, &routers); err != nil {
			return err
		}
		enabled := 0
		for _, r := range routers {
			if !strings.Contains(r.Name, "canary") && !strings.HasPrefix(r.Name, "canv2@") {
				continue
			}
			if r.Status != "enabled" {
				return fmt.Errorf("router %s is %s: %s", r.Name, r.Status, body)
			}
			enabled++
		}
		if enabled != 5 {
			return fmt.Errorf("%d canary routers enabled, want 5: %s", enabled, body)
		}
		return nil
	})
}

// writtenFiles are the configuration files run wrote, each headed by its
// path.
func writtenFiles(t *testing.T, home string) []string {
	t.Helper()
	var out []string
	for _, f := range []string{"etc/traefik.toml", "etc/dynamic/tls.toml", "etc/dynamic/admin.toml", "etc/dynamic/rancher.toml"} {
		b, err := os.ReadFile(filepath.Join(home, f))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f+":\n"+string(b))
	}
	return out
}

// findNone wants none of the canaries in any of the outputs (each headed
// by a line saying what it is).
func findNone(t *testing.T, canaries map[string]string, outputs []string) {
	t.Helper()
	for what, canary := range canaries {
		for _, out := range outputs {
			if strings.Contains(out, canary) {
				t.Errorf("the %s appears in %s", what, strings.SplitN(out, "\n", 2)[0])
			}
		}
	}
}

// canaryStack has every label credential in each dialect: v1 basic and
// digest users and a forward-auth client key, a rawmind0 service with
// basic users, and v2 basic and digest users, a forward-auth client key, a
// rate limit's Redis client key (keys given as PEM text) — and, with no
// file form, a header value and Redis's password. keys are the client keys
// of v2's forward auth, v1's and Redis.
func canaryStack(c, printed map[string]string, keys []*testcert.Chain) string {
	return fmt.Sprintf(`stacks:
  - name: canary
    services:
      - name: v1
        labels:
          traefik.enable: "true"
          traefik.port: "8080"
          traefik.frontend.auth.basic.users: %q
        containers:
          - ip: 127.0.0.71
      - name: v1dig
        labels:
          traefik.enable: "true"
          traefik.port: "8080"
          traefik.frontend.auth.digest.users: %q
        containers:
          - ip: 127.0.0.73
      - name: v1fwd
        labels:
          traefik.enable: "true"
          traefik.port: "8080"
          traefik.frontend.auth.forward.address: https://127.0.0.1:1/auth
          traefik.frontend.auth.forward.tls.key: %q
          traefik.frontend.auth.forward.tls.cert: %q
        containers:
          - ip: 127.0.0.74
      - name: raw
        labels:
          traefik.enable: stack
          traefik.domain: example.com
          traefik.port: "8080"
          traefik.frontend.auth.basic.users: %q
        containers:
          - ip: 127.0.0.75
      - name: v2
        labels:
          traefik.enable: "true"
          traefik.http.routers.canv2.rule: Host(%s)
          traefik.http.routers.canv2.middlewares: canbasic,candig,canfwd,canhdr
          traefik.http.middlewares.canbasic.basicauth.users: %q
          traefik.http.middlewares.candig.digestauth.users: %q
          traefik.http.middlewares.canfwd.forwardauth.address: https://127.0.0.1:1/auth
          traefik.http.middlewares.canfwd.forwardauth.tls.key: %q
          traefik.http.middlewares.canfwd.forwardauth.tls.cert: %q
          traefik.http.middlewares.canhdr.headers.customrequestheaders.Authorization: Bearer %s
          traefik.http.middlewares.canrl.ratelimit.average: "10"
          traefik.http.middlewares.canrl.ratelimit.redis.endpoints: 127.0.0.1:1
          traefik.http.middlewares.canrl.ratelimit.redis.password: %s
          traefik.http.middlewares.canrl.ratelimit.redis.tls.key: %q
          traefik.http.middlewares.canrl.ratelimit.redis.tls.cert: %q
          traefik.http.services.canv2.loadbalancer.server.port: "8080"
        containers:
          - ip: 127.0.0.72
`, "canary:"+c["v1 basic hash"], "dig:traefik:"+c["v1 digest hash"], keys[1].KeyPEM, keys[1].LeafPEM,
		"canary:"+c["rawmind0 hash"], "`canary-v2.example.com`", "canary:"+c["v2 basic hash"], "dig:traefik:"+c["v2 digest hash"],
		keys[0].KeyPEM, keys[0].LeafPEM, printed["Authorization header value"], printed["Redis password"], keys[2].KeyPEM, keys[2].LeafPEM)
}
