package metadataserver

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The API face's certificates collection: what Rancher 1.6 keeps per
// environment under Infrastructure → Certificates, in its database rather
// than in the metadata answers, so it lives here, in memory, across
// reloads of the answers.
//
// Followed: cattle's schema (resources/content/schema/base/certificate.json:
// cert and key required, CN, subjectAlternativeNames, expiresAt, issuer,
// issuedAt, certFingerprint, algorithm, keySize, serialNumber, version
// read-only; name unique), its authorization overlays (user-auth.json:
// "certificate.key": "curo", read on create only, for the environment and
// member roles; projectadmin-auth.json: "certificate.key": "cur", readable,
// for the environmentAdmin agent role), and go-rancher v2's client
// (generated_certificate.go: POST to the collection, PUT and DELETE on the
// resource's self link, list filters name and removed_null), which
// janeczku/rancher-letsencrypt (rancher/certificate.go) and
// rancher/lb-controller (controller/rancher/certificate_fetcher.go) use.
//
// The emulator stores what it is given: Rancher checks an upload, but a
// store entry can still go bad (a chain edited later, a pair from an older
// server), and the reader's handling of one is what tests exercise.

// certStore holds the certificates; ids are 1c1, 1c2, … in creation order.
type certStore struct {
	mu      sync.Mutex
	n       int
	seq     int           // bumped on every write
	items   []*certItem   // creation order
	changed chan struct{} // closed and replaced on every write
	byID    map[string]*certItem
}

type certItem struct {
	seq    int // the store's seq at this item's last write
	fields map[string]any
}

func (c *certStore) init() {
	if c.byID == nil {
		c.byID = map[string]*certItem{}
		c.changed = make(chan struct{})
	}
}

// watch returns the current write sequence and a channel closed at the next write.
func (c *certStore) watch() (int, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	return c.seq, c.changed
}

// since are the items written after seq, in id order (copies), with the
// sequence they bring it to and a channel closed at the next write: read
// together, no write falls between.
func (c *certStore) since(seq int) ([]map[string]any, int, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	var out []map[string]any
	for _, it := range c.items {
		if it.seq > seq {
			out = append(out, clone(it.fields))
		}
	}
	return out, c.seq, c.changed
}

func (c *certStore) bumpLocked(it *certItem) {
	c.seq++
	it.seq = c.seq
	close(c.changed)
	c.changed = make(chan struct{})
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// certInput is what a POST or PUT may set (the "cru" fields).
type certInput struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Cert        *string `json:"cert"`
	CertChain   *string `json:"certChain"`
	Key         *string `json:"key"`
}

// derive fills the read-only fields from the certificate's PEM, as Rancher
// does on upload (empty when it does not parse).
func derive(m map[string]any) {
	for _, k := range []string{"CN", "subjectAlternativeNames", "expiresAt", "issuedAt", "issuer", "certFingerprint", "algorithm", "keySize", "serialNumber", "version"} {
		delete(m, k)
	}
	pemText, _ := m["cert"].(string)
	b, _ := pem.Decode([]byte(pemText))
	if b == nil {
		return
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return
	}
	sum := sha1.Sum(c.Raw) // Rancher shows a SHA-1 fingerprint: display only
	var fp []string
	for _, x := range sum {
		fp = append(fp, strings.ToUpper(hex.EncodeToString([]byte{x})))
	}
	sans := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		sans = append(sans, ip.String())
	}
	keySize := 0
	if k, ok := c.PublicKey.(interface{ Size() int }); ok {
		keySize = k.Size() * 8
	}
	m["CN"], m["subjectAlternativeNames"] = c.Subject.CommonName, sans
	m["expiresAt"], m["issuedAt"] = c.NotAfter.UTC().Format(time.RFC3339), c.NotBefore.UTC().Format(time.RFC3339)
	m["issuer"], m["certFingerprint"] = c.Issuer.CommonName, strings.Join(fp, ":")
	m["algorithm"], m["keySize"] = c.SignatureAlgorithm.String(), keySize
	m["serialNumber"], m["version"] = c.SerialNumber.String(), strconv.Itoa(c.Version)
}

