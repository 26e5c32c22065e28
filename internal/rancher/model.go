// Package rancher reads Rancher 1.x: the metadata service (long-poll on
// /version, one consistent snapshot of the tree) and the API (its event
// stream, the certificate store) decoded into one small model that every
// metadata version's shape and nulls fit.
package rancher

import (
	"encoding/json"
	"fmt"
)

// Snapshot is every service with its containers, at one metadata version.
type Snapshot struct {
	Version  string
	Services []Service
}

// Service is a Rancher service.
type Service struct {
	Name  string
	Stack string
	// Environment is the stack's environment (its environment_name in
	// the metadata), "" when the source does not say.
	Environment string
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
