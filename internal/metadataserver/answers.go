// Package metadataserver emulates Rancher 1.x's metadata service: it serves
// an answers document (or a compact stack file it expands) the way the real
// server does — versions, name addressing, content negotiation, self by
// client IP, long-poll — and, with API keys, the Rancher API's face
// (collections, the event stream, the certificate store), so the product
// can be run and tested without Rancher.
package metadataserver

import (
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"
)

// Versions the real server knows; latest is the last.
var Versions = []string{"2015-07-25", "2015-12-19", "2016-07-29"}

// Answers is {version: {"default" | client IP: tree}}.
type Answers map[string]map[string]any

// Load reads an answers document or a compact stack file (YAML or JSON).
func Load(path string) (Answers, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading answers: %w", err)
	}
	return Parse(b)
}

// Parse reads an answers document, or a stack file when the top level has
// a "stacks" key.
func Parse(b []byte) (Answers, error) {
	var raw any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("parsing answers: %w", err)
	}
	top, ok := normalize(raw).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("answers: the top level is not a map")
	}
	if _, ok := top["stacks"]; ok {
		var sf StackFile
		if err := yaml.Unmarshal(b, &sf); err != nil {
			return nil, fmt.Errorf("parsing stack file: %w", err)
		}
		return sf.Expand()
	}
	a := Answers{}
	for v, byClient := range top {
		m, ok := byClient.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("answers: version %q is not a map of client answers", v)
		}
		a[v] = m
	}
	if len(a) == 0 {
		return nil, fmt.Errorf("answers: no metadata version")
	}
	if _, ok := a["latest"]; !ok {
		// The real server answers "latest" from the ASCII-highest version
		// when the document has none.
		best := ""
		for k := range a {
			best = max(best, k)
		}
		a["latest"] = a[best]
	}
	return a, nil
}

// normalize turns YAML's maps into map[string]any all the way down.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	}
	return v
}

// StackFile is the compact form people write to test locally: stacks,
// services with labels, containers with IPs, health and state.
type StackFile struct {
	Stacks []struct {
		Name     string         `yaml:"name"`
		System   bool           `yaml:"system"`
		Services []stackService `yaml:"services"`
	} `yaml:"stacks"`
}

type stackService struct {
	Name        string            `yaml:"name"`
	Kind        string            `yaml:"kind"`
	State       string            `yaml:"state"`
	Labels      map[string]string `yaml:"labels"`
	HealthCheck bool              `yaml:"health_check"`
	Ports       []string          `yaml:"ports"`
	ExternalIPs []string          `yaml:"external_ips"`
	Hostname    string            `yaml:"hostname"`
	Containers  []stackContainer  `yaml:"containers"`
}

type stackContainer struct {
	IP          string   `yaml:"ip"`
	State       string   `yaml:"state"`
	HealthState *string  `yaml:"health_state"`
	Ports       []string `yaml:"ports"`
}
