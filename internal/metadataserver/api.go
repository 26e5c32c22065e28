package metadataserver

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// APIKeys turns on the Rancher server API face: /v1 and /v2-beta
// collections (stacks, services, containers) and the event stream, behind
// HTTP basic auth with this environment API key.
type APIKeys struct {
	Access, Secret string
	// NoEvents answers 404 on /subscribe, as a server without the event
	// stream would (clients fall back to polling).
	NoEvents bool
	// CertKeysHidden answers as Rancher does to an API key of the
	// environment role (or a member's key): a certificate's key is
	// "readOnCreateOnly" (cattle's user-auth.json: "certificate.key":
	// "curo"), absent from gets, lists and events. Unset, the key is
	// readable, as for the environmentAdmin agent role (projectadmin-auth.json:
	// "cur") that Rancher's own load balancer uses.
	CertKeysHidden bool
}

// api collections are rebuilt from the answers' latest tree on every request.
type apiData struct {
	stacks, services, containers []map[string]any
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// apiView maps the metadata tree to API resources. v1 names stacks
// "environments" (ids 1e…, environmentId); v2-beta "stacks" (1st…, stackId).
func (s *Server) apiView(v1 bool) apiData {
	s.mu.RLock()
	tree, _ := s.answers["latest"]["default"].(map[string]any)
	s.mu.RUnlock()
	var d apiData
	stackType, stackPrefix, stackField := "stack", "1st", "stackId"
	if v1 {
		stackType, stackPrefix, stackField = "environment", "1e", "environmentId"
	}
	stackIDs := map[string]string{}
	stacks, _ := tree["stacks"].([]any)
	for i, st := range stacks {
		m, _ := st.(map[string]any)
		id := stackPrefix + strconv.Itoa(i+1)
		stackIDs[str(m, "name")] = id
		system, _ := m["system"].(bool)
		d.stacks = append(d.stacks, map[string]any{"id": id, "type": stackType, "baseType": stackType, "name": str(m, "name"), "state": "active", "healthState": "healthy", "system": system})
	}
	containerN := 0
	services, _ := tree["services"].([]any)
	for i, sv := range services {
		m, _ := sv.(map[string]any)
		id := "1s" + strconv.Itoa(i+1)
		kind := str(m, "kind")
		if kind == "" {
			kind = "service"
		}
		stackID := stackIDs[str(m, "stack_name")]
		system, _ := m["system"].(bool)
		labels, _ := m["labels"].(map[string]any)
		ports, _ := m["ports"].([]any)
		var instanceIDs []any
		cs, _ := m["containers"].([]any)
		for _, c := range cs {
			cm, ok := c.(map[string]any)
			if !ok {
				continue
			}
			containerN++
			cid := "1i" + strconv.Itoa(containerN)
			instanceIDs = append(instanceIDs, cid)
			var health any
			if h := str(cm, "health_state"); h != "" {
				health = h
			}
			state := str(cm, "state")
			if state == "" {
				state = "running"
			}
			d.containers = append(d.containers, map[string]any{
				"id": cid, "type": "container", "baseType": "instance", "name": str(cm, "name"), "state": state, "healthState": health,
				"labels": cm["labels"], "primaryIpAddress": cm["primary_ip"], "networkMode": "managed",
				"serviceIds": []any{id}, stackField: stackID, "system": system,
			})
		}
		state := str(m, "state")
		if state == "" {
			state = "active"
		}
		svc := map[string]any{
			"id": id, "type": kind, "baseType": "service", "kind": kind, "name": str(m, "name"), stackField: stackID,
			"state": state, "healthState": "healthy", "system": system, "scale": m["scale"], "fqdn": m["fqdn"],
			"instanceIds": nonNil(instanceIDs), "publicEndpoints": []any{},
			"launchConfig": map[string]any{"labels": labels, "ports": ports, "networkMode": "managed"},
		}
		if kind == "externalService" {
			svc["externalIpAddresses"] = m["external_ips"]
			svc["hostname"] = m["hostname"]
			delete(svc, "launchConfig")
			svc["launchConfig"] = map[string]any{"labels": labels}
		}
		d.services = append(d.services, svc)
	}
	return d
}

const (
	apiDefaultLimit = 100
	apiMaxLimit     = 3000
)

func apiError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="Enter API access key and secret key as username and password"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"id": code, "type": "error", "baseType": "error", "status": status, "code": code, "message": message, "detail": nil})
}

func (s *Server) apiAuthorized(r *http.Request) bool {
	u, p, ok := r.BasicAuth()
	return ok && subtle.ConstantTimeCompare([]byte(u), []byte(s.API.Access)) == 1 && subtle.ConstantTimeCompare([]byte(p), []byte(s.API.Secret)) == 1
}

// serveAPI answers /v1/… and /v2-beta/… (with or without /projects/<id>).
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	if !s.apiAuthorized(r) {
		apiError(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return
	}
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	version, segs := segs[0], segs[1:]
	base := "http://" + r.Host + "/" + version
	if len(segs) >= 2 && segs[0] == "projects" {
		base += "/projects/" + segs[1]
		segs = segs[2:]
	}
	if len(segs) >= 1 && len(segs) <= 2 && segs[0] == "certificates" {
		id := ""
		if len(segs) == 2 {
			id = segs[1]
		}
		s.serveCertificates(w, r, base, id)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		apiError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "Method not allowed")
		return
	}
	if len(segs) != 1 {
		apiError(w, http.StatusNotFound, "NotFound", "Not Found")
		return
	}
	v1 := version == "v1"
	var (
		items        []map[string]any
		resourceType string
	)
	d := s.apiView(v1)
	switch {
	case segs[0] == "subscribe" && !s.API.NoEvents:
		s.serveEvents(w, r)
		return
	case segs[0] == "services":
		items, resourceType = d.services, "service"
	case segs[0] == "containers":
		items, resourceType = d.containers, "container"
	case segs[0] == "stacks" && !v1:
		items, resourceType = d.stacks, "stack"
	case segs[0] == "environments" && v1:
		items, resourceType = d.stacks, "environment"
	default:
		apiError(w, http.StatusNotFound, "NotFound", "Not Found")
		return
	}
	s.writeCollection(w, r, items, resourceType)
}

