package rancher

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
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
// nor a copy of its parts is ever held whole. What the model does not use is
// skipped without being decoded (jsonscan.go); what it uses is decoded as
// encoding/json decodes it into the wire shapes of the metadata service
// (wire.go): the reference decoder in decode_ref_test.go is held to the same
// snapshots.
func DecodeReader(r io.Reader) (*Snapshot, error) {
	return decodeTree(r, false)
}

// errNeedsRoot is decodeTree's answer, when lean, to a tree whose services
// take containers from the root list.
var errNeedsRoot = errors.New("the services take their containers from the root list")

// decodeTree decodes a tree. Lean, it skips the root containers list (a
// third of a large tree, and the most decoding), keeping only which
// services it names, and fails with errNeedsRoot when a service takes
// containers from it: one names its containers (2015-07-25's shape) or
// has no containers list while the root list has containers of it. From
// 2015-12-19 on, services embed their containers and the root list is
// needed for none.
func decodeTree(r io.Reader, lean bool) (*Snapshot, error) {
	return decodeTreeSized(r, lean, 64<<10, 0)
}

// decodeTreeBuffer is decodeTree reading with a buffer of size bytes.
func decodeTreeBuffer(r io.Reader, lean bool, size int) (*Snapshot, error) {
	return decodeTreeSized(r, lean, size, 0)
}

// decodeTreeSized is decodeTree reading with a buffer of size bytes, with
// room for services services to begin with (see withRoom).
func decodeTreeSized(r io.Reader, lean bool, size, services int) (*Snapshot, error) {
	d := (&treeDecoder{s: newScanner(r, size), lean: lean}).withRoom(services)
	if err := d.root(); err != nil {
		return nil, fmt.Errorf("decoding metadata: %w", err)
	}
	if d.version == "" {
		return nil, fmt.Errorf("metadata answer has no version: truncated or not a metadata tree")
	}
	if !d.hasServices {
		return nil, fmt.Errorf("metadata answer has no services list: truncated")
	}
	if lean && d.needsRoot() {
		return nil, errNeedsRoot
	}
	return d.snapshot(), nil
}

// treeDecoder holds what one answer's keys give, in whatever order they
// come: services may name containers listed after them, or stacks marked
// system.
type treeDecoder struct {
	s            *scanner
	lean         bool            // the root containers are skipped: rootServices holds whom they belong to
	rootServices map[string]bool // lean: the stack/service, lower-cased, of root containers
	key          []byte          // lean: scratch for rootServices' keys
	version      string
	hasServices  bool
	services     []Service        // in the order read; the snapshot's, once resolved
	pending      []pendingService // services[i]'s containers still to find
	scratch      []Container      // a service's embedded containers as they are read
	containers   []rootContainer  // the root list, for services that name theirs
	systemStacks map[string]bool
	stackEnvs    map[string]string // stack name → environment name
	interned     map[string]string // intern's table: this decode's only
}

// withRoom makes room for n services (the last snapshot's number): a
// large environment's list is then allocated once, not grown step by step
// (by a quarter at a time, a list of 10,000 services allocates several
// times its size).
func (d *treeDecoder) withRoom(n int) *treeDecoder {
	if n > 0 {
		d.services, d.pending = make([]Service, 0, n), make([]pendingService, 0, n)
	}
	return d
}

// pendingService says where a decoded service's containers may still have
// to be found in the root list: by name (refs), or by service (byService).
type pendingService struct {
	refs      []string
	byService bool
}

// rootContainer is an item of the root containers list.
type rootContainer struct {
	service string // stack/service, lower-cased; "" without service_name
	c       Container
}

// root reads the top-level object key by key.
func (d *treeDecoder) root() error {
	if d.s.peek() != '{' {
		return fmt.Errorf("the answer is not a JSON object")
	}
	err := d.s.object(1, func(key []byte) error {
		switch strings.ToLower(string(key)) { // as the decoder before matched them
		case "version":
			if d.s.peek() == '"' {
				v, err := d.s.str()
				d.version = v
				return err
			}
			d.version = ""
			return d.s.skip(2)
		case "services":
			d.hasServices, d.services, d.pending = true, d.services[:0], d.pending[:0]
			return d.list("services", d.service)
		case "containers":
			d.containers, d.rootServices = nil, nil
			return d.list("containers", d.container)
		case "stacks":
			d.systemStacks, d.stackEnvs = map[string]bool{}, map[string]string{}
			return d.list("stacks", d.stack)
		}
		return d.s.skip(2)
	})
	if err != nil {
		return err
	}
	if !d.s.atEnd() {
		if d.s.rerr != nil {
			return d.s.rerr
		}
		return fmt.Errorf("more data after the answer")
	}
	return nil
}

