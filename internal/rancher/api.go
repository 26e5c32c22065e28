package rancher

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"rancher-traefik/internal/backoff"
	"rancher-traefik/internal/secrets"
)

// API reads the Rancher server API (what the seed image did) into the same
// Snapshot as the metadata service, and learns of changes from its event
// stream, falling back to polling when the stream is unavailable.
type API struct {
	// Endpoint is TRAEFIK_RANCHER_ENDPOINT or CATTLE_URL: …/v1 or
	// …/v2-beta, with or without /projects/<id>. It is read as v2-beta,
	// as Traefik v1.7 did.
	Endpoint          string
	AccessKey, Secret secrets.Secret // never printed
	HTTP              *http.Client
	Timeout           time.Duration // per request; 0 means 30 s
	PageSize          int           // 0 means 1000
	Log               *slog.Logger

	mu      sync.Mutex
	gen     int           // bumped on every relevant event (or poll)
	changed chan struct{} // closed and replaced when gen moves
	certs   certGen       // the same for certificate events

	minBackoff time.Duration // tests: the first reconnect delay (0: 1 s)
	waiting    func()        // tests: called when WaitVersion starts to block
}

// ErrUnauthorized is a 401 from the API.
var ErrUnauthorized = errors.New("the Rancher API refused the key: check TRAEFIK_RANCHER_ACCESSKEY/SECRET (or CATTLE_ACCESS_KEY/CATTLE_SECRET_KEY)")

// base is the v2-beta URL of the endpoint.
func (a *API) base() (string, error) {
	u, err := url.Parse(strings.TrimSuffix(a.Endpoint, "/"))
	if err != nil {
		return "", fmt.Errorf("TRAEFIK_RANCHER_ENDPOINT: %w", err)
	}
	p := u.Path
	switch {
	case strings.HasSuffix(p, "/v1") || strings.Contains(p, "/v1/"):
		p = strings.Replace(p, "/v1", "/v2-beta", 1)
	case strings.HasSuffix(p, "/v2-beta") || strings.Contains(p, "/v2-beta/"):
	default:
		p += "/v2-beta"
	}
	u.Path = p
	u.User = nil
	return u.String(), nil
}

func (a *API) client() *http.Client {
	if a.HTTP != nil {
		return a.HTTP
	}
	return http.DefaultClient
}

// get fetches one page; errors name the URL and status, never the key.
func (a *API) get(ctx context.Context, u string, v any) error {
	return a.do(ctx, http.MethodGet, u, nil, v)
}

