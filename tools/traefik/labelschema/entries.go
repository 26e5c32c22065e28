package main

import (
	"fmt"
	"log"
	"strings"
)

// entry is one label path with the Go statements that set it.
type entry struct {
	label, kind string
	set         string // the setter's body
}

// providerConv converts the label-only values the provider reads: a
// server's port as given (checked when the servers are built), its scheme
// checked at once.
var providerConv = map[string]string{"port": "a.str()", "scheme": "a.scheme()"}

// providerFails tells the label-only conversions that can fail.
var providerFails = map[string]bool{"scheme": true}

// convOf is the labelArgs conversion of each kind and whether it can fail.
var convOf = map[string]struct {
	call  string
	fails bool
}{
	"kindString": {"a.str()", false}, "kindAny": {"a.str()", false}, "kindList": {"a.list()", false},
	"kindBool": {"a.boolean()", true}, "kindInt": {"a.int()", true}, "kindUint": {"a.uint()", true},
	"kindFloat": {"a.float()", true}, "kindDuration": {"a.duration()", true},
}

// walkState is where the walk of the generated types is: the label path
// so far, the Go expression of the struct it reaches (from the root c),
// and how many names and list indexes the path holds.
type walkState struct {
	label, expr string
	names, idx  int
	lim         *limits
}

// limits are the most names (*) and list indexes ([]) a label path holds.
type limits struct{ names, indexes int }

// entries lists every label path of g, reached as st says.
func entries(g *gtype, st walkState, out *[]entry) {
	st.lim.names, st.lim.indexes = max(st.lim.names, st.names), max(st.lim.indexes, st.idx)
	for _, f := range g.fields {
		if f.seg == "" {
			continue // no label sets it
		}
		l := strings.TrimPrefix(st.label+"."+f.seg, ".")
		x := st.expr
		switch f.shape {
		case leaf:
			*out = append(*out, entry{l, f.kind, leafSetter(f, x)})
		case section:
			acc := fmt.Sprintf("%s.%sSec()", x, f.name)
			if f.empty {
				*out = append(*out, entry{l, "kindEmpty", acc + "\nreturn nil"})
			}
			entries(f.elem, walkState{l, acc, st.names, st.idx, st.lim}, out)
		case namedMap:
			entries(f.elem, walkState{l + ".*", fmt.Sprintf("%s.%sAt(a.names[%d])", x, f.name, st.names), st.names + 1, st.idx, st.lim}, out)
		case leafMap:
			c := convOf[f.kind]
			*out = append(*out, entry{l + ".*", f.kind, convert(c.call, c.fails, fmt.Sprintf("%s.%sPut(a.names[%d], v)", x, f.name, st.names))})
			st.lim.names = max(st.lim.names, st.names+1)
		case list:
			if f.one {
				entries(f.elem, walkState{l, fmt.Sprintf("%s.%sAt(0)", x, f.name), st.names, st.idx, st.lim}, out)
			} else {
				entries(f.elem, walkState{l + ".[]", fmt.Sprintf("%s.%sAt(a.idx[%d])", x, f.name, st.idx), st.names, st.idx + 1, st.lim}, out)
			}
		case free:
			*out = append(*out, entry{l + ".*", "kindAny", fmt.Sprintf("return a.free(&%s.%s, a.names[%d])", x, f.name, st.names)})
			st.lim.names = max(st.lim.names, st.names+1)
		}
	}
}

// leafSetter sets a leaf: the value converted first (a bad one leaves the
// configuration as it was), then the field. A label-only value's struct is
// made first: the service exists even when only its port is given.
func leafSetter(f *field, x string) string {
	if f.labelOnly {
		call, ok := providerConv[f.name]
		if !ok {
			log.Fatalf("label-only field %s: say how the provider reads it (providerConv)", f.name)
		}
		return fmt.Sprintf("s := %s\n", x) + convert(call, providerFails[f.name], fmt.Sprintf("s.%s, s.%sLabel = v, a.label", f.name, f.name))
	}
	c := convOf[f.kind]
	return convert(c.call, c.fails, fmt.Sprintf("%s.%s = some(v)", x, f.name))
}

func convert(call string, fails bool, assign string) string {
	if !fails {
		return fmt.Sprintf("v := %s\n%s\nreturn nil", call, assign)
	}
	return fmt.Sprintf("v, err := %s\nif err != nil {\nreturn err\n}\n%s\nreturn nil", call, assign)
}