// create adds a certificate; it fails like Rancher on a missing required
// field or a name already taken by a certificate that is not removed.
func (c *certStore) create(in certInput) (map[string]any, int, string, string) {
	for _, f := range []struct {
		name string
		v    *string
	}{{"name", in.Name}, {"cert", in.Cert}, {"key", in.Key}} {
		if f.v == nil || *f.v == "" {
			return nil, http.StatusUnprocessableEntity, "MissingRequired", f.name
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	if c.takenLocked(*in.Name, "") {
		return nil, http.StatusUnprocessableEntity, "NotUnique", "name"
	}
	c.n++
	id := "1c" + strconv.Itoa(c.n)
	now := time.Now().UTC()
	m := map[string]any{
		"id": id, "type": "certificate", "baseType": "certificate", "kind": "certificate", "accountId": "1a5",
		"uuid":  fmt.Sprintf("%08x-0000-4000-8000-%012x", c.n, now.UnixNano()&0xffffffffffff),
		"state": "active", "transitioning": "no", "transitioningMessage": nil, "transitioningProgress": nil,
		"created": now.Format(time.RFC3339), "createdTS": now.UnixMilli(), "removed": nil, "removeTime": nil,
		"name": *in.Name, "description": nil, "cert": *in.Cert, "certChain": nil, "key": *in.Key, "data": map[string]any{},
	}
	if in.Description != nil {
		m["description"] = *in.Description
	}
	if in.CertChain != nil && *in.CertChain != "" {
		m["certChain"] = *in.CertChain
	}
	derive(m)
	it := &certItem{fields: m}
	c.items = append(c.items, it)
	c.byID[id] = it
	c.bumpLocked(it)
	return clone(m), http.StatusCreated, "", ""
}

func (c *certStore) takenLocked(name, except string) bool {
	for _, it := range c.items {
		if it.fields["id"] != except && it.fields["name"] == name && it.fields["removed"] == nil {
			return true
		}
	}
	return false
}

// update sets the given fields of a certificate that is not removed.
func (c *certStore) update(id string, in certInput) (map[string]any, int, string, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	it := c.byID[id]
	if it == nil {
		return nil, http.StatusNotFound, "NotFound", ""
	}
	if it.fields["removed"] != nil {
		return nil, http.StatusConflict, "InvalidState", "the certificate is removed"
	}
	if in.Name != nil && c.takenLocked(*in.Name, id) {
		return nil, http.StatusUnprocessableEntity, "NotUnique", "name"
	}
	for k, v := range map[string]*string{"name": in.Name, "description": in.Description, "cert": in.Cert, "certChain": in.CertChain, "key": in.Key} {
		if v != nil {
			it.fields[k] = *v
		}
	}
	derive(it.fields)
	c.bumpLocked(it)
	return clone(it.fields), http.StatusOK, "", ""
}

// remove marks a certificate removed: Rancher keeps a removed resource
// (state removed, a removed date) in its lists until it is purged, which
// is why clients filter on removed_null.
func (c *certStore) remove(id string) (map[string]any, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	it := c.byID[id]
	if it == nil {
		return nil, http.StatusNotFound
	}
	if it.fields["removed"] == nil {
		now := time.Now().UTC()
		it.fields["state"], it.fields["removed"], it.fields["removeTime"] = "removed", now.Format(time.RFC3339), now.Format(time.RFC3339)
		c.bumpLocked(it)
	}
	return clone(it.fields), http.StatusOK
}

// list is every certificate matching the query's filters (name, id,
// removed_null), in id order.
func (c *certStore) list(q map[string][]string) []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []map[string]any{}
	for _, it := range c.items {
		m := it.fields
		if v, ok := q["name"]; ok && m["name"] != v[0] {
			continue
		}
		if v, ok := q["id"]; ok && m["id"] != v[0] {
			continue
		}
		if _, ok := q["removed_null"]; ok && m["removed"] != nil {
			continue
		}
		out = append(out, clone(m))
	}
	sort.SliceStable(out, func(i, j int) bool { return idNumber(out[i]) < idNumber(out[j]) })
	return out
}

func (c *certStore) get(id string) map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	if it := c.byID[id]; it != nil {
		return clone(it.fields)
	}
	return nil
}

