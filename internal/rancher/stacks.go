package rancher

import (
	"errors"
	"fmt"
	"io"
)

// decodeStacks decodes the answer to /stacks (a list of stacks embedding
// their services, which embed their containers: metadata 2015-12-19 on)
// into the snapshot the root tree of version would give. It is a third of
// the root's bytes at any size: the root repeats every service (under
// stacks and in its services list) and adds the containers list, the hosts
// and self, which the model does not use. Traefik v2's Rancher provider
// reads only /stacks too (GetStacks in go-rancher-metadata).
//
// It fails with errNeedsRoot where the stacks alone may not give the root's
// snapshot: a stack's service given by name (2015-07-25) or without a
// containers list (early releases embedded services without their
// containers under stacks), a container given by name, or a service whose
// stack_name is not its stack's name (the root would place it elsewhere).
func decodeStacks(r io.Reader, version string) (*Snapshot, error) {
	return decodeStacksSized(r, version, 0)
}

// decodeStacksSized is decodeStacks with room for services services to
// begin with (see withRoom).
func decodeStacksSized(r io.Reader, version string, services int) (*Snapshot, error) {
	d := (&treeDecoder{s: newScanner(r, 64<<10), systemStacks: map[string]bool{}, stackEnvs: map[string]string{}}).withRoom(services)
	d.version, d.hasServices = version, true
	s := d.s
	var err error
	switch s.peek() {
	case 'n':
		err = s.literal("null")
	case '[':
		err = s.array(1, d.stackWithServices)
	default:
		err = fmt.Errorf("the answer is not a JSON list")
	}
	if err == nil && !s.atEnd() {
		err = s.rerr
		if err == nil {
			err = fmt.Errorf("more data after the answer")
		}
	}
	if err != nil {
		if errors.Is(err, errNeedsRoot) {
			return nil, err
		}
		return nil, fmt.Errorf("decoding metadata stacks: %w", err)
	}
	return d.snapshot(), nil
}

// stackWithServices reads a stack object with its embedded services.
func (d *treeDecoder) stackWithServices() error {
	s := d.s
	switch s.peek() {
	case 'n':
		return errNeedsRoot // null: let the root decide
	case '{':
	default:
		return s.mistyped("a stack", "an object")
	}
	var st wireStack
	first := len(d.services)
	err := s.object(2, func(key []byte) (err error) {
		switch field(key, stackServiceFields) {
		case 0:
			st.Name, err = s.optString("name")
		case 1:
			st.System, err = s.optBool("system")
		case 2:
			st.hasEnv = s.peek() != 'n'
			st.Environment, err = s.optString("environment_name")
		case 3:
			if len(d.services) > first { // a second services key: encoding/json's last-wins is the root's business
				return errNeedsRoot
			}
			err = d.list("services", d.stackService)
		default:
			err = s.skip(3)
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, sv := range d.services[first:] {
		if sv.Stack != st.Name {
			return errNeedsRoot
		}
	}
	if st.System {
		d.systemStacks[st.Name] = true
	}
	if st.hasEnv {
		d.stackEnvs[st.Name] = st.Environment
	}
	return nil
}

var stackServiceFields = []string{"name", "system", "environment_name", "services"}

// stackService reads one embedded service; one the root might give
// otherwise is errNeedsRoot.
func (d *treeDecoder) stackService() error {
	if c := d.s.peek(); c == '"' || c == 'n' {
		return errNeedsRoot // a name (2015-07-25) or null
	}
	if err := d.service(); err != nil {
		return err
	}
	ps := &d.pending[len(d.pending)-1]
	if ps.byService || len(ps.refs) > 0 {
		return errNeedsRoot
	}
	return nil
}