// writeCollection answers one page of items, as Rancher's collections do:
// limit (default 100, at most 3000) and an opaque marker for the next page.
func (s *Server) writeCollection(w http.ResponseWriter, r *http.Request, items []map[string]any, resourceType string) {
	q := r.URL.Query()
	limit := apiDefaultLimit
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			apiError(w, http.StatusUnprocessableEntity, "InvalidFormat", "limit is not a number")
			return
		}
		limit = n
		if n <= 0 || n > apiMaxLimit {
			limit = apiMaxLimit
		}
	}
	offset := 0
	if m := q.Get("marker"); m != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(m, "m"))
		if err != nil || !strings.HasPrefix(m, "m") || n < 0 {
			apiError(w, http.StatusUnprocessableEntity, "InvalidFormat", "bad marker")
			return
		}
		offset = n
	}
	end := min(offset+limit, len(items))
	page := []map[string]any{}
	if offset < len(items) {
		page = items[offset:end]
	}
	var next any
	partial := end < len(items)
	if partial {
		nq := r.URL.Query()
		nq.Set("limit", strconv.Itoa(limit))
		nq.Del("marker")
		next = "http://" + r.Host + r.URL.Path + "?" + nq.Encode() + "&marker=m" + strconv.Itoa(end)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "collection", "resourceType": resourceType, "links": map[string]any{"self": "http://" + r.Host + r.URL.String()},
		"createTypes": map[string]any{}, "actions": map[string]any{}, "data": page, "sortLinks": map[string]any{},
		"pagination": map[string]any{"first": nil, "previous": nil, "next": next, "limit": limit, "total": nil, "partial": partial},
		"sort":       nil, "filters": map[string]any{}, "createDefaults": map[string]any{},
	})
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// serveEvents streams resource.change events (one per service, container
// and stack) on every reload, one per certificate written, and a ping
// event every 5 s when asked for.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	names := eventNames(r)
	// Watched before the upgrade answers: a change the client makes once
	// subscribed is never missed.
	s.mu.RLock()
	changed := s.changed
	s.mu.RUnlock()
	certSeq, certChanged := s.certs.watch()
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	closed := drainUntilClosed(conn)
	ping := time.NewTicker(5 * time.Second)
	defer ping.Stop()
	ev := &eventSender{conn: conn}
	for {
		var err error
		select {
		case <-closed:
			return
		case <-r.Context().Done():
			return
		case <-ping.C:
			if names["ping"] {
				err = ev.send("ping", "", "", nil)
			}
		case <-certChanged:
			// One event per certificate written since the last, carrying
			// the resource as this key may see it.
			var items []map[string]any
			items, certSeq, certChanged = s.certs.since(certSeq)
			if names["resource.change"] {
				err = s.sendCertificates(ev, "http://"+r.Host+"/v2-beta", items)
			}
		case <-changed:
			s.mu.RLock()
			changed = s.changed
			s.mu.RUnlock()
			if names["resource.change"] {
				err = s.sendResources(ev)
			}
		}
		if err != nil {
			return
		}
	}
}

// eventNames are the events a subscription asks for (eventNames, repeated
// or comma-separated).
func eventNames(r *http.Request) map[string]bool {
	names := map[string]bool{}
	for _, n := range r.URL.Query()["eventNames"] {
		for p := range strings.SplitSeq(n, ",") {
			names[p] = true
		}
	}
	return names
}

// drainUntilClosed reads (and drops) what the client sends; the channel
// closes when the client goes away.
func drainUntilClosed(conn *websocket.Conn) <-chan struct{} {
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	return closed
}

// eventSender writes the events of one subscription, numbered.
type eventSender struct {
	conn *websocket.Conn
	seq  int
}

func (e *eventSender) send(name, rtype, rid string, resource any) error {
	e.seq++
	ev := map[string]any{"name": name, "id": fmt.Sprintf("ev-%d-%d", time.Now().UnixNano(), e.seq), "resourceType": rtype, "resourceId": rid, "time": time.Now().UnixMilli()}
	if resource != nil {
		ev["data"] = map[string]any{"resource": resource}
	}
	_ = e.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return e.conn.WriteJSON(ev)
}

// sendCertificates sends a resource.change per certificate written.
func (s *Server) sendCertificates(ev *eventSender, base string, items []map[string]any) error {
	for _, m := range items {
		if err := ev.send("resource.change", "certificate", str(m, "id"), s.certView(m, base, !s.API.CertKeysHidden)); err != nil {
			return err
		}
	}
	return nil
}

// sendResources sends a resource.change per stack, service and container,
// in the order of their ids.
func (s *Server) sendResources(ev *eventSender) error {
	d := s.apiView(false)
	var all []map[string]any
	all = append(append(append(all, d.stacks...), d.services...), d.containers...)
	sort.SliceStable(all, func(i, j int) bool { return str(all[i], "id") < str(all[j], "id") })
	for _, res := range all {
		if err := ev.send("resource.change", str(res, "type"), str(res, "id"), res); err != nil {
			return err
		}
	}
	return nil
}
