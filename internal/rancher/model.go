// Package rancher reads Rancher 1.x: the metadata service (long-poll on
// /version, one consistent snapshot of the tree) decoded into a small model
// that every metadata version's shape and nulls fit.
package rancher

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Snapshot is every service with its containers, at one metadata version.
type Snapshot struct {
	Version  string
	Services []Service
}

// Service is a Rancher service.
type Service struct {
	Name        string
	Stack       string
	Kind        string // service, externalService, dnsService, loadBalancerService, …
	State       string // active, updating-active, … ("" when the version has none)
	Hostname    string
	UUID        string
	System      bool
	Labels      map[string]string
	Ports       []string
	ExternalIPs []string
	Containers  []Container
}

// Container is one container of a service.
type Container struct {
	Name        string
	PrimaryIP   string
	State       string // running, stopped, … ("" when the version has none)
	HealthState string // "" without a health check
	UUID        string
	Ports       []string
}

// Key names the service uniquely: stack/service.
func (s *Service) Key() string { return s.Stack + "/" + s.Name }

// ServingStates are container states that get traffic. "" is an old
// metadata version that does not report states.
var ServingStates = map[string]bool{"running": true, "updating-running": true, "upgraded": true, "": true}

// HealthyStates are health states that get traffic; "" means no health
// check, and such containers get traffic. Matched exactly: "unhealthy"
// contains "healthy".
var HealthyStates = map[string]bool{"": true, "healthy": true, "updating-healthy": true}

// ActiveServiceStates are the service states the optional service filter
// (TRAEFIK_RANCHER_HEALTHCHECK) lets through.
var ActiveServiceStates = map[string]bool{"active": true, "updating-active": true, "upgraded": true, "upgrading": true, "": true}

// Eligible reports whether the container should receive traffic.
func (c *Container) Eligible() bool {
	return c.PrimaryIP != "" && ServingStates[c.State] && HealthyStates[c.HealthState]
}

// The wire shapes. Every field may be null; containers and services may be
// embedded objects or lists of names depending on the metadata version.
type (
	wireRoot struct {
		Version json.RawMessage `json:"version"`
		// Services is null, not [], in an environment without any (the
		// real generator leaves the list nil): absent means truncated.
		Services   json.RawMessage   `json:"services"`
		Containers []json.RawMessage `json:"containers"`
		Stacks     []json.RawMessage `json:"stacks"`
	}
	wireStack struct {
		Name     *string           `json:"name"`
		System   *bool             `json:"system"`
		Services []json.RawMessage `json:"services"`
	}
	wireService struct {
		Name        *string           `json:"name"`
		StackName   *string           `json:"stack_name"`
		Kind        *string           `json:"kind"`
		State       *string           `json:"state"`
		Hostname    *string           `json:"hostname"`
		UUID        *string           `json:"uuid"`
		System      *bool             `json:"system"`
		Labels      map[string]any    `json:"labels"`
		Ports       []*string         `json:"ports"`
		ExternalIPs []*string         `json:"external_ips"`
		Containers  []json.RawMessage `json:"containers"`
	}
	wireContainer struct {
		Name        *string   `json:"name"`
		PrimaryIP   *string   `json:"primary_ip"`
		State       *string   `json:"state"`
		HealthState *string   `json:"health_state"`
		UUID        *string   `json:"uuid"`
		ServiceName *string   `json:"service_name"`
		StackName   *string   `json:"stack_name"`
		Ports       []*string `json:"ports"`
	}
)

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func strs(ps []*string) []string {
	var out []string
	for _, p := range ps {
		if p != nil && *p != "" {
			out = append(out, *p)
		}
	}
	return out
}

// labels keeps string labels and renders other scalars (a label is a string
// in Rancher, but the decoder must not fail on anything else).
func labels(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case nil:
			out[k] = ""
		case string:
			out[k] = x
		case bool, float64:
			out[k] = fmt.Sprint(x)
		default:
			b, _ := json.Marshal(x)
			out[k] = string(b)
		}
	}
	return out
}

// isName reports whether raw is a JSON string (a name reference), and which.
func isName(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	return "", false
}

// Decode reads the JSON of a metadata version's root (GET /<version> with
// Accept: application/json) into a Snapshot. An answer without a version or
// without a services list is reported as truncated: the caller keeps its
// last good routes.
func Decode(b []byte) (*Snapshot, error) {
	var root wireRoot
	if err := json.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("decoding metadata: %w", err)
	}
	var version string
	if err := json.Unmarshal(root.Version, &version); err != nil || version == "" {
		return nil, fmt.Errorf("metadata answer has no version: truncated or not a metadata tree")
	}
	if root.Services == nil {
		return nil, fmt.Errorf("metadata answer has no services list: truncated")
	}
	var services []json.RawMessage
	if err := json.Unmarshal(root.Services, &services); err != nil {
		return nil, fmt.Errorf("decoding metadata services: %w", err)
	}
	containers := map[string]wireContainer{} // by name, for name-list versions
	byService := map[string][]wireContainer{}
	for _, raw := range root.Containers {
		var c wireContainer
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("decoding container: %w", err)
		}
		containers[str(c.Name)] = c
		if c.ServiceName != nil {
			k := strings.ToLower(str(c.StackName) + "/" + str(c.ServiceName))
			byService[k] = append(byService[k], c)
		}
	}
	systemStacks := map[string]bool{}
	for _, raw := range root.Stacks {
		var st wireStack
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, fmt.Errorf("decoding stack: %w", err)
		}
		if st.System != nil && *st.System {
			systemStacks[str(st.Name)] = true
		}
	}
	snap := &Snapshot{Version: version}
	for _, raw := range services {
		var ws wireService
		if err := json.Unmarshal(raw, &ws); err != nil {
			return nil, fmt.Errorf("decoding service: %w", err)
		}
		s := Service{
			Name: str(ws.Name), Stack: str(ws.StackName), Kind: str(ws.Kind), State: str(ws.State),
			Hostname: str(ws.Hostname), UUID: str(ws.UUID), Labels: labels(ws.Labels),
			Ports: strs(ws.Ports), ExternalIPs: strs(ws.ExternalIPs),
			System: (ws.System != nil && *ws.System) || systemStacks[str(ws.StackName)],
		}
		if s.Kind == "" {
			s.Kind = "service"
		}
		var wcs []wireContainer
		switch {
		case ws.Containers == nil:
			wcs = byService[strings.ToLower(s.Key())]
		default:
			for _, raw := range ws.Containers {
				if name, ok := isName(raw); ok {
					if c, ok := containers[name]; ok {
						wcs = append(wcs, c)
					}
					continue
				}
				var c wireContainer
				if err := json.Unmarshal(raw, &c); err != nil {
					return nil, fmt.Errorf("decoding container of %s: %w", s.Key(), err)
				}
				wcs = append(wcs, c)
			}
		}
		for _, c := range wcs {
			s.Containers = append(s.Containers, Container{
				Name: str(c.Name), PrimaryIP: str(c.PrimaryIP), State: str(c.State),
				HealthState: str(c.HealthState), UUID: str(c.UUID), Ports: strs(c.Ports),
			})
		}
		sort.Slice(s.Containers, func(i, j int) bool { return s.Containers[i].Name < s.Containers[j].Name })
		snap.Services = append(snap.Services, s)
	}
	sort.Slice(snap.Services, func(i, j int) bool { return snap.Services[i].Key() < snap.Services[j].Key() })
	return snap, nil
}
