package rancher

// The decoder before jsonscan.go, on encoding/json: the reference the fast
// decoder is held to (FuzzDecodeMatchesReference, TestDecodeMatchesReference).

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// refDecodeReader is Decode reading r as it arrives. The tree of a large
// environment is tens of MB (stacks embed their services, services their
// containers, every container carries its service's labels): it is read one
// item at a time and only what the model uses is kept, so neither the answer
// nor a copy of its parts is ever held whole.
func refDecodeReader(r io.Reader) (*Snapshot, error) {
	d := &refTreeDecoder{dec: json.NewDecoder(r)}
	if err := d.root(); err != nil {
		return nil, err
	}
	if d.version == "" {
		return nil, fmt.Errorf("metadata answer has no version: truncated or not a metadata tree")
	}
	if !d.hasServices {
		return nil, fmt.Errorf("metadata answer has no services list: truncated")
	}
	return d.snapshot(), nil
}

// refTreeDecoder holds what one answer's keys give, in whatever order they
// come: services may name containers listed after them, or stacks marked
// system.
type refTreeDecoder struct {
	dec          *json.Decoder
	version      string
	hasServices  bool
	services     []refPendingService
	containers   []refRootContainer // the root list, for services that name theirs
	systemStacks map[string]bool
	stackEnvs    map[string]string
}

// refPendingService is a decoded service whose containers may still have to be
// found in the root list: by name (refs), or by service (byService).
type refPendingService struct {
	s         Service
	refs      []string
	byService bool
}

// refRootContainer is an item of the root containers list.
type refRootContainer struct {
	service string // stack/service, lower-cased; "" without service_name
	c       Container
}

// skip takes a value the model does not use without keeping it.
type refSkip struct{}

func (refSkip) UnmarshalJSON([]byte) error { return nil }

// root reads the top-level object key by key.
func (d *refTreeDecoder) root() error {
	if err := d.delim('{', "the answer is not a JSON object"); err != nil {
		return err
	}
	for d.dec.More() {
		tok, err := d.dec.Token()
		if err != nil {
			return fmt.Errorf("decoding metadata: %w", err)
		}
		key, _ := tok.(string)
		switch strings.ToLower(key) { // as encoding/json matches field names
		case "version":
			var v any
			if err := d.dec.Decode(&v); err != nil {
				return fmt.Errorf("decoding metadata: %w", err)
			}
			d.version, _ = v.(string)
		case "services":
			d.hasServices, d.services = true, nil
			err = d.list("services", d.service)
		case "containers":
			d.containers = nil
			err = d.list("containers", d.container)
		case "stacks":
			d.systemStacks, d.stackEnvs = map[string]bool{}, map[string]string{}
			err = d.list("stacks", d.stack)
		default:
			err = d.dec.Decode(&refSkip{})
		}
		if err != nil {
			return err
		}
	}
	if _, err := d.dec.Token(); err != nil { // the closing brace
		return fmt.Errorf("decoding metadata: %w", err)
	}
	if _, err := d.dec.Token(); err != io.EOF {
		return fmt.Errorf("decoding metadata: more data after the answer")
	}
	return nil
}

// delim reads the token want, or fails with what.
func (d *refTreeDecoder) delim(want json.Delim, what string) error {
	tok, err := d.dec.Token()
	if err != nil {
		return fmt.Errorf("decoding metadata: %w", err)
	}
	if tok != want {
		return fmt.Errorf("decoding metadata: %s", what)
	}
	return nil
}

// list calls each for every item of a list; null is an empty list.
func (d *refTreeDecoder) list(name string, each func() error) error {
	tok, err := d.dec.Token()
	if err != nil {
		return fmt.Errorf("decoding metadata %s: %w", name, err)
	}
	if tok == nil {
		return nil
	}
	if tok != json.Delim('[') {
		return fmt.Errorf("decoding metadata: %s is not a list", name)
	}
	for d.dec.More() {
		if err := each(); err != nil {
			return err
		}
	}
	if _, err := d.dec.Token(); err != nil {
		return fmt.Errorf("decoding metadata %s: %w", name, err)
	}
	return nil
}

func (d *refTreeDecoder) stack() error {
	var st refWireStack
	if err := d.dec.Decode(&st); err != nil {
		return fmt.Errorf("decoding stack: %w", err)
	}
	if st.System != nil && *st.System {
		d.systemStacks[refStr(st.Name)] = true
	}
	if st.Environment != nil {
		d.stackEnvs[refStr(st.Name)] = *st.Environment
	}
	return nil
}

func (d *refTreeDecoder) container() error {
	var c refWireContainer
	if err := d.dec.Decode(&c); err != nil {
		return fmt.Errorf("decoding container: %w", err)
	}
	rc := refRootContainer{c: c.model()}
	if c.ServiceName != nil {
		rc.service = strings.ToLower(refStr(c.StackName) + "/" + refStr(c.ServiceName))
	}
	d.containers = append(d.containers, rc)
	return nil
}

