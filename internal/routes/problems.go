package routes

import (
	"fmt"
	"sort"
	"strings"
)

// labelErrors is every label problem of one service, so that an operator
// fixing a service sees all of its bad labels at once, not one per reload.
type labelErrors []*labelError

func (e labelErrors) Error() string {
	msgs := make([]string, len(e))
	for i, le := range e {
		msgs[i] = le.label + ": " + le.Error()
	}
	return strings.Join(msgs, "; ")
}

// problems collects the label errors of one service while its translation
// goes on past them: those that leave the service out (add), and those
// that cost only the label's own setting (drop).
type problems struct {
	labels  labelErrors
	dropped labelErrors
	seen    map[string]bool
	// notes are what the labels cost short of leaving the service out,
	// recorded as warnings (note) rather than errors (errDrop).
	notes []Warning
}

// note records what a label cost the service short of leaving it out.
func (p *problems) note(sev Severity, label, format string, args ...any) {
	p.notes = append(p.notes, Warning{Label: label, Msg: fmt.Sprintf(format, args...), Severity: sev})
}

// warnings are what the labels cost the service short of leaving it out:
// the settings dropped (Dropped) and the notes, ordered by label and
// message, as the labels' maps give them in any order.
func (p *problems) warnings() []Warning {
	ws := p.notes
	for _, le := range p.dropped {
		ws = append(ws, Warning{Label: le.label, Msg: le.Error(), Severity: Dropped})
	}
	return sortedNotes(ws)
}

// sortedNotes orders warnings by label and message.
func sortedNotes(ns []Warning) []Warning {
	sort.Slice(ns, func(i, j int) bool {
		return ns[i].Label < ns[j].Label || ns[i].Label == ns[j].Label && ns[i].Msg < ns[j].Msg
	})
	return ns
}

func sortLabelErrors(les labelErrors) {
	sort.Slice(les, func(i, j int) bool {
		a, b := les[i], les[j]
		return a.label < b.label || a.label == b.label && a.err.Error() < b.err.Error()
	})
}

// add records err and reports whether there was one. A label error already
// recorded (a root label shared by several segments) is recorded once. An
// error of errDrop costs only its label's setting; any other, the service.
func (p *problems) add(err error) bool {
	if err == nil {
		return false
	}
	le, ok := err.(*labelError)
	if !ok {
		le = &labelError{err: err}
	}
	key := le.label + "\x00" + le.err.Error()
	if p.seen[key] {
		return true
	}
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	p.seen[key] = true
	if le.dropOnly {
		p.dropped = append(p.dropped, le)
	} else {
		p.labels = append(p.labels, le)
	}
	return true
}

// drop records that label is dropped, and why; the service stays.
func (p *problems) drop(label, format string, args ...any) {
	p.add(errDrop(label, format, args...))
}

// at records err, when there is one, as a problem of label.
func (p *problems) at(label string, err error) bool {
	if err == nil {
		return false
	}
	return p.add(&labelError{label: label, err: err})
}

// err is nil, the single problem, or every problem ordered by label, so the
// same labels always give the same warnings.
func (p *problems) err() error {
	switch len(p.labels) {
	case 0:
		return nil
	case 1:
		if p.labels[0].label == "" {
			return p.labels[0].err
		}
		return p.labels[0]
	}
	sortLabelErrors(p.labels)
	return p.labels
}

// warnings turns a service's translation error into its warnings: one per
// label at fault.
func warnings(stack, service string, err error) []Warning {
	les, ok := err.(labelErrors)
	if !ok {
		w := Warning{Stack: stack, Service: service, Msg: err.Error()}
		if le, ok := err.(*labelError); ok {
			w.Label = le.label
		}
		return []Warning{w}
	}
	ws := make([]Warning, len(les))
	for i, le := range les {
		ws[i] = Warning{Stack: stack, Service: service, Label: le.label, Msg: le.Error()}
	}
	return ws
}
