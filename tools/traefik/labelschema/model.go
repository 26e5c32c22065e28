package main

import (
	"go/token"
	"log"
	"path"
	"reflect"
	"strings"
	"time"

	ptypes "github.com/traefik/paerser/types"
)

// shape is how a field of a generated type holds its value.
type shape int

const (
	leaf     shape = iota // optional[T]: a setting
	section               // *T: a section, nil when no label set it
	namedMap              // map[string]*T: routers.<name>, …
	leafMap               // map[string]T: headers.customRequestHeaders.<name>
	list                  // []T: tls.domains[0], or loadbalancer.server (element 0)
	free                  // map[string]any: plugin settings, free-form
)

// gtype is one generated struct: a Traefik type as far as labels reach it.
type gtype struct {
	name   string // dynRouter
	traefk string // dynamic.Router, for the doc comment
	named  bool   // the element of a named map: routers.<name>
	fields []*field
}

// field is one field of a generated struct.
type field struct {
	name      string // Go identifier
	toml      string // Traefik's key; "" for a label-only value
	seg       string // the label segment (lower case); "" when no label sets it
	shape     shape
	kind      string // kindString, …: of a leaf or of a leafMap's values
	elem      *gtype // of a section, namedMap or list
	empty     bool   // a section "true" alone enables (allowEmpty)
	one       bool   // a list labels set as one element (label-slice-as-struct)
	labelOnly bool   // read by the provider, never written (a server's port)
}

// providerFilled are the fields no label sets that the provider fills in,
// as rancher-traefik's build does: a TCP or UDP server's address (an HTTP
// server's url is a label too).
var providerFilled = map[string]bool{"dynamic.TCPServer.Address": true, "dynamic.UDPServer.Address": true}

var (
	durationType = reflect.TypeOf(ptypes.Duration(0))
	timeDuration = reflect.TypeOf(time.Duration(0))
)

// model holds every generated type, by the Traefik type it stands for.
type model struct {
	byType map[reflect.Type]*gtype
	byName map[string]reflect.Type
	order  []*gtype
}

func newModel() *model {
	return &model{byType: map[reflect.Type]*gtype{}, byName: map[string]reflect.Type{}}
}

// typeOf returns the generated type of Traefik's struct t, walking it on
// first use.
func (m *model) typeOf(t reflect.Type, depth int) *gtype {
	t = derefType(t)
	if g, ok := m.byType[t]; ok {
		return g
	}
	if depth > 20 {
		log.Fatalf("too deep at %s", t)
	}
	name := "dyn" + t.Name()
	if pkg := path.Base(t.PkgPath()); pkg != "dynamic" {
		name = "dyn" + strings.ToUpper(pkg[:1]) + pkg[1:] + t.Name() // types.Domain: dynTypesDomain
	}
	if prev, ok := m.byName[name]; ok && prev != t {
		log.Fatalf("two Traefik types give %s: %s and %s", name, prev, t)
	}
	g := &gtype{name: name, traefk: t.String()}
	m.byType[t], m.byName[name] = g, t
	m.order = append(m.order, g)
	m.fields(g, t, depth)
	return g
}

// fields adds the fields of Traefik's struct t to g, as Traefik's label
// decoder (paerser) sees them: label:"-" is no label, toml:"-" is read from
// labels only, embedded structs are flattened.
func (m *model) fields(g *gtype, t reflect.Type, depth int) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		if f.Anonymous {
			m.fields(g, derefType(f.Type), depth)
			continue
		}
		tn := tomlName(f)
		switch {
		case f.Tag.Get("label") == "-":
			// No label sets it; what the provider fills (a TCP or UDP
			// server's address) is kept for the build.
			if providerFilled[g.traefk+"."+f.Name] {
				g.fields = append(g.fields, &field{name: ident(tn), toml: tn, shape: leaf, kind: leafKind(f.Type)})
			}
			continue
		case tn == "-":
			g.fields = append(g.fields, &field{name: ident(lowerFirst(f.Name)), seg: strings.ToLower(f.Name), shape: leaf, kind: kindOf(derefType(f.Type)), labelOnly: true})
			continue
		}
		fd := m.field(f.Type, depth)
		fd.name, fd.toml, fd.seg = ident(tn), tn, strings.ToLower(f.Name)
		if sas := f.Tag.Get("label-slice-as-struct"); sas != "" {
			if fd.shape != list {
				log.Fatalf("%s.%s: label-slice-as-struct on a %s", t, f.Name, f.Type)
			}
			fd.one, fd.seg = true, strings.ToLower(sas)
		}
		fd.empty = f.Tag.Get("label") == "allowEmpty" && fd.shape == section
		g.fields = append(g.fields, fd)
	}
}

// field gives the shape of a field of type t.
func (m *model) field(t reflect.Type, depth int) *field {
	t = derefType(t)
	if isLeaf(t) {
		return &field{shape: leaf, kind: leafKind(t)}
	}
	switch t.Kind() {
	case reflect.Struct:
		return &field{shape: section, elem: m.typeOf(t, depth+1)}
	case reflect.Map:
		elem := derefType(t.Elem())
		switch {
		case elem.Kind() == reflect.Interface || (elem.Kind() == reflect.Map && elem.Elem().Kind() == reflect.Interface):
			return &field{shape: free, kind: "kindAny"}
		case elem.Kind() == reflect.Struct:
			g := m.typeOf(elem, depth+1)
			g.named = true
			return &field{shape: namedMap, elem: g}
		case isLeaf(elem) && elem.Kind() != reflect.Slice:
			return &field{shape: leafMap, kind: leafKind(elem)}
		}
	case reflect.Slice:
		if elem := derefType(t.Elem()); elem.Kind() == reflect.Struct {
			return &field{shape: list, elem: m.typeOf(elem, depth+1)}
		}
	}
	log.Fatalf("unsupported field type %s", t)
	return nil
}

// isLeaf reports whether t is a setting: a scalar, a duration, a list of
// strings, or free-form.
func isLeaf(t reflect.Type) bool {
	t = derefType(t)
	switch {
	case t == durationType || t == timeDuration:
		return true
	case t.Kind() == reflect.Slice:
		return derefType(t.Elem()).Kind() != reflect.Struct
	case t.Kind() == reflect.Interface:
		return true
	}
	return t.Kind() != reflect.Struct && t.Kind() != reflect.Map
}

func leafKind(t reflect.Type) string {
	t = derefType(t)
	switch {
	case t == durationType || t == timeDuration:
		return "kindDuration"
	case t.Kind() == reflect.Slice:
		if e := derefType(t.Elem()); e.Kind() != reflect.String {
			log.Fatalf("a list of %s: labels give lists of strings", e)
		}
		return "kindList"
	case t.Kind() == reflect.Interface:
		return "kindAny"
	}
	return kindOf(t)
}

func kindOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "kindString"
	case reflect.Bool:
		return "kindBool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "kindInt"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "kindUint"
	case reflect.Float32, reflect.Float64:
		return "kindFloat"
	}
	log.Fatalf("unsupported kind %s (%s)", t.Kind(), t)
	return ""
}

func tomlName(f reflect.StructField) string {
	n, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if n == "" {
		return f.Name
	}
	return n
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func lowerFirst(s string) string { return strings.ToLower(s[:1]) + s[1:] }

// ident is a Go identifier for a Traefik key.
func ident(s string) string {
	s = lowerFirst(s)
	if token.IsKeyword(s) {
		return s + "_"
	}
	return s
}
