package rancher

import (
	"bytes"
	"fmt"
	"slices"
)

// The wire shapes of the metadata tree, decoded as encoding/json decodes a
// JSON object into a struct of *string, *bool, []*string and map[string]any
// fields: keys match exactly, else case-insensitively; a later key wins over
// an earlier one; null leaves a string "", a list or map nil (a map is
// merged with an earlier one of the same key otherwise); any other value of
// the wrong type fails the answer. Every field may be null; containers and
// services may be embedded objects or lists of names depending on the
// metadata version. Fields the model does not use (a container's labels, a
// stack's embedded services) are skipped.

// wireStack is the part of a stack the model uses.
type wireStack struct {
	Name        string
	System      bool
	Environment string
	hasEnv      bool // environment_name is there and not null
}

// wireContainer is a container with the names of its service and stack.
type wireContainer struct {
	Container
	serviceName, stackName string
	hasService             bool // service_name is not null
}

// wireService is a service with its containers as listed: the embedded
// ones in Containers, in order, and those given by name (2015-07-25 and
// later releases' older shapes) in names.
type wireService struct {
	Service
	names         []string
	hasContainers bool // containers is a list, not null or absent
}

// field returns the index of key in names: an exact match, else one that
// differs only in case (as encoding/json matches struct fields); -1 for
// none.
func field(key []byte, names []string) int {
	for i, n := range names {
		if string(key) == n {
			return i
		}
	}
	// The names are lower-case ASCII: a key of lower-case ASCII that is
	// none of them differs in more than case.
	folds := false
	for _, c := range key {
		if c >= 'A' && c <= 'Z' || c >= 0x80 {
			folds = true
			break
		}
	}
	if !folds {
		return -1
	}
	for i, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return i
		}
	}
	return -1
}

var stackFields = []string{"name", "system", "environment_name"}

func (d *treeDecoder) wireStack() (wireStack, error) {
	var st wireStack
	s := d.s
	if s.peek() == 'n' {
		return st, s.literal("null")
	}
	if s.peek() != '{' {
		return st, s.mistyped("a stack", "an object")
	}
	err := s.object(3, func(key []byte) (err error) {
		switch field(key, stackFields) {
		case 0:
			st.Name, err = s.optString("name")
		case 1:
			st.System, err = s.optBool("system")
		case 2:
			st.hasEnv = s.peek() != 'n'
			st.Environment, err = s.optString("environment_name")
		default:
			err = s.skip(4)
		}
		return err
	})
	return st, err
}

// The usual values of states and kinds (Rancher 1.6's), decoded without an
// allocation each.
var (
	containerStates = []string{"running", "stopped", "starting", "stopping", "updating-running", "upgraded", "restarting", "removed"}
	healthStates    = []string{"healthy", "unhealthy", "initializing", "reinitializing", "updating-healthy", "updating-unhealthy"}
	serviceStates   = []string{"active", "inactive", "activating", "updating-active", "upgrading", "upgraded", "removed"}
	serviceKinds    = []string{"service", "externalService", "dnsService", "loadBalancerService"}
)

var containerFields = []string{"name", "primary_ip", "state", "health_state", "uuid", "service_name", "stack_name", "ports"}

// wireContainer reads a container object (or null) at depth. Embedded in
// its service, a container's service_name and stack_name are checked and
// skipped: they name the service it is read for, and nothing uses them.
func (d *treeDecoder) wireContainer(depth int, what string, embedded bool) (wireContainer, error) {
	var c wireContainer
	s := d.s
	if s.peek() == 'n' {
		return c, s.literal("null")
	}
	if s.peek() != '{' {
		return c, s.mistyped(what, "an object")
	}
	err := s.object(depth, func(key []byte) (err error) {
		i := field(key, containerFields)
		switch i {
		case 0:
			c.Name, err = s.optString("name")
		case 1:
			c.PrimaryIP, err = s.optString("primary_ip")
		case 2:
			c.State, err = s.optWord("state", containerStates)
		case 3:
			c.HealthState, err = s.optWord("health_state", healthStates)
		case 4:
			c.UUID, err = s.optString("uuid")
		case 5, 6:
			if embedded {
				err = s.skipOptString(containerFields[i])
			} else if i == 5 {
				c.hasService = s.peek() != 'n'
				c.serviceName, err = s.optString("service_name")
			} else {
				c.stackName, err = s.optString("stack_name")
			}
		case 7:
			c.Ports, err = d.strings(depth+1, "ports")
		default:
			err = s.skip(depth + 1)
		}
		return err
	})
	return c, err
}

// wireContainerService reads only the service and stack of a container
// object (or null), checking the rest.
func (d *treeDecoder) wireContainerService(depth int) (wireContainer, error) {
	var c wireContainer
	s := d.s
	if s.peek() == 'n' {
		return c, s.literal("null")
	}
	if s.peek() != '{' {
		return c, s.mistyped("container", "an object")
	}
	err := s.object(depth, func(key []byte) (err error) {
		switch i := field(key, containerFields); i {
		case 5:
			c.hasService = s.peek() != 'n'
			c.serviceName, err = s.optString("service_name")
		case 6:
			c.stackName, err = s.optString("stack_name")
		case 0, 1, 2, 3, 4:
			err = s.skipOptString(containerFields[i])
		case 7:
			_, err = d.strings(depth+1, "ports")
		default:
			err = s.skip(depth + 1)
		}
		return err
	})
	return c, err
}

