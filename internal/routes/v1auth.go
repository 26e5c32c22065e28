package routes

import (
	"path/filepath"
	"strings"
)

// v1Auth builds traefik.frontend.auth.* (Traefik v1.7's labels for Docker
// and Rancher, docs/configuration/backends/docker.md "On containers",
// forward auth aside): a basicAuth or digestAuth middleware, or none.
// Users are checked here, with the label that gave them; extractCredentials
// then moves them to a file of their own.
func v1Auth(a *v1AuthLabels, o Options) (*userAuth, error) {
	basicUsers := a.basicLegacy
	if a.basicUsers.label != "" { // .users wins over the deprecated basic
		basicUsers = a.basicUsers
	}
	hasBasic := basicUsers.val != "" || a.basicFile.val != ""
	hasDigest := a.digestUsers.val != "" || a.digestFile.val != ""
	if hasBasic && hasDigest {
		label := a.digestUsers.label
		if label == "" {
			label = a.digestFile.label
		}
		return nil, errLabel(label, "basic and digest auth are both set: choose one")
	}
	if !hasBasic && !hasDigest {
		return nil, nil
	}
	users, file, specific := basicUsers, a.basicFile, a.basicRemoveHeader
	if hasDigest {
		users, file, specific = a.digestUsers, a.digestFile, a.digestRemoveHeader
	}
	m := &userAuth{digest: hasDigest}
	if err := v1AuthUsers(m, users, file, o); err != nil {
		return nil, err
	}
	for _, v := range []v1Value[bool]{a.removeHeader, specific} { // the specific one wins
		if v.err != nil {
			return nil, v.err
		}
		if v.label != "" {
			m.removeHeader = some(v.val)
		}
	}
	if h := strings.TrimSpace(a.headerField.val); h != "" {
		m.headerField = h
	}
	if a.realm.label != "" && !hasDigest {
		m.realm = some(a.realm.val)
	}
	return m, nil
}

// v1AuthUsers sets the users, or the users file, of m.
func v1AuthUsers(m *userAuth, users, file v1Value[string], o Options) error {
	if file.val != "" {
		if users.val != "" {
			return errLabel(file.label, "set users or usersFile, not both: rancher-traefik writes users to a file of its own")
		}
		if err := checkUsersFile(file.label, file.val, o); err != nil {
			return err
		}
		m.usersFile = file.val
		return nil
	}
	list, _ := convert(kindList, users.val)
	if err := checkUsers(users.label, list.([]string), m.digest); err != nil {
		return err
	}
	m.users = list.([]string)
	return nil
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
