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
	basicUsers := a.basicUsersLabel()
	hasBasic, hasDigest := a.hasBasic(), a.hasDigest()
	if hasBasic && hasDigest { // the builder dropped digest first (dropDigest)
		hasDigest = false
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

// basicUsersLabel is traefik.frontend.auth.basic.users, or else the
// deprecated traefik.frontend.auth.basic: .users wins.
func (a *v1AuthLabels) basicUsersLabel() v1Value[string] {
	if a.basicUsers.label != "" {
		return a.basicUsers
	}
	return a.basicLegacy
}

func (a *v1AuthLabels) hasBasic() bool {
	return a.basicUsersLabel().val != "" || a.basicFile.val != ""
}

func (a *v1AuthLabels) hasDigest() bool {
	return a.digestUsers.val != "" || a.digestFile.val != ""
}

// dropDigest: with basic and digest auth both set on one frontend, Traefik
// v1.7 used basic auth alone (middlewares/auth/authenticator.go,
// NewAuthenticator: "if authConfig.Basic != nil … else if
// authConfig.Digest != nil"), so do we — the frontend stays protected —
// and each digest label is dropped with a warning.
func (b *v1Builder) dropDigest() {
	a := &b.f.auth
	if !a.hasBasic() || !a.hasDigest() {
		return
	}
	for _, label := range []string{a.digestUsers.label, a.digestFile.label, a.digestRemoveHeader.label} {
		if label != "" {
			b.p.drop(label, "basic auth is set too: Traefik v1.7 used basic auth alone, and so does rancher-traefik")
		}
	}
	a.digestUsers, a.digestFile, a.digestRemoveHeader = v1Value[string]{}, v1Value[string]{}, v1Value[bool]{}
}