// list calls each for every item of a list; null is an empty list.
func (d *treeDecoder) list(name string, each func() error) error {
	switch d.s.peek() {
	case 'n':
		return d.s.literal("null")
	case '[':
		return d.s.array(2, each)
	}
	return fmt.Errorf("%s is not a list", name)
}

func (d *treeDecoder) stack() error {
	st, err := d.wireStack()
	if err != nil {
		return fmt.Errorf("decoding stack: %w", err)
	}
	if st.System {
		d.systemStacks[st.Name] = true
	}
	if st.hasEnv {
		d.stackEnvs[st.Name] = st.Environment
	}
	return nil
}

func (d *treeDecoder) container() error {
	if d.lean {
		return d.leanContainer()
	}
	c, err := d.wireContainer(3, "container", false)
	if err != nil {
		return fmt.Errorf("decoding container: %w", err)
	}
	rc := rootContainer{c: c.Container}
	if c.hasService {
		rc.service = strings.ToLower(c.stackName + "/" + c.serviceName)
	}
	d.containers = append(d.containers, rc)
	return nil
}

func (d *treeDecoder) service() error {
	ws, err := d.wireService()
	if err != nil {
		return fmt.Errorf("decoding service: %w", err)
	}
	if ws.Kind == "" {
		ws.Kind = "service"
	}
	d.services = append(d.services, ws.Service)
	d.pending = append(d.pending, pendingService{refs: ws.names, byService: !ws.hasContainers})
	return nil
}

// leanContainer notes the service of a root container, skipping the rest.
func (d *treeDecoder) leanContainer() error {
	c, err := d.wireContainerService(3)
	if err != nil {
		return fmt.Errorf("decoding container: %w", err)
	}
	if c.hasService {
		if d.rootServices == nil {
			d.rootServices = map[string]bool{}
		}
		d.key = lowerKey(d.key, c.stackName, c.serviceName)
		if !d.rootServices[string(d.key)] { // a service's containers are many: one key for them all
			d.rootServices[string(d.key)] = true
		}
	}
	return nil
}

// lowerKey is strings.ToLower(stack + "/" + service), in buf.
func lowerKey(buf []byte, stack, service string) []byte {
	buf = append(append(append(buf[:0], stack...), '/'), service...)
	for i, c := range buf {
		switch {
		case c >= 0x80:
			return append(buf[:0], strings.ToLower(string(buf))...)
		case c >= 'A' && c <= 'Z':
			buf[i] = c + 'a' - 'A'
		}
	}
	return buf
}

// needsRoot reports whether a service takes containers from the root list.
func (d *treeDecoder) needsRoot() bool {
	for i := range d.services {
		ps := &d.pending[i]
		if len(ps.refs) > 0 || ps.byService && d.rootServices[strings.ToLower(d.services[i].Key())] {
			return true
		}
	}
	return false
}

// snapshot resolves the services' containers and sorts the result. The
// services are the snapshot's: resolved in place, not copied.
func (d *treeDecoder) snapshot() *Snapshot {
	var byName map[string]Container
	var byService map[string][]Container
	for _, ps := range d.pending {
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
	if d.services == nil {
		d.services = []Service{} // an empty list, as the services decoded
	}
	snap := &Snapshot{Version: d.version, Services: d.services}
	for i := range snap.Services {
		s, ps := &snap.Services[i], d.pending[i]
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
		sortContainers(s.Containers)
	}
	d.services, d.pending = nil, nil
	sortServices(snap.Services)
	return snap
}

// sortContainers sorts by name, as sort.Slice always has: a list already
// in strictly increasing order (the usual) is left as it is, which is what
// any sort gives it.
func sortContainers(cs []Container) {
	if slices.IsSortedFunc(cs, func(a, b Container) int {
		if a.Name <= b.Name { // a follows b: equal names are not strictly increasing
			return -1
		}
		return 1
	}) {
		return
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
}

// sortServices sorts by Key() without building a key per comparison.
func sortServices(ss []Service) {
	var ka, kb []byte
	key := func(buf []byte, s *Service) []byte {
		return append(append(append(buf[:0], s.Stack...), '/'), s.Name...)
	}
	sort.Slice(ss, func(i, j int) bool {
		ka, kb = key(ka, &ss[i]), key(kb, &ss[j])
		return bytes.Compare(ka, kb) < 0
	})
}