var serviceFields = []string{"name", "stack_name", "kind", "state", "hostname", "uuid", "system", "labels", "ports", "external_ips", "containers"}

// wireService reads a service object (or null).
func (d *treeDecoder) wireService() (wireService, error) {
	ws := wireService{Service: Service{Labels: map[string]string{}}}
	s := d.s
	if s.peek() == 'n' {
		return ws, s.literal("null")
	}
	if s.peek() != '{' {
		return ws, s.mistyped("a service", "an object")
	}
	err := s.object(3, func(key []byte) (err error) {
		switch field(key, serviceFields) {
		case 0:
			ws.Name, err = s.optString("name")
		case 1:
			ws.Stack, err = d.optInterned("stack_name", maxInternedKey) // its stack's services share it
		case 2:
			ws.Kind, err = s.optWord("kind", serviceKinds)
		case 3:
			ws.State, err = s.optWord("state", serviceStates)
		case 4:
			ws.Hostname, err = s.optString("hostname")
		case 5:
			ws.UUID, err = s.optString("uuid")
		case 6:
			ws.System, err = s.optBool("system")
		case 7:
			ws.Labels, err = d.labels(ws.Labels)
		case 8:
			ws.Ports, err = d.strings(4, "ports")
		case 9:
			ws.ExternalIPs, err = d.strings(4, "external_ips")
		case 10:
			ws.Containers, ws.names, ws.hasContainers, err = d.containerRefs()
		default:
			err = s.skip(4)
		}
		return err
	})
	if ws.Labels == nil { // labels: null
		ws.Labels = map[string]string{}
	}
	return ws, err
}

// labels reads a service's labels into m (a map given by an earlier labels
// key is added to); null gives nil.
func (d *treeDecoder) labels(m map[string]string) (map[string]string, error) {
	s := d.s
	switch s.peek() {
	case 'n':
		return nil, s.literal("null")
	case '{':
	default:
		return nil, s.mistyped("labels", "an object")
	}
	if m == nil {
		m = map[string]string{}
	}
	err := s.object(4, func(key []byte) error {
		k := d.intern(key, maxInternedKey)
		v, err := d.labelValue()
		m[k] = v
		return err
	})
	return m, err
}

// labelValue is the scanner's labelValue, a short plain string interned.
func (d *treeDecoder) labelValue() (string, error) {
	s := d.s
	if s.peek() != '"' {
		return s.labelValue(5)
	}
	return d.optInterned("label value", maxInternedValue)
}

// optInterned is the scanner's optString, a short plain string interned.
func (d *treeDecoder) optInterned(what string, max int) (string, error) {
	plain, str, err := d.s.optPlain(what)
	if plain == nil {
		return str, err
	}
	return d.intern(plain, max), nil
}

// Interning, within one decode: every service of a large environment
// carries the same label keys (and its containers' service), most of them
// the same few short values ("true", a port); a string of either is
// allocated once per decode, not once per service. The table goes with the
// decoder: nothing is kept from one answer to the next.
const (
	maxInterned      = 1024 // strings in the table: the common ones come first
	maxInternedKey   = 128  // bytes of a label key interned
	maxInternedValue = 24   // bytes of a label value (longer ones are rules, names: unique)
)

// intern is string(b), the same string as an equal one this decode
// interned before; b longer than max is not interned.
func (d *treeDecoder) intern(b []byte, max int) string {
	if len(b) > max {
		return string(b)
	}
	if v, ok := d.interned[string(b)]; ok {
		return v
	}
	v := string(b)
	if d.interned == nil {
		d.interned = make(map[string]string, 64)
	}
	if len(d.interned) < maxInterned {
		d.interned[v] = v
	}
	return v
}

// strings reads a list of strings, keeping those neither null nor empty.
func (d *treeDecoder) strings(depth int, what string) ([]string, error) {
	s := d.s
	switch s.peek() {
	case 'n':
		return nil, s.literal("null")
	case '[':
	default:
		return nil, s.mistyped(what, "a list")
	}
	var out []string
	err := s.array(depth, func() error {
		v, err := s.optString(what)
		if v != "" {
			out = append(out, v)
		}
		return err
	})
	return out, err
}

// containerRefs reads a service's containers: embedded objects, in
// order, and names. ok is false for null. The containers are read into the
// decoder's scratch list and copied out at their number: a service's
// containers slice is allocated once, not grown.
func (d *treeDecoder) containerRefs() (cs []Container, names []string, ok bool, err error) {
	s := d.s
	switch s.peek() {
	case 'n':
		return nil, nil, false, s.literal("null")
	case '[':
	default:
		return nil, nil, false, s.mistyped("containers", "a list")
	}
	scratch := d.scratch[:0]
	err = s.array(4, func() error {
		if s.peek() == '"' {
			name, err := s.str()
			names = append(names, name)
			return err
		}
		c, err := d.wireContainer(5, "a container", true)
		if err != nil {
			return fmt.Errorf("decoding container: %w", err)
		}
		scratch = append(scratch, c.Container)
		return nil
	})
	if len(scratch) > 0 {
		cs = slices.Clone(scratch)
	}
	clear(scratch) // the scratch holds no strings past this service
	d.scratch = scratch[:0]
	return cs, names, true, err
}
