package rancher

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Decode reads the JSON of a metadata version's root (GET /<version> with
// Accept: application/json) into a Snapshot. An answer without a version or
// without a services list is reported as truncated: the caller keeps its
// last good routes.
func Decode(b []byte) (*Snapshot, error) { return DecodeReader(bytes.NewReader(b)) }

// DecodeReader is Decode reading r as it arrives. The tree of a large
// environment is tens of MB (stacks embed their services, services their
// containers, every container carries its service's labels): it is read one
// item at a time and only what the model uses is kept, so neither the answer
// nor a copy of its parts is ever held whole.
func DecodeReader(r io.Reader) (*Snapshot, error) {
	d := &treeDecoder{dec: json.NewDecoder(r)}
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

// treeDecoder holds what one answer's keys give, in whatever order they
// come: services may name containers listed after them, or stacks marked
// system.
type treeDecoder struct {
	dec          *json.Decoder
	version      string
	hasServices  bool
	services     []pendingService
	containers   []rootContainer // the root list, for services that name theirs
	systemStacks map[string]bool
	stackEnvs    map[string]string // stack name → environment name
}

// pendingService is a decoded service whose containers may still have to be
// found in the root list: by name (refs), or by service (byService).
type pendingService struct {
	s         Service
	refs      []string
	byService bool
}

// rootContainer is an item of the root containers list.
type rootContainer struct {
	service string // stack/service, lower-cased; "" without service_name
	c       Container
}

// skip takes a value the model does not use without keeping it.
type skip struct{}

func (skip) UnmarshalJSON([]byte) error { return nil }

// root reads the top-level object key by key.
func (d *treeDecoder) root() error {
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
			err = d.dec.Decode(&skip{})
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
func (d *treeDecoder) delim(want json.Delim, what string) error {
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
func (d *treeDecoder) list(name string, each func() error) error {
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

func (d *treeDecoder) stack() error {
	var st wireStack
	if err := d.dec.Decode(&st); err != nil {
		return fmt.Errorf("decoding stack: %w", err)
	}
	if st.System != nil && *st.System {
		d.systemStacks[str(st.Name)] = true
	}
	if st.Environment != nil {
		d.stackEnvs[str(st.Name)] = *st.Environment
	}
	return nil
}

func (d *treeDecoder) container() error {
	var c wireContainer
	if err := d.dec.Decode(&c); err != nil {
		return fmt.Errorf("decoding container: %w", err)
	}
	rc := rootContainer{c: c.model()}
	if c.ServiceName != nil {
		rc.service = strings.ToLower(str(c.StackName) + "/" + str(c.ServiceName))
	}
	d.containers = append(d.containers, rc)
	return nil
}

func (d *treeDecoder) service() error {
	var ws wireService
	if err := d.dec.Decode(&ws); err != nil {
		return fmt.Errorf("decoding service: %w", err)
	}
	s := Service{
		Name: str(ws.Name), Stack: str(ws.StackName), Kind: str(ws.Kind), State: str(ws.State),
		Hostname: str(ws.Hostname), UUID: str(ws.UUID), Labels: labels(ws.Labels),
		Ports: strs(ws.Ports), ExternalIPs: strs(ws.ExternalIPs),
		System: ws.System != nil && *ws.System,
	}
	if s.Kind == "" {
		s.Kind = "service"
	}
	ps := pendingService{byService: ws.Containers == nil}
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
func (d *treeDecoder) snapshot() *Snapshot {
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