// do sends one request (body, when not nil, as JSON) and decodes a 200 or
// 201 answer into v; errors name the URL and status, and Rancher's error
// code and field, never the key nor the body sent.
func (a *API) do(ctx context.Context, method, u string, body, v any) error {
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("rancher API %s %s: encoding: %w", method, redact(u), err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("rancher API %s: %w", redact(u), err)
	}
	req.SetBasicAuth(a.AccessKey.Reveal(), a.Secret.Reveal())
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.client().Do(req)
	if err != nil {
		return fmt.Errorf("rancher API %s: %w", redact(u), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return fmt.Errorf("rancher API %s: reading: %w", redact(u), err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("rancher API %s: %s: %w", redact(u), resp.Status, ErrUnauthorized)
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("rancher API %s: %s: %w", redact(u), resp.Status, ErrNotFound)
	case resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated:
		return fmt.Errorf("rancher API %s %s: %s%s", method, redact(u), resp.Status, apiErrorDetail(b))
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("rancher API %s: decoding: %w", redact(u), err)
	}
	return nil
}

// ErrNotFound is a 404 from the API.
var ErrNotFound = errors.New("not found")

// apiErrorDetail is ": <code> (<field>)" from a Rancher error answer, or "".
func apiErrorDetail(b []byte) string {
	var e struct {
		Code      string `json:"code"`
		FieldName string `json:"fieldName"`
	}
	if json.Unmarshal(b, &e) != nil || e.Code == "" {
		return ""
	}
	if e.FieldName != "" {
		return ": " + e.Code + " (" + e.FieldName + ")"
	}
	return ": " + e.Code
}

type collection struct {
	Type       string            `json:"type"`
	Data       []json.RawMessage `json:"data"`
	Pagination *struct {
		Next    *string `json:"next"`
		Partial bool    `json:"partial"`
	} `json:"pagination"`
}

// list reads every page of a collection, following next.
func (a *API) list(ctx context.Context, name string) ([]json.RawMessage, error) {
	return a.listWhere(ctx, name, nil)
}

// listWhere reads every page of a collection filtered by the query (field
// filters such as name=…, removed_null=1).
func (a *API) listWhere(ctx context.Context, name string, filters url.Values) ([]json.RawMessage, error) {
	base, err := a.base()
	if err != nil {
		return nil, err
	}
	size := a.PageSize
	if size <= 0 {
		size = 1000
	}
	q := url.Values{}
	for k, v := range filters {
		q[k] = v
	}
	q.Set("limit", strconv.Itoa(size))
	u := base + "/" + name + "?" + q.Encode()
	var out []json.RawMessage
	for pages := 0; u != ""; pages++ {
		if pages > 10000 {
			return nil, fmt.Errorf("rancher API %s: more than 10000 pages", name)
		}
		var c collection
		if err := a.get(ctx, u, &c); err != nil {
			return nil, err
		}
		if c.Type != "collection" {
			return nil, fmt.Errorf("rancher API %s: not a collection", redact(u))
		}
		out = append(out, c.Data...)
		u = ""
		if c.Pagination != nil && c.Pagination.Next != nil && *c.Pagination.Next != "" {
			u = *c.Pagination.Next
		} else if c.Pagination != nil && c.Pagination.Partial {
			return nil, fmt.Errorf("rancher API %s: a partial page without a next link", name)
		}
	}
	return out, nil
}

type (
	apiStack struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		System bool   `json:"system"`
	}
	apiEndpoint struct {
		IPAddress  string `json:"ipAddress"`
		InstanceID string `json:"instanceId"`
	}
	apiService struct {
		ID            string        `json:"id"`
		Name          string        `json:"name"`
		StackID       string        `json:"stackId"`
		EnvironmentID string        `json:"environmentId"`
		Kind          string        `json:"kind"`
		State         string        `json:"state"`
		System        bool          `json:"system"`
		Hostname      string        `json:"hostname"`
		ExternalIPs   []string      `json:"externalIpAddresses"`
		InstanceIDs   []string      `json:"instanceIds"`
		Endpoints     []apiEndpoint `json:"publicEndpoints"`
		LaunchConfig  struct {
			Labels      map[string]any `json:"labels"`
			Ports       []string       `json:"ports"`
			NetworkMode string         `json:"networkMode"`
		} `json:"launchConfig"`
	}
	apiContainer struct {
		ID          string   `json:"id"`
		Name        string   `json:"name"`
		State       string   `json:"state"`
		HealthState *string  `json:"healthState"`
		PrimaryIP   *string  `json:"primaryIpAddress"`
		NetworkMode string   `json:"networkMode"`
		ServiceIDs  []string `json:"serviceIds"`
		Ports       []string `json:"ports"`
	}
)

func decodeAll[T any](raws []json.RawMessage, what string) ([]T, error) {
	out := make([]T, 0, len(raws))
	for _, r := range raws {
		var v T
		if err := json.Unmarshal(r, &v); err != nil {
			return nil, fmt.Errorf("rancher API: decoding a %s: %w", what, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// Snapshot lists stacks, services and containers (every page) and maps
// them to the model the metadata source gives.
func (a *API) Snapshot(ctx context.Context) (*Snapshot, error) {
	a.mu.Lock()
	version := strconv.Itoa(a.gen)
	a.mu.Unlock()
	rawStacks, err := a.list(ctx, "stacks")
	if err != nil {
		return nil, err
	}
	rawServices, err := a.list(ctx, "services")
	if err != nil {
		return nil, err
	}
	rawContainers, err := a.list(ctx, "containers")
	if err != nil {
		return nil, err
	}
	return mapAPI(rawStacks, rawServices, rawContainers, version)
}

// mapAPI turns the three collections into a Snapshot.
func mapAPI(rawStacks, rawServices, rawContainers []json.RawMessage, version string) (*Snapshot, error) {
	stacks, err := decodeAll[apiStack](rawStacks, "stack")
	if err != nil {
		return nil, err
	}
	services, err := decodeAll[apiService](rawServices, "service")
	if err != nil {
		return nil, err
	}
	containers, err := decodeAll[apiContainer](rawContainers, "container")
	if err != nil {
		return nil, err
	}
	stackByID := map[string]apiStack{}
	for _, s := range stacks {
		stackByID[s.ID] = s
	}
	byService := map[string][]apiContainer{}
	for _, c := range containers {
		for _, sid := range c.ServiceIDs {
			byService[sid] = append(byService[sid], c)
		}
	}
	snap := &Snapshot{}
	h := sha256.New()
	for _, sv := range services {
		stackID := sv.StackID
		if stackID == "" {
			stackID = sv.EnvironmentID
		}
		st := stackByID[stackID]
		kind := sv.Kind
		if kind == "" {
			kind = "service"
		}
		s := Service{
			Name: sv.Name, Stack: st.Name, Kind: kind, State: sv.State, Hostname: sv.Hostname, UUID: sv.ID,
			System: sv.System || st.System, Labels: labels(sv.LaunchConfig.Labels), Ports: sv.LaunchConfig.Ports,
			ExternalIPs: sv.ExternalIPs,
		}
		for _, c := range byService[sv.ID] {
			ip := ""
			if c.PrimaryIP != nil {
				ip = *c.PrimaryIP
			}
			if c.NetworkMode == "host" || sv.LaunchConfig.NetworkMode == "host" {
				ip = hostAddress(sv.Endpoints, c.ID)
			}
			health := ""
			if c.HealthState != nil {
				health = *c.HealthState
			}
			s.Containers = append(s.Containers, Container{Name: c.Name, PrimaryIP: ip, State: c.State, HealthState: health, UUID: c.ID, Ports: c.Ports})
		}
		sort.Slice(s.Containers, func(i, j int) bool { return s.Containers[i].Name < s.Containers[j].Name })
		snap.Services = append(snap.Services, s)
	}
	sort.Slice(snap.Services, func(i, j int) bool { return snap.Services[i].Key() < snap.Services[j].Key() })
	b, _ := json.Marshal(snap.Services)
	h.Write(b)
	snap.Version = version + "-" + hex.EncodeToString(h.Sum(nil)[:6])
	return snap, nil
}

// hostAddress is the public address of a host-networked container.
func hostAddress(eps []apiEndpoint, containerID string) string {
	for _, e := range eps {
		if e.InstanceID == containerID {
			return e.IPAddress
		}
	}
	if len(eps) > 0 {
		return eps[0].IPAddress
	}
	return ""
}

func (a *API) token() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return strconv.Itoa(a.gen)
}

// bump moves the generation and wakes every WaitVersion.
func (a *API) bump() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gen++
	if a.changed != nil {
		close(a.changed)
	}
	a.changed = make(chan struct{})
}

// WaitVersion returns when an event has arrived since old, or after maxWait
// seconds (a poll: the caller re-reads and publishes only what changed).
// Versions are "<events>-<content hash>"; the first part is compared.
func (a *API) WaitVersion(ctx context.Context, old string, maxWait int) (string, error) {
	gen, _, _ := strings.Cut(old, "-")
	a.mu.Lock()
	if a.changed == nil {
		a.changed = make(chan struct{})
	}
	ch := a.changed
	cur := strconv.Itoa(a.gen)
	a.mu.Unlock()
	if cur != gen {
		return cur, nil
	}
	t := time.NewTimer(time.Duration(maxWait) * time.Second)
	defer t.Stop()
	if a.waiting != nil {
		a.waiting()
	}
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case <-ch:
		return a.token(), nil
	case <-t.C:
		a.bump() // poll
		return a.token(), nil
	}
}

// relevant are the resource types whose changes can change routes.
var relevant = map[string]bool{"service": true, "externalService": true, "loadBalancerService": true, "dnsService": true,
	"container": true, "instance": true, "stack": true, "environment": true, "host": true}

// Events subscribes to the event stream (resource.change) until ctx ends,
// reconnecting with jittered backoff; while it is down, WaitVersion falls
// back to polling every maxWait seconds.
func (a *API) Events(ctx context.Context) error {
	log := a.Log.With("component", "rancher-api")
	retry := backoff.New(time.Second, 60*time.Second)
	if a.minBackoff > 0 {
		retry.Min = a.minBackoff
	}
	warned := false // since the stream was last up
	for ctx.Err() == nil {
		ran, err := a.stream(ctx, log)
		if ctx.Err() != nil {
			return nil
		}
		if ran {
			// It ran: the next failure is news, and retries start quick.
			retry.Reset()
			warned = false
		}
		if !warned {
			log.Warn("Rancher event stream unavailable; polling instead", "err", err, "retry_in", retry.Delay().String())
			warned = true
		} else {
			log.Debug("Rancher event stream still unavailable", "err", err, "retry_in", retry.Delay().String())
		}
		if !retry.Wait(ctx) {
			return nil
		}
	}
	return nil
}

// stream subscribes and bumps the generation on every relevant event until
// the stream fails or ctx ends; subscribed says whether it got that far.
func (a *API) stream(ctx context.Context, log *slog.Logger) (subscribed bool, err error) {
	base, err := a.base()
	if err != nil {
		return false, err
	}
	u := strings.Replace(base, "http", "ws", 1) + "/subscribe?eventNames=resource.change&eventNames=ping"
	hdr := http.Header{"Authorization": {basicAuth(a.AccessKey.Reveal(), a.Secret.Reveal())}}
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	conn, resp, err := d.DialContext(ctx, u, hdr)
	if err != nil {
		if resp != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
			return false, fmt.Errorf("subscribing at %s: %s: %w", redact(u), resp.Status, ErrUnauthorized)
		}
		return false, fmt.Errorf("subscribing at %s: %w", redact(u), err)
	}
	defer conn.Close()
	// Ending ctx ends the blocked read. Registered for this connection
	// only: a goroutine waiting on the process-lifetime ctx would be left
	// behind by every reconnect.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	// Changes may have happened while we were away: one bump, before the
	// first event is read.
	a.bump()
	a.bumpCerts()
	log.Info("subscribed to Rancher events", "url", redact(u))
	for {
		_ = conn.SetReadDeadline(time.Now().Add(60 * time.Second)) // pings come every few seconds
		_, msg, err := conn.ReadMessage()
		if err != nil {
			return true, fmt.Errorf("reading events: %w", err)
		}
		var ev struct {
			Name         string `json:"name"`
			ResourceType string `json:"resourceType"`
		}
		if json.Unmarshal(msg, &ev) != nil {
			continue
		}
		if ev.Name == "resource.change" && relevant[ev.ResourceType] {
			a.bump()
		}
		if ev.Name == "resource.change" && ev.ResourceType == "certificate" {
			a.bumpCerts()
		}
	}
}

// basicAuth is the Authorization value for user and password (RFC 7617),
// as http.Request.SetBasicAuth makes it: the dialer takes headers, not a
// request.
func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}