func (d *refTreeDecoder) service() error {
	var ws refWireService
	if err := d.dec.Decode(&ws); err != nil {
		return fmt.Errorf("decoding service: %w", err)
	}
	s := Service{
		Name: refStr(ws.Name), Stack: refStr(ws.StackName), Kind: refStr(ws.Kind), State: refStr(ws.State),
		Hostname: refStr(ws.Hostname), UUID: refStr(ws.UUID), Labels: labels(ws.Labels),
		Ports: refStrs(ws.Ports), ExternalIPs: refStrs(ws.ExternalIPs),
		System: ws.System != nil && *ws.System,
	}
	if s.Kind == "" {
		s.Kind = "service"
	}
	ps := refPendingService{byService: ws.Containers == nil}
	for i := range ws.Containers {
		if r := &ws.Containers[i]; r.isName {
			ps.refs = append(ps.refs, r.name)
		} else {
			s.Containers = append(s.Containers, r.c.model())
		}
	}
	ps.s = s
	d.services = append(d.services, ps)
	return nil
}

// snapshot resolves the services' containers and sorts the result.
func (d *refTreeDecoder) snapshot() *Snapshot {
	var byName map[string]Container
	var byService map[string][]Container
	for _, ps := range d.services {
		if len(ps.refs) > 0 && byName == nil {
			byName = make(map[string]Container, len(d.containers))
			for _, rc := range d.containers {
				byName[rc.c.Name] = rc.c
			}
		}
		if ps.byService && byService == nil {
			byService = map[string][]Container{}
			for _, rc := range d.containers {
				if rc.service != "" {
					byService[rc.service] = append(byService[rc.service], rc.c)
				}
			}
		}
	}
	d.containers = nil
	snap := &Snapshot{Version: d.version, Services: make([]Service, 0, len(d.services))}
	for _, ps := range d.services {
		s := ps.s
		s.System = s.System || d.systemStacks[s.Stack]
		s.Environment = d.stackEnvs[s.Stack]
		if ps.byService {
			s.Containers = byService[strings.ToLower(s.Key())]
		}
		for _, name := range ps.refs {
			if c, ok := byName[name]; ok {
				s.Containers = append(s.Containers, c)
			}
		}
		sort.Slice(s.Containers, func(i, j int) bool { return s.Containers[i].Name < s.Containers[j].Name })
		snap.Services = append(snap.Services, s)
	}
	d.services = nil
	sort.Slice(snap.Services, func(i, j int) bool { return snap.Services[i].Key() < snap.Services[j].Key() })
	return snap
}

// The wire shapes. Every field may be null; containers and services may be
// embedded objects or lists of names depending on the metadata version.
// Fields the model does not use (a container's labels, a stack's embedded
// services) are not in the shapes: the decoder skips them without keeping
// them.
type (
	refWireStack struct {
		Name        *string `json:"name"`
		System      *bool   `json:"system"`
		Environment *string `json:"environment_name"`
	}
	refWireService struct {
		Name        *string           `json:"name"`
		StackName   *string           `json:"stack_name"`
		Kind        *string           `json:"kind"`
		State       *string           `json:"state"`
		Hostname    *string           `json:"hostname"`
		UUID        *string           `json:"uuid"`
		System      *bool             `json:"system"`
		Labels      map[string]any    `json:"labels"`
		Ports       []*string         `json:"ports"`
		ExternalIPs []*string         `json:"external_ips"`
		Containers  []refContainerRef `json:"containers"`
	}
	refWireContainer struct {
		Name        *string   `json:"name"`
		PrimaryIP   *string   `json:"primary_ip"`
		State       *string   `json:"state"`
		HealthState *string   `json:"health_state"`
		UUID        *string   `json:"uuid"`
		ServiceName *string   `json:"service_name"`
		StackName   *string   `json:"stack_name"`
		Ports       []*string `json:"ports"`
	}
)

// refContainerRef is an item of a service's containers: a name (2015-07-25)
// or an embedded container.
type refContainerRef struct {
	name   string
	isName bool
	c      refWireContainer
}

func (r *refContainerRef) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		r.isName = true
		return json.Unmarshal(b, &r.name)
	}
	return json.Unmarshal(b, &r.c)
}

func (c *refWireContainer) model() Container {
	return Container{
		Name: refStr(c.Name), PrimaryIP: refStr(c.PrimaryIP), State: refStr(c.State),
		HealthState: refStr(c.HealthState), UUID: refStr(c.UUID), Ports: refStrs(c.Ports),
	}
}

func refStr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func refStrs(ps []*string) []string {
	var out []string
	for _, p := range ps {
		if p != nil && *p != "" {
			out = append(out, *p)
		}
	}
	return out
}
