package routes

import (
	"strconv"
	"strings"

	"rancher-traefik/internal/rancher"
)

// Exclusion says why Build leaves s out before reading its routing labels
// (the checks of Build and service, in their order), or "" when Build
// translates it. For rancher-traefik explain; TestExclusionAgreesWithBuild
// holds it to Build.
func Exclusion(s *rancher.Service, o Options) string {
	if s.System && !o.IncludeSystem {
		return "a service of a system stack (TRAEFIK_RANCHER_SYSTEM is false)"
	}
	switch s.Kind {
	case "service", "externalService":
	default:
		return "a " + s.Kind + " has no backends of its own"
	}
	v, ok := s.Labels["traefik.enable"]
	switch {
	case !ok && !o.ExposedByDefault:
		return "no traefik.enable label, and TRAEFIK_RANCHER_EXPOSED is false"
	case ok && !(isRawmind(s.Labels) && strings.EqualFold(strings.TrimSpace(v), "stack")):
		if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil && !b {
			return "traefik.enable is false"
		}
	}
	if !o.Constraints.Allow(s) {
		return "TRAEFIK_RANCHER_CONSTRAINTS leave it out (its traefik.tags)"
	}
	return ""
}

// Dialect names the label dialect(s) Build reads s's labels in (see
// dialects.go and rawmind.go): "v2", "v1 + v2 middlewares", "rawmind0" or
// "v1".
func Dialect(labels map[string]string) string {
	v1, v2, v2Routes := dialectLabels(labels)
	switch {
	case v2 && (v2Routes || len(v1) == 0):
		return "v2"
	case v2:
		return "v1 + v2 middlewares"
	case isRawmind(labels):
		return "rawmind0"
	}
	return "v1"
}
