package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"rancher-traefik/internal/config"
)

// TestCatalogEntry: both files parse, every question's variable is used,
// every variable used is a question, and every environment variable set is
// one rancher-traefik reads.
func TestCatalogEntry(t *testing.T) {
	dir := filepath.Join("..", "..", "catalog", "templates", "rancher-traefik", "0")
	compose, err := os.ReadFile(filepath.Join(dir, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	rcompose, err := os.ReadFile(filepath.Join(dir, "rancher-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var dc struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Labels      map[string]string `yaml:"labels"`
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(compose, &dc); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	var rc struct {
		Catalog struct {
			Questions []struct {
				Variable string   `yaml:"variable"`
				Type     string   `yaml:"type"`
				Options  []string `yaml:"options"`
				Default  any      `yaml:"default"`
			} `yaml:"questions"`
		} `yaml:".catalog"`
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
	var questions []string
	for _, q := range rc.Catalog.Questions {
		questions = append(questions, q.Variable)
	}
	sort.Strings(questions)
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{(\w+)\}`).FindAllStringSubmatch(string(compose), -1) {
		used[m[1]] = true
	}
	var usedList []string
	for v := range used {
		usedList = append(usedList, v)
	}
	sort.Strings(usedList)
	if diff := cmp.Diff(usedList, questions); diff != "" {
		t.Errorf("variables used vs questions (-used +questions):\n%s", diff)
	}
	for _, want := range []string{"rancher_endpoint", "access_key_secret", "secret_key_secret", "host_label", "http_port", "https_port", "admin_port", "domain", "https_enable", "ssl_cert_secret", "ssl_key_secret", "refresh", "rancher_mode", "exposed", "constraints", "admin_users", "acme_enable"} {
		if !used[want] {
			t.Errorf("no question for %s", want)
		}
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
	if svc.Labels["io.rancher.scheduler.global"] != "true" || !strings.Contains(svc.Labels["io.rancher.scheduler.affinity:host_label"], "${host_label}") {
		t.Errorf("not scheduled globally on the host label: %v", svc.Labels)
	}
	r := rc.Services["traefik"]
	if r.HealthCheck.Port != 8000 || !strings.Contains(r.HealthCheck.RequestLine, "/ping") || !r.Upgrade.StartFirst {
		t.Errorf("health check %+v, start_first %v", r.HealthCheck, r.Upgrade.StartFirst)
	}
}
