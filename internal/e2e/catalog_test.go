package e2e

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"text/template"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"rancher-traefik/internal/config"
	"rancher-traefik/internal/testcert"
)

var catalogDir = filepath.Join("..", "..", "catalog", "templates", "rancher-traefik", "0")

type catalogQuestion struct {
	Variable string   `yaml:"variable"`
	Type     string   `yaml:"type"`
	Required bool     `yaml:"required"`
	Options  []string `yaml:"options"`
	Default  any      `yaml:"default"`
}

type catalogCompose struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Labels      map[string]string `yaml:"labels"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Secrets     []struct {
			Source string `yaml:"source"`
			Target string `yaml:"target"`
		} `yaml:"secrets"`
	} `yaml:"services"`
	Secrets map[string]struct {
		External bool `yaml:"external"`
	} `yaml:"secrets"`
	Volumes map[string]any `yaml:"volumes"`
}

func catalogQuestions(t *testing.T) ([]catalogQuestion, []byte) {
	t.Helper()
	rcompose, err := os.ReadFile(filepath.Join(catalogDir, "rancher-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var rc struct {
		Catalog struct {
			Questions []catalogQuestion `yaml:"questions"`
		} `yaml:".catalog"`
	}
	if err := yaml.Unmarshal(rcompose, &rc); err != nil {
		t.Fatalf("rancher-compose.yml: %v", err)
	}
	return rc.Catalog.Questions, rcompose
}

// renderCatalog does what Rancher 1.6 does with docker-compose.yml.tpl: a Go
// template over the answers (.Values, all strings), then ${variable}
// substitution. Only text/template's built-ins are available here, a subset
// of Rancher's (it adds sprig's functions), so what parses here parses there.
func renderCatalog(t *testing.T, values map[string]string) []byte {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(catalogDir, "docker-compose.yml.tpl"))
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := template.New("docker-compose.yml.tpl").Option("missingkey=error").Parse(string(src))
	if err != nil {
		t.Fatalf("docker-compose.yml.tpl: %v", err)
	}
	var b bytes.Buffer
	if err := tpl.Execute(&b, map[string]any{"Values": values}); err != nil {
		t.Fatalf("docker-compose.yml.tpl: %v", err)
	}
	return regexp.MustCompile(`\$\{(\w+)\}`).ReplaceAllFunc(b.Bytes(), func(m []byte) []byte {
		v, ok := values[string(m[2:len(m)-1])]
		if !ok {
			t.Errorf("%s is not a question", m)
		}
		return []byte(v)
	})
}

// TestCatalogEntry: both files parse, every question's variable is used,
// every variable used is a question, and every environment variable set is
// one rancher-traefik reads.
func TestCatalogEntry(t *testing.T) {
	qs, rcompose := catalogQuestions(t)
	src, err := os.ReadFile(filepath.Join(catalogDir, "docker-compose.yml.tpl"))
	if err != nil {
		t.Fatal(err)
	}
	var questions []string
	for _, q := range qs {
		questions = append(questions, q.Variable)
	}
	sort.Strings(questions)
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{(\w+)\}|\.Values\.(\w+)`).FindAllStringSubmatch(string(src), -1) {
		used[m[1]+m[2]] = true
	}
	var usedList []string
	for v := range used {
		usedList = append(usedList, v)
	}
	sort.Strings(usedList)
	if diff := cmp.Diff(usedList, questions); diff != "" {
		t.Errorf("variables used vs questions (-used +questions):\n%s", diff)
	}
	for _, want := range []string{"rancher_endpoint", "access_key_secret", "secret_key_secret", "host_label", "http_port", "https_port", "admin_port", "domain", "https_enable", "ssl_cert_secret", "ssl_key_secret", "refresh", "rancher_mode", "exposed", "constraints", "admin_users", "admin_insecure", "acme_enable", "acme_challenge", "rancher_certificates"} {
		if !used[want] {
			t.Errorf("no question for %s", want)
		}
	}
	var dc catalogCompose
	if err := yaml.Unmarshal(renderCatalog(t, catalogDefaults(qs)), &dc); err != nil {
		t.Fatalf("docker-compose.yml.tpl rendered with the defaults: %v", err)
	}
	known := map[string]bool{}
	for _, v := range config.Vars {
		known[v.Name] = true
	}
	svc := dc.Services["traefik"]
	for name := range svc.Environment {
		if !known[name] {
			t.Errorf("the catalog sets %s, which rancher-traefik does not read", name)
		}
	}
	if svc.Labels["io.rancher.scheduler.global"] != "true" || svc.Labels["io.rancher.scheduler.affinity:host_label"] != "traefik_lb=true" {
		t.Errorf("not scheduled globally on the host label: %v", svc.Labels)
	}
	checkCatalogAgentRole(t, qs)
	var rc struct {
		Services map[string]struct {
			HealthCheck struct {
				Port        int    `yaml:"port"`
				RequestLine string `yaml:"request_line"`
			} `yaml:"health_check"`
			Upgrade struct {
				StartFirst bool `yaml:"start_first"`
			} `yaml:"upgrade_strategy"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(rcompose, &rc); err != nil {
		t.Fatalf("rancher-compose.yml: %v", err)
	}
	r := rc.Services["traefik"]
	if r.HealthCheck.Port != 8000 || !strings.Contains(r.HealthCheck.RequestLine, "/ping") || !r.Upgrade.StartFirst {
		t.Errorf("health check %+v, start_first %v", r.HealthCheck, r.Upgrade.StartFirst)
	}
}

// checkCatalogAgentRole: the agent's key may read certificate keys (the
// environmentAdmin role) exactly when the store's certificates are served.
func checkCatalogAgentRole(t *testing.T, qs []catalogQuestion) {
	t.Helper()
	for _, tc := range []struct{ certificates, role string }{
		{"none", "environment"}, {"all", "environmentAdmin"}, {"acme-a.example.com,shop", "environmentAdmin"},
	} {
		values := catalogDefaults(qs)
		values["rancher_certificates"] = tc.certificates
		var dc catalogCompose
		if err := yaml.Unmarshal(renderCatalog(t, values), &dc); err != nil {
			t.Fatalf("rendered with rancher_certificates=%s: %v", tc.certificates, err)
		}
		svc := dc.Services["traefik"]
		if got := svc.Labels["io.rancher.container.agent.role"]; got != tc.role {
			t.Errorf("rancher_certificates=%s: agent role %q, want %q", tc.certificates, got, tc.role)
		}
		if got := svc.Environment["TRAEFIK_RANCHER_CERTIFICATES"]; got != tc.certificates {
			t.Errorf("rancher_certificates=%s: TRAEFIK_RANCHER_CERTIFICATES=%q", tc.certificates, got)
		}
	}
}

func catalogDefaults(qs []catalogQuestion) map[string]string {
	values := map[string]string{}
	for _, q := range qs {
		if q.Default != nil {
			values[q.Variable] = fmt.Sprint(q.Default)
		} else {
			values[q.Variable] = ""
		}
	}
	return values
}

// catalogSecretCase is one way to answer the catalog's questions: the
// secrets it mounts, and whether the configuration has a certificate and
// uses the API.
type catalogSecretCase struct {
	name    string
	answers map[string]string
	agent   bool     // Rancher injects the agent's keys
	secrets []string // targets mounted
	tls     bool
	api     bool
}

var catalogSecretCases = []catalogSecretCase{
	{"defaults: certificate, metadata", nil, false, []string{"traefik-cert", "traefik-key"}, true, false},
	{"defaults with the agent's keys: API", nil, true, []string{"traefik-cert", "traefik-key"}, true, true},
	{"the seed's: endpoint and key as secrets", map[string]string{"rancher_endpoint": "http://rancher:8080/v1", "access_key_secret": "rancher-ak", "secret_key_secret": "rancher-sk"}, false,
		[]string{"traefik-access", "traefik-secret", "traefik-cert", "traefik-key"}, true, true},
	{"no secrets at all (ACME or Traefik's default certificate)", map[string]string{"ssl_cert_secret": "", "ssl_key_secret": "", "rancher_mode": "metadata", "acme_enable": "true", "acme_email": "ops@example.com"}, true, nil, false, false},
}

// catalogAgent is what Rancher injects through
// io.rancher.container.create_agent and agent.role=environment.
var catalogAgent = map[string]string{"CATTLE_URL": "http://rancher:8080/v1", "CATTLE_ACCESS_KEY": "AKAGENT", "CATTLE_SECRET_KEY": "SKAGENT"}

// TestCatalogSecretsAreOptional renders the entry for the ways people
// answer the secret questions and loads each result's environment with
// rancher-traefik's own configuration code, the secrets present as files:
// an empty answer leaves its variable and its secret out (no dummy secret
// to create), a given one is wired to a secret Rancher mounts, and the
// discovery mode is the one the answers mean.
func TestCatalogSecretsAreOptional(t *testing.T) {
	qs, _ := catalogQuestions(t)
	chain, err := testcert.New(testcert.Options{Hosts: []string{"*.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"traefik-cert": chain.Bundle(), "traefik-key": chain.KeyPEM,
		"traefik-access": []byte("AKCATALOG"), "traefik-secret": []byte("SKCATALOG"),
	}
	for _, tc := range catalogSecretCases {
		t.Run(tc.name, func(t *testing.T) { runCatalogSecretCase(t, qs, files, tc) })
	}
}

// runCatalogSecretCase renders the entry with tc's answers, checks the
// secrets it mounts, and reads its environment (with files as the mounted
// secrets) as rancher-traefik would.
func runCatalogSecretCase(t *testing.T, qs []catalogQuestion, files map[string][]byte, tc catalogSecretCase) {
	values := catalogDefaults(qs)
	for k, v := range tc.answers {
		if _, ok := values[k]; !ok {
			t.Fatalf("no question %s", k)
		}
		values[k] = v
	}
	out := renderCatalog(t, values)
	var dc catalogCompose
	if err := yaml.Unmarshal(out, &dc); err != nil {
		t.Fatalf("rendered file does not parse: %v\n%s", err, out)
	}
	svc := dc.Services["traefik"]
	targets := checkCatalogSecrets(t, dc, out, tc.secrets)
	dir := t.TempDir()
	for _, target := range targets {
		if err := os.WriteFile(filepath.Join(dir, target), files[target], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"TRAEFIK_SECRETS_DIR": dir}
	maps.Copy(env, svc.Environment)
	if tc.agent {
		maps.Copy(env, catalogAgent)
	}
	cfg, err := config.FromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("the rendered environment is refused: %v\n%s", err, out)
	}
	// ACME's storage outlives the container, on each host: a plain
	// Docker volume (none declared at the top, which would make it
	// a Rancher volume tying the service to one host).
	wantVolumes := []string(nil)
	if cfg.ACMEEnable {
		wantVolumes = []string{"rancher-traefik-acme:" + filepath.Dir(cfg.ACMEStorage())}
	}
	if diff := cmp.Diff(wantVolumes, svc.Volumes); diff != "" || len(dc.Volumes) != 0 {
		t.Errorf("volumes (-want +got):\n%s\ntop-level volumes: %v", diff, dc.Volumes)
	}
	if cfg.TLSConfigured() != tc.tls {
		t.Errorf("certificate configured: %v, want %v", cfg.TLSConfigured(), tc.tls)
	}
	if api, why := cfg.UseAPI(); api != tc.api {
		t.Errorf("API mode %v (%s), want %v", api, why, tc.api)
	}
}

// checkCatalogSecrets: the traefik service mounts want, in order, each
// declared external; it returns the targets mounted.
func checkCatalogSecrets(t *testing.T, dc catalogCompose, out []byte, want []string) []string {
	t.Helper()
	svc := dc.Services["traefik"]
	var targets []string
	for _, s := range svc.Secrets {
		targets = append(targets, s.Target)
		if s.Source == "" || !dc.Secrets[s.Source].External {
			t.Errorf("secret %q → %s is not declared external:\n%s", s.Source, s.Target, out)
		}
	}
	if len(dc.Secrets) != len(svc.Secrets) {
		t.Errorf("%d secrets declared, %d mounted:\n%s", len(dc.Secrets), len(svc.Secrets), out)
	}
	if diff := cmp.Diff(want, targets); diff != "" {
		t.Errorf("mounted secrets (-want +got):\n%s\n%s", diff, out)
	}
	return targets
}

// TestCatalogREADME: the version folder's README documents every question
// of rancher-compose.yml, with its default, and no question that is gone.
func TestCatalogREADME(t *testing.T) {
	qs, _ := catalogQuestions(t)
	b, err := os.ReadFile(filepath.Join(catalogDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, section := range []string{"## What it deploys", "## Questions", "## Upgrade notes"} {
		if !strings.Contains(readme, "\n"+section+"\n") {
			t.Errorf("README.md has no %q section", section)
		}
	}
	// Rows: | Label | `variable` | default | meaning |
	rows := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| [^|]+ \\| `(\\w+)` \\| ([^|]+) \\|").FindAllStringSubmatch(readme, -1) {
		rows[m[1]] = strings.TrimSpace(m[2])
	}
	for _, q := range qs {
		row, ok := rows[q.Variable]
		if !ok {
			t.Errorf("README.md does not explain the question %s", q.Variable)
			continue
		}
		want := "empty"
		if d := fmt.Sprint(q.Default); q.Default != nil && d != "" {
			want = "`" + d + "`"
		}
		if row != want {
			t.Errorf("README.md gives %s the default %s; rancher-compose.yml has %s", q.Variable, row, want)
		}
		delete(rows, q.Variable)
	}
	for v := range rows {
		t.Errorf("README.md explains %s, which is no question of rancher-compose.yml", v)
	}
}

// TestCatalogIcon: the entry has its icon where Rancher's catalog service
// looks for it — a file of the template folder whose name starts with
// "catalogIcon-" (rancher/catalog-service reads the template folder that
// way; the community catalog names it catalogIcon-<entry>.svg) — and it is
// a self-contained SVG.
func TestCatalogIcon(t *testing.T) {
	entry := filepath.Dir(catalogDir)
	var icons []string
	ls, err := os.ReadDir(entry)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ls {
		if strings.HasPrefix(e.Name(), "catalogIcon-") {
			icons = append(icons, e.Name())
		}
	}
	want := "catalogIcon-" + filepath.Base(entry) + ".svg"
	if diff := cmp.Diff(icons, []string{want}); diff != "" {
		t.Fatalf("icons of %s (-got +want):\n%s", entry, diff)
	}
	b, err := os.ReadFile(filepath.Join(entry, want))
	if err != nil {
		t.Fatal(err)
	}
	var svg struct {
		XMLName xml.Name
		ViewBox string `xml:"viewBox,attr"`
		Width   string `xml:"width,attr"`
		Height  string `xml:"height,attr"`
	}
	if err := xml.Unmarshal(b, &svg); err != nil {
		t.Fatalf("%s is not XML: %v", want, err)
	}
	if svg.XMLName.Local != "svg" || svg.XMLName.Space != "http://www.w3.org/2000/svg" || svg.ViewBox == "" || svg.Width == "" || svg.Height == "" {
		t.Errorf("%s: root %v, viewBox %q, size %sx%s: want an <svg> of the SVG namespace with a viewBox and a size", want, svg.XMLName, svg.ViewBox, svg.Width, svg.Height)
	}
	for _, bad := range []string{"<script", "href=", "<image", "url(http"} {
		if strings.Contains(string(b), bad) {
			t.Errorf("%s holds %s: the icon must not load anything", want, bad)
		}
	}
}

// TestCatalogPublishing: the entry links to the project's URL as the README
// documents it, its default image is the name the README's build command
// gives, and the README's push command pushes that image to a registry.
func TestCatalogPublishing(t *testing.T) {
	entry := filepath.Dir(catalogDir)
	var cfg struct {
		Version    string `yaml:"version"`
		ProjectURL string `yaml:"projectURL"`
	}
	b, err := os.ReadFile(filepath.Join(entry, "config.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("config.yml: %v", err)
	}
	readmeBytes, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(readmeBytes)
	if !strings.HasPrefix(cfg.ProjectURL, "https://") || strings.Contains(cfg.ProjectURL, ".invalid") || !strings.Contains(readme, "`"+cfg.ProjectURL+"`") {
		t.Errorf("projectURL %q: want an https URL that README.md documents", cfg.ProjectURL)
	}
	qs, rcompose := catalogQuestions(t)
	var rc struct {
		Catalog struct {
			Version string `yaml:"version"`
		} `yaml:".catalog"`
	}
	if err := yaml.Unmarshal(rcompose, &rc); err != nil {
		t.Fatal(err)
	}
	if rc.Catalog.Version != cfg.Version {
		t.Errorf("rancher-compose.yml is version %s, config.yml %s", rc.Catalog.Version, cfg.Version)
	}
	image := catalogDefaults(qs)["image"]
	if want := "rancher-traefik:" + cfg.Version; image != want {
		t.Errorf("default image %q, want %q: what make image VERSION=%s builds", image, want, cfg.Version)
	}
	for _, shown := range []string{"make image VERSION=" + cfg.Version, "make push REGISTRY=registry.example.com:5000 VERSION=" + cfg.Version} {
		if !strings.Contains(readme, shown) {
			t.Errorf("README.md does not show %q", shown)
		}
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	// What the README's commands run (make -n prints, runs nothing).
	out, err := exec.Command("make", "-s", "-n", "-C", root, "image", "push", "REGISTRY=registry.example.com:5000", "VERSION="+cfg.Version).CombinedOutput()
	if err != nil {
		t.Fatalf("make -n image push: %v\n%s", err, out)
	}
	for _, want := range []string{
		"docker build -t " + image + " ",
		"docker tag " + image + " registry.example.com:5000/" + image,
		"docker push registry.example.com:5000/" + image,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("make image push does not run %q:\n%s", want, out)
		}
	}
	// Without a registry, push says what it needs and runs no docker.
	cmd := exec.Command("make", "-s", "-C", root, "push")
	cmd.Env = append(os.Environ(), "PATH=/nonexistent") // a docker call would fail differently
	out, _ = cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 2 || !strings.Contains(string(out), "make push needs REGISTRY") {
		t.Errorf("make push without REGISTRY: exit %d:\n%s", cmd.ProcessState.ExitCode(), out)
	}
}
