package cluster

import (
	"testing"

	"rancher-traefik/internal/rancher"
)

func member(name string, idx int64, state, health string) rancher.Member {
	return rancher.Member{Name: name, UUID: "uuid-" + name, PrimaryIP: "10.42.0." + name[len(name)-1:], State: state, HealthState: health, CreateIndex: idx}
}

func TestElect(t *testing.T) {
	a := member("t1", 1, "running", "healthy")
	b := member("t2", 2, "running", "healthy")
	c := member("t3", 3, "running", "")
	for _, tc := range []struct {
		name    string
		members []rancher.Member
		want    string // "" when none
	}{
		{"lowest create_index", []rancher.Member{c, b, a}, "t1"},
		{"order of the list does not matter", []rancher.Member{a, c, b}, "t1"},
		{"first stopped", []rancher.Member{member("t1", 1, "stopped", "healthy"), b, c}, "t2"},
		{"first stopping", []rancher.Member{member("t1", 1, "stopping", "healthy"), b, c}, "t2"},
		{"first unhealthy", []rancher.Member{member("t1", 1, "running", "unhealthy"), b, c}, "t2"},
		{"first updating-unhealthy", []rancher.Member{member("t1", 1, "running", "updating-unhealthy"), b, c}, "t2"},
		{"initializing counts (start-up)", []rancher.Member{member("t1", 1, "running", "initializing"), b}, "t1"},
		{"updating-running counts", []rancher.Member{member("t1", 1, "updating-running", "updating-healthy"), b}, "t1"},
		{"no primary IP", []rancher.Member{{Name: "t1", UUID: "u1", State: "running", CreateIndex: 1}, b}, "t2"},
		{"starting is not running", []rancher.Member{member("t1", 1, "starting", ""), c}, "t3"},
		{"tie broken by UUID", []rancher.Member{member("t9", 5, "running", ""), member("t8", 5, "running", "")}, "t8"},
		{"none eligible", []rancher.Member{member("t1", 1, "stopped", "")}, ""},
		{"empty", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Elect(tc.members)
			if ok != (tc.want != "") || got.Name != tc.want {
				t.Errorf("Elect = %q %v, want %q", got.Name, ok, tc.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	a := member("t1", 1, "running", "healthy")
	b := member("t2", 2, "running", "healthy")
	svc := func(me rancher.Member, global bool, scale int, ms ...rancher.Member) *rancher.Self {
		return &rancher.Self{Container: me, Service: "lb/traefik", Global: global, Scale: scale, Members: ms}
	}
	for _, tc := range []struct {
		name     string
		mode     string
		self     *rancher.Self
		cluster  bool
		issuer   bool
		role     string
		issuerIP string
	}{
		{"off", Off, svc(b, true, 0, a, b), false, true, "single host", ""},
		{"not in Rancher", Auto, nil, false, true, "single host", ""},
		{"one container", Auto, svc(a, false, 1, a), false, true, "single host", ""},
		{"one container, on", On, svc(a, false, 1, a), true, true, "issuer", "10.42.0.1"},
		{"global, first", Auto, svc(a, true, 0, a, b), true, true, "issuer", "10.42.0.1"},
		{"global, second", Auto, svc(b, true, 0, a, b), true, false, "follower of t1 (10.42.0.1)", "10.42.0.1"},
		{"scale 2 with one container yet", Auto, svc(a, false, 2, a), true, true, "issuer", "10.42.0.1"},
		{"two containers, scale unknown", Auto, svc(b, false, 0, a, b), true, false, "follower of t1 (10.42.0.1)", "10.42.0.1"},
		{"first gone", Auto, svc(b, true, 0, member("t1", 1, "stopped", ""), b), true, true, "issuer", "10.42.0.2"},
		{"self missing from the service's list", Auto, svc(b, true, 0, member("t3", 3, "running", "")), true, true, "issuer", "10.42.0.2"},
		{"none eligible", Auto, svc(member("t2", 2, "running", "unhealthy"), true, 0, member("t1", 1, "stopped", "")), true, false, "no issuer (no eligible container)", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Decide(tc.mode, tc.self)
			if r.Cluster != tc.cluster || r.IsIssuer() != tc.issuer || r.String() != tc.role || r.Issuer.PrimaryIP != tc.issuerIP {
				t.Errorf("Decide = cluster %v issuer %v %q (issuer IP %q), want %v %v %q (%q); why %q",
					r.Cluster, r.IsIssuer(), r.String(), r.Issuer.PrimaryIP, tc.cluster, tc.issuer, tc.role, tc.issuerIP, r.Why)
			}
			if r.Why == "" {
				t.Error("no reason given")
			}
		})
	}
}