func idNumber(m map[string]any) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(str(m, "id"), "1c"))
	return n
}

// certView is a certificate as this key sees it: with the key field only
// for a key that may read it (or in the answer to its own create), and its
// links and actions.
func (s *Server) certView(m map[string]any, base string, showKey bool) map[string]any {
	if !showKey {
		delete(m, "key")
	}
	self := base + "/certificates/" + str(m, "id")
	m["links"] = map[string]any{"self": self, "account": base + "/accounts/1a5"}
	m["actions"] = map[string]any{}
	if m["removed"] == nil {
		m["actions"] = map[string]any{"update": self + "?action=update", "remove": self + "?action=remove"}
	}
	return m
}

// serveCertificates answers …/certificates and …/certificates/<id>.
func (s *Server) serveCertificates(w http.ResponseWriter, r *http.Request, base string, id string) {
	showKey := !s.API.CertKeysHidden
	switch {
	case id == "" && r.Method == http.MethodGet:
		items := s.certs.list(r.URL.Query())
		for i, m := range items {
			items[i] = s.certView(m, base, showKey)
		}
		s.writeCollection(w, r, items, "certificate")
	case id == "" && r.Method == http.MethodPost:
		var in certInput
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
			apiError(w, http.StatusUnprocessableEntity, "InvalidBodyContent", "the body is not a JSON certificate")
			return
		}
		m, status, code, field := s.certs.create(in)
		if m == nil {
			apiFieldError(w, status, code, field)
			return
		}
		writeResource(w, status, s.certView(m, base, true)) // readOnCreate: the creator sees the key once
	case id != "" && r.Method == http.MethodGet:
		m := s.certs.get(id)
		if m == nil {
			apiError(w, http.StatusNotFound, "NotFound", "Not Found")
			return
		}
		writeResource(w, http.StatusOK, s.certView(m, base, showKey))
	case id != "" && r.Method == http.MethodPut:
		var in certInput
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
			apiError(w, http.StatusUnprocessableEntity, "InvalidBodyContent", "the body is not a JSON certificate")
			return
		}
		m, status, code, field := s.certs.update(id, in)
		if m == nil {
			apiFieldError(w, status, code, field)
			return
		}
		writeResource(w, status, s.certView(m, base, showKey))
	case id != "" && r.Method == http.MethodDelete:
		m, status := s.certs.remove(id)
		if m == nil {
			apiError(w, status, "NotFound", "Not Found")
			return
		}
		writeResource(w, status, s.certView(m, base, showKey))
	default:
		w.Header().Set("Allow", "GET, POST, PUT, DELETE")
		apiError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "Method not allowed")
	}
}

func apiFieldError(w http.ResponseWriter, status int, code, field string) {
	if status == http.StatusNotFound {
		apiError(w, status, "NotFound", "Not Found")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"id": code, "type": "error", "baseType": "error", "status": status, "code": code, "message": nil, "detail": nil, "fieldName": field})
}

func writeResource(w http.ResponseWriter, status int, m map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(m)
}

// PutCertificate creates or replaces the certificate name in the store, as
// an upload through Rancher's UI would (tests and the development tools
// use it; clients go through the API).
func (s *Server) PutCertificate(name, cert, chain, key string) string {
	for _, m := range s.certs.list(map[string][]string{"name": {name}, "removed_null": {""}}) {
		s.certs.update(str(m, "id"), certInput{Cert: &cert, CertChain: &chain, Key: &key})
		return str(m, "id")
	}
	m, _, _, _ := s.certs.create(certInput{Name: &name, Cert: &cert, CertChain: &chain, Key: &key})
	return str(m, "id")
}

// RemoveCertificate marks the certificate name removed; it reports whether
// there was one.
func (s *Server) RemoveCertificate(name string) bool {
	for _, m := range s.certs.list(map[string][]string{"name": {name}, "removed_null": {""}}) {
		s.certs.remove(str(m, "id"))
		return true
	}
	return false
}
