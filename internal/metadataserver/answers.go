// Package metadataserver emulates Rancher 1.x's metadata service: it serves
// an answers document (or a compact stack file it expands) the way the real
// server does — versions, name addressing, content negotiation, self by
// client IP, long-poll — so the product can be run and tested without Rancher.
package metadataserver

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

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
	if _, ok := a["latest"]; !ok {
		for i := len(Versions) - 1; i >= 0; i-- {
			if t, ok := a[Versions[i]]; ok {
				a["latest"] = t
				break
			}
		}
	}
	if len(a) == 0 {
		return nil, fmt.Errorf("answers: no metadata version")
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
		Name     string `yaml:"name"`
		System   bool   `yaml:"system"`
		Services []struct {
			Name        string            `yaml:"name"`
			Kind        string            `yaml:"kind"`
			State       string            `yaml:"state"`
			Labels      map[string]string `yaml:"labels"`
			HealthCheck bool              `yaml:"health_check"`
			Ports       []string          `yaml:"ports"`
			ExternalIPs []string          `yaml:"external_ips"`
			Hostname    string            `yaml:"hostname"`
			Containers  []struct {
				IP          string   `yaml:"ip"`
				State       string   `yaml:"state"`
				HealthState *string  `yaml:"health_state"`
				Ports       []string `yaml:"ports"`
			} `yaml:"containers"`
		} `yaml:"services"`
	} `yaml:"stacks"`
}

func uuid(parts ...string) string {
	s := sha256.Sum256([]byte(strings.Join(parts, "/")))
	h := hex.EncodeToString(s[:16])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Expand builds the full answers tree for every version from the stack file.
func (sf *StackFile) Expand() (Answers, error) {
	a := Answers{}
	for _, ver := range Versions {
		lower := ver == "2016-07-29"
		names := ver == "2015-12-19" // that version lists names (as the fixtures show)
		name := func(s string) string {
			if lower {
				return strings.ToLower(s)
			}
			return s
		}
		var containers, services, stacks []any
		for _, st := range sf.Stacks {
			if st.Name == "" {
				return nil, fmt.Errorf("stack file: a stack has no name")
			}
			var stackServices []any
			for _, sv := range st.Services {
				if sv.Name == "" {
					return nil, fmt.Errorf("stack file: a service of stack %s has no name", st.Name)
				}
				kind := sv.Kind
				if kind == "" {
					kind = "service"
				}
				state := sv.State
				if state == "" {
					state = "active"
				}
				labels := map[string]any{"io.rancher.stack_service.name": st.Name + "/" + sv.Name}
				for k, v := range sv.Labels {
					labels[k] = v
				}
				var svcContainers []any
				for i, c := range sv.Containers {
					cname := fmt.Sprintf("%s_%s_%d", st.Name, sv.Name, i+1)
					if lower {
						cname = strings.ToLower(fmt.Sprintf("%s-%s-%d", st.Name, sv.Name, i+1))
					}
					var health any
					if c.HealthState != nil {
						health = *c.HealthState
					} else if sv.HealthCheck {
						health = "healthy"
					}
					cstate := c.State
					if cstate == "" {
						cstate = "running"
					}
					ports := make([]any, 0, len(c.Ports))
					for _, p := range c.Ports {
						if lower && !strings.Contains(p, ":") {
							p = "0.0.0.0:" + p
						}
						ports = append(ports, p)
					}
					obj := map[string]any{
						"name": cname, "primary_ip": c.IP, "ips": []any{c.IP}, "state": cstate,
						"health_state": health, "service_name": name(sv.Name), "stack_name": name(st.Name),
						"uuid": uuid(st.Name, sv.Name, strconv.Itoa(i)), "labels": labels, "ports": ports,
						"create_index": i + 1, "start_count": 1, "system": st.System,
					}
					containers = append(containers, obj)
					if names {
						svcContainers = append(svcContainers, cname)
					} else {
						svcContainers = append(svcContainers, obj)
					}
				}
				ext := make([]any, 0, len(sv.ExternalIPs))
				for _, ip := range sv.ExternalIPs {
					ext = append(ext, ip)
				}
				ports := make([]any, 0, len(sv.Ports))
				for _, p := range sv.Ports {
					ports = append(ports, p)
				}
				var hostname any
				if sv.Hostname != "" {
					hostname = sv.Hostname
				}
				svc := map[string]any{
					"name": name(sv.Name), "stack_name": name(st.Name), "kind": kind, "state": state,
					"labels": labels, "containers": svcContainers, "scale": len(sv.Containers),
					"external_ips": ext, "hostname": hostname, "ports": ports, "fqdn": nil, "vip": nil,
					"uuid": uuid(st.Name, sv.Name), "system": st.System, "health_check": nil,
				}
				services = append(services, svc)
				if names {
					stackServices = append(stackServices, name(sv.Name))
				} else {
					stackServices = append(stackServices, svc)
				}
			}
			stacks = append(stacks, map[string]any{"name": name(st.Name), "uuid": uuid(st.Name), "services": stackServices, "system": st.System, "environment_name": "Default"})
		}
		sort.SliceStable(containers, func(i, j int) bool {
			return containers[i].(map[string]any)["name"].(string) < containers[j].(map[string]any)["name"].(string)
		})
		a[ver] = map[string]any{"default": map[string]any{
			"containers": nonNil(containers), "services": nonNil(services), "stacks": nonNil(stacks),
			"hosts": []any{}, "self": map[string]any{}, "version": "stack-file",
			"environment_name": "Default", "environment_uuid": uuid("environment"),
		}}
	}
	a["latest"] = a[Versions[len(Versions)-1]]
	return a, nil
}

func nonNil(s []any) []any {
	if s == nil {
		return []any{}
	}
	return s
}
