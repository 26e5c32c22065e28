package routes

import (
	"path/filepath"
	"strings"
)

// v1AuthKeys are the traefik.frontend.auth.* keys (lower case) Traefik v1.7
// read from Docker and Rancher labels (docs/configuration/backends/docker.md
// of v1.7, "On containers"), forward auth aside.
var v1AuthKeys = []string{
	"frontend.auth.basic", "frontend.auth.basic.users", "frontend.auth.basic.usersfile", "frontend.auth.basic.removeheader", "frontend.auth.basic.realm",
	"frontend.auth.digest.users", "frontend.auth.digest.usersfile", "frontend.auth.digest.removeheader",
	"frontend.auth.headerfield", "frontend.auth.removeheader",
}

func init() {
	for _, k := range v1AuthKeys {
		v1Keys[k] = true
	}
}

// v1Auth translates traefik.frontend.auth.*: a basicAuth or digestAuth
// middleware, or none. Users are checked here, with the label that gave
// them; extractCredentials then moves them to a file of their own.
func v1Auth(f v1Frontend, o Options) (kind string, settings map[string]any, err error) {
	type src struct{ users, usersLabel, file, fileLabel string }
	var basic, digest src
	for _, k := range []string{"frontend.auth.basic", "frontend.auth.basic.users"} { // .users wins
		if label, v, ok := f.get(k); ok {
			basic.users, basic.usersLabel = v, label
		}
	}
	basic.fileLabel, basic.file, _ = f.get("frontend.auth.basic.usersfile")
	digest.usersLabel, digest.users, _ = f.get("frontend.auth.digest.users")
	digest.fileLabel, digest.file, _ = f.get("frontend.auth.digest.usersfile")

	hasBasic := basic.users != "" || basic.file != ""
	hasDigest := digest.users != "" || digest.file != ""
	if hasBasic && hasDigest {
		label := digest.usersLabel
		if label == "" {
			label = digest.fileLabel
		}
		return "", nil, errLabel(label, "basic and digest auth are both set: choose one")
	}
	s, digestOn := basic, false
	kind, prefix := "basicAuth", "frontend.auth.basic."
	if hasDigest {
		s, digestOn = digest, true
		kind, prefix = "digestAuth", "frontend.auth.digest."
	}
	if !hasBasic && !hasDigest {
		return "", nil, nil
	}
	settings = map[string]any{}
	if s.file != "" {
		if s.users != "" {
			return "", nil, errLabel(s.fileLabel, "set users or usersFile, not both: rancher-traefik writes users to a file of its own")
		}
		if err := checkUsersFile(s.fileLabel, s.file, o); err != nil {
			return "", nil, err
		}
		settings["usersFile"] = s.file
	} else {
		list, _ := convert(kindList, s.users)
		if err := checkUsers(s.usersLabel, list.([]string), digestOn); err != nil {
			return "", nil, err
		}
		settings["users"] = list
	}
	for _, k := range []string{"frontend.auth.removeheader", prefix + "removeheader"} { // the specific one wins
		if label, v, ok := f.get(k); ok {
			b, err := convert(kindBool, v)
			if err != nil {
				return "", nil, errLabel(label, "%v", err)
			}
			settings["removeHeader"] = b
		}
	}
	if _, v, ok := f.get("frontend.auth.headerfield"); ok && strings.TrimSpace(v) != "" {
		settings["headerField"] = strings.TrimSpace(v)
	}
	if _, v, ok := f.get("frontend.auth.basic.realm"); ok && !digestOn {
		settings["realm"] = v
	}
	return kind, settings, nil
}

// checkUsersFile wants an absolute path outside rancher-traefik's
// credential directory: another service's users are not to be borrowed,
// and Traefik prints the lines it cannot parse in its log.
func checkUsersFile(label, path string, o Options) error {
	if !filepath.IsAbs(path) {
		return errLabel(label, "is not an absolute path")
	}
	if o.CredentialDir == "" {
		return nil
	}
	rel, err := filepath.Rel(o.CredentialDir, filepath.Clean(path))
	if err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
		return errLabel(label, "names a file in rancher-traefik's own credential directory %s", o.CredentialDir)
	}
	return nil
}
