// Package cluster chooses, from Rancher's state alone, which instance of
// rancher-traefik's own service runs the ACME resolver (the issuer). Every
// instance reads the same metadata and applies the same rule, so they agree
// without talking to each other; Elect and Decide are pure.
package cluster

import (
	"cmp"
	"fmt"
	"slices"

	"rancher-traefik/internal/rancher"
)

// Modes of TRAEFIK_ACME_CLUSTER.
const (
	// Auto: cluster mode when our own service can have more than one
	// container (global, scale above 1, or more than one container now).
	Auto = "auto"
	// On: cluster mode even with one container.
	On = "on"
	// Off: every instance runs its own resolver (single host).
	Off = "off"
)

// Role is one instance's part in the environment's ACME.
type Role struct {
	// Cluster: the choice applies; false is the single-host behaviour (this
	// instance runs the resolver).
	Cluster bool
	// Self is this instance's container.
	Self rancher.Member
	// Issuer is the chosen container; its zero value when none is eligible.
	Issuer rancher.Member
	// Why explains the mode, for the log.
	Why string
}

// IsIssuer reports whether this instance runs the ACME resolver.
func (r Role) IsIssuer() bool {
	return !r.Cluster || (r.Issuer.UUID != "" && r.Issuer.UUID == r.Self.UUID)
}

// HasIssuer reports whether some instance runs the resolver.
func (r Role) HasIssuer() bool { return !r.Cluster || r.Issuer.UUID != "" }

// String is the role as logged.
func (r Role) String() string {
	switch {
	case !r.Cluster:
		return "single host"
	case r.IsIssuer():
		return "issuer"
	case r.HasIssuer():
		return "follower of " + r.Issuer.Name + " (" + r.Issuer.PrimaryIP + ")"
	}
	return "no issuer (no eligible container)"
}

// runningStates are the container states that can issue: running, and
// running through an upgrade.
var runningStates = map[string]bool{"running": true, "updating-running": true}

// issuingHealth are the health states that can issue: no health check,
// healthy, and the initializing states — at start every container of a
// service with a health check is initializing until Traefik answers it,
// and excluding them would leave no issuer, then switch as each turns
// healthy. An unhealthy container is out.
var issuingHealth = map[string]bool{"": true, "healthy": true, "updating-healthy": true, "initializing": true, "reinitializing": true}

// Eligible reports whether m may be the issuer: running, not unhealthy, and
// reachable (a primary IP on Rancher's managed network).
func Eligible(m rancher.Member) bool {
	return m.PrimaryIP != "" && m.UUID != "" && runningStates[m.State] && issuingHealth[m.HealthState]
}

// Elect returns the eligible member created first (lowest create_index;
// the UUID breaks a tie, which Rancher does not produce), and false when
// none is eligible. A container keeps its create_index for its life, so
// the issuer changes only when it goes away (stopped, removed, unhealthy),
// or when an older one comes back.
func Elect(members []rancher.Member) (rancher.Member, bool) {
	var best rancher.Member
	found := false
	for _, m := range members {
		if !Eligible(m) {
			continue
		}
		if !found || cmp.Or(cmp.Compare(m.CreateIndex, best.CreateIndex), cmp.Compare(m.UUID, best.UUID)) < 0 {
			best, found = m, true
		}
	}
	return best, found
}

// Decide is this instance's role under mode (auto, on, off) given what
// the metadata says of itself and its service. A nil self (no metadata
// answers for this address: not in Rancher) is the single-host behaviour.
func Decide(mode string, self *rancher.Self) Role {
	if mode == Off {
		return Role{Why: "TRAEFIK_ACME_CLUSTER=off"}
	}
	if self == nil {
		return Role{Why: "no metadata about this container (not running in Rancher)"}
	}
	r := Role{Self: self.Container}
	switch {
	case mode == On:
		r.Cluster, r.Why = true, "TRAEFIK_ACME_CLUSTER=on"
	case self.Global:
		r.Cluster, r.Why = true, fmt.Sprintf("service %s is global (%s=true)", self.Service, rancher.GlobalLabel)
	case self.Scale > 1:
		r.Cluster, r.Why = true, fmt.Sprintf("service %s has scale %d", self.Service, self.Scale)
	case len(self.Members) > 1:
		r.Cluster, r.Why = true, fmt.Sprintf("service %s has %d containers", self.Service, len(self.Members))
	default:
		r.Why = fmt.Sprintf("service %s has one container", self.Service)
		return r
	}
	members := self.Members
	if !slices.ContainsFunc(members, func(m rancher.Member) bool { return m.UUID == self.Container.UUID }) {
		// /self/container and /self/service read at two instants: our
		// own container counts even if the service's list lags.
		members = append(slices.Clone(members), self.Container)
	}
	r.Issuer, _ = Elect(members)
	return r
}
