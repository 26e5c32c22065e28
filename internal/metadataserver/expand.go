package metadataserver

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

func uuid(parts ...string) string {
	s := sha256.Sum256([]byte(strings.Join(parts, "/")))
	h := hex.EncodeToString(s[:16])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Expand builds every version's answers from the stack file the way
// rancher-metadata's generator (config/generator.go: applyVersionToData,
// addDefaultToAnswers, addClientToAnswers) builds them from Cattle's data:
//   - 2015-07-25 lists names in services[].containers and stacks[].services;
//     2015-12-19 and 2016-07-29 embed the objects;
//   - 2016-07-29 lower-cases stack, service and container names, and puts
//     0.0.0.0: before a container port that has no host IP;
//   - a list left empty is null (the generator's nil slice), links are a
//     null map: in text they still list with "/";
//   - every container with an IP has answers of its own under that IP, the
//     default ones plus self.container, self.service and self.stack, so
//     `self` works for a client at a container's address.
func (sf *StackFile) Expand() (Answers, error) {
	for _, st := range sf.Stacks {
		if st.Name == "" {
			return nil, fmt.Errorf("stack file: a stack has no name")
		}
		for _, sv := range st.Services {
			if sv.Name == "" {
				return nil, fmt.Errorf("stack file: a service of stack %s has no name", st.Name)
			}
		}
	}
	a := Answers{}
	for _, ver := range Versions {
		a[ver] = sf.expandVersion(ver)
	}
	a["latest"] = a[Versions[len(Versions)-1]]
	return a, nil
}

// expansion is one version's tree being built.
type expansion struct {
	ver                        string
	containers, services, stks []any
	selves                     map[string]map[string]any // by container IP
}

func (x *expansion) names() bool { return x.ver == "2015-07-25" }
func (x *expansion) lower() bool { return x.ver == "2016-07-29" }

func (x *expansion) name(s string) string {
	if x.lower() {
		return strings.ToLower(s)
	}
	return s
}

func (sf *StackFile) expandVersion(ver string) map[string]any {
	x := &expansion{ver: ver, selves: map[string]map[string]any{}}
	for _, st := range sf.Stacks {
		stack := map[string]any{"name": x.name(st.Name), "uuid": uuid(st.Name), "system": st.System, "environment_name": "Default"}
		var members []any // nil when the stack has no service, as the generator leaves it
		for i := range st.Services {
			svc := x.service(st.Name, st.System, stack, &st.Services[i])
			x.services = append(x.services, svc)
			if x.names() {
				members = append(members, svc["name"])
			} else {
				members = append(members, svc)
			}
		}
		stack["services"] = members
		x.stks = append(x.stks, stack)
	}
	sort.SliceStable(x.containers, func(i, j int) bool {
		return x.containers[i].(map[string]any)["name"].(string) < x.containers[j].(map[string]any)["name"].(string)
	})
	byClient := map[string]any{"default": map[string]any{
		"containers": x.containers, "services": x.services, "stacks": x.stks,
		"hosts": []any(nil), "networks": []any{}, "self": map[string]any{}, "version": "stack-file",
		"environment_name": "Default", "environment_uuid": uuid("environment"),
	}}
	for ip, self := range x.selves {
		byClient[ip] = map[string]any{"self": self}
	}
	return byClient
}

// service builds a service with its containers, and the self answers of
// those containers.
func (x *expansion) service(stackName string, system bool, stack map[string]any, sv *stackService) map[string]any {
	kind := cmpOr(sv.Kind, "service")
	labels := map[string]any{"io.rancher.stack_service.name": stackName + "/" + sv.Name}
	for k, v := range sv.Labels {
		labels[k] = v
	}
	var hostname any
	if sv.Hostname != "" {
		hostname = sv.Hostname
	}
	sidekicks := []any{}
	if x.lower() {
		sidekicks = nil // lower-casing an empty list leaves nil in the generator
	}
	svc := map[string]any{
		"name": x.name(sv.Name), "stack_name": x.name(stackName), "kind": kind, "state": cmpOr(sv.State, "active"),
		"labels": labels, "scale": len(sv.Containers), "external_ips": toAny(sv.ExternalIPs), "hostname": hostname,
		"ports": toAny(sv.Ports), "fqdn": nil, "vip": nil, "uuid": uuid(stackName, sv.Name), "stack_uuid": uuid(stackName),
		"system": system, "health_check": nil, "links": map[string]any(nil), "sidekicks": sidekicks,
		"primary_service_name": x.name(sv.Name),
	}
	var members []any
	for i, c := range sv.Containers {
		obj := x.container(stackName, sv, i, &c, labels, system)
		x.containers = append(x.containers, obj)
		if x.names() {
			members = append(members, obj["name"])
		} else {
			members = append(members, obj)
		}
		if _, taken := x.selves[c.IP]; c.IP != "" && !taken { // the first container with an address has it
			x.selves[c.IP] = map[string]any{"container": obj, "service": svc, "stack": stack}
		}
	}
	svc["containers"] = members
	return svc
}

func (x *expansion) container(stackName string, sv *stackService, i int, c *stackContainer, labels map[string]any, system bool) map[string]any {
	name := fmt.Sprintf("%s_%s_%d", stackName, sv.Name, i+1)
	if x.lower() {
		name = strings.ToLower(fmt.Sprintf("%s-%s-%d", stackName, sv.Name, i+1))
	}
	var health any
	if c.HealthState != nil {
		health = *c.HealthState
	} else if sv.HealthCheck {
		health = "healthy"
	}
	ports := toAny(c.Ports)
	if x.lower() {
		var withIP []any // nil when there is none, as the generator leaves it
		for _, p := range c.Ports {
			if len(strings.Split(p, ":")) != 3 {
				p = "0.0.0.0:" + p
			}
			withIP = append(withIP, p)
		}
		ports = withIP
	}
	var ips []any
	if c.IP != "" {
		ips = []any{c.IP}
	}
	return map[string]any{
		"name": name, "primary_ip": c.IP, "ips": ips, "state": cmpOr(c.State, "running"),
		"health_state": health, "service_name": x.name(sv.Name), "stack_name": x.name(stackName),
		"uuid": uuid(stackName, sv.Name, strconv.Itoa(i)), "service_uuid": uuid(stackName, sv.Name), "stack_uuid": uuid(stackName),
		"labels": labels, "ports": ports, "links": map[string]any(nil),
		"create_index": i + 1, "start_count": 1, "system": system,
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// toAny copies ss into a non-nil list (an empty list stays []).
func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func nonNil(s []any) []any {
	if s == nil {
		return []any{}
	}
	return s
}
