package main

import (
	"bytes"
	"fmt"
)

// goType is the Go type of field f.
func goType(f *field) string {
	switch f.shape {
	case section:
		return "*" + f.elem.name
	case namedMap:
		return "namedList[" + f.elem.name + "]"
	case leafMap:
		return "map[string]" + valueType(f.kind)
	case list:
		return "[]" + f.elem.name
	case free:
		return "map[string]any"
	}
	return "optional[" + valueType(f.kind) + "]"
}

// valueType is the Go type a label value of kind k converts to: what the
// TOML encoder writes (durations as Go duration strings, whole numbers as
// int64).
func valueType(k string) string {
	switch k {
	case "kindBool":
		return "bool"
	case "kindInt", "kindUint":
		return "int64"
	case "kindFloat":
		return "float64"
	case "kindList":
		return "[]string"
	}
	return "string" // string, duration, free-form
}

// writeType writes g's struct, its accessors and its toMap.
func writeType(b *bytes.Buffer, g *gtype, root bool) {
	fmt.Fprintf(b, "// %s is Traefik's %s, as far as labels reach it.\ntype %s struct {\n", g.name, g.traefk, g.name)
	for _, f := range g.fields {
		if f.labelOnly {
			// Read by the provider, where "" is not set.
			fmt.Fprintf(b, "\t%s, %sLabel string // and the label that set it, for the provider's errors\n", f.name, f.name)
			continue
		}
		fmt.Fprintf(b, "\t%s %s\n", f.name, goType(f))
	}
	b.WriteString("}\n\n")
	for _, f := range g.fields {
		writeAccessor(b, g, f)
	}
	writeToMap(b, g, root)
	if g.named {
		writeCount(b, g)
	}
}

// writeCount writes the count of a named section (a router, service,
// middleware, model): how many keys its toMap gives, so the build can tell
// what it sets without encoding it.
func writeCount(b *bytes.Buffer, g *gtype) {
	fmt.Fprintf(b, "func (x *%s) count() int {\n\tn := 0\n", g.name)
	for _, f := range g.fields {
		if f.labelOnly {
			continue
		}
		cond := map[shape]string{leaf: "x.%s.set", section: "x.%s != nil", list: "x.%s != nil"}[f.shape]
		if cond == "" {
			cond = "len(x.%s) > 0"
		}
		fmt.Fprintf(b, "\tif "+cond+" {\n\t\tn++\n\t}\n", f.name)
	}
	b.WriteString("\treturn n\n}\n\n")
}

// writeAccessor writes the method a setter reaches f's section, element
// or map entry with, making it on first use.
func writeAccessor(b *bytes.Buffer, g *gtype, f *field) {
	switch f.shape {
	case section:
		fmt.Fprintf(b, "func (x *%s) %sSec() *%s {\n\tif x.%s == nil {\n\t\tx.%s = &%s{}\n\t}\n\treturn x.%s\n}\n\n",
			g.name, f.name, f.elem.name, f.name, f.name, f.elem.name, f.name)
	case namedMap:
		fmt.Fprintf(b, "func (x *%s) %sAt(name string) *%s {\n\treturn x.%s.at(name)\n}\n\n", g.name, f.name, f.elem.name, f.name)
	case leafMap:
		fmt.Fprintf(b, "func (x *%s) %sPut(name string, v %s) {\n\tif x.%s == nil {\n\t\tx.%s = map[string]%s{}\n\t}\n\tx.%s[name] = v\n}\n\n",
			g.name, f.name, valueType(f.kind), f.name, f.name, valueType(f.kind), f.name)
	case list:
		fmt.Fprintf(b, "func (x *%s) %sAt(i int) *%s {\n\tfor len(x.%s) <= i {\n\t\tx.%s = append(x.%s, %s{})\n\t}\n\treturn &x.%s[i]\n}\n\n",
			g.name, f.name, f.elem.name, f.name, f.name, f.name, f.elem.name, f.name)
	}
}

// writeToMap writes g's toMap: what labels set, by Traefik's key names.
// The root leaves out a protocol whose sections are all empty.
func writeToMap(b *bytes.Buffer, g *gtype, root bool) {
	fmt.Fprintf(b, "func (x *%s) toMap() map[string]any {\n\tm := make(map[string]any, %d)\n", g.name, min(len(g.fields), 8))
	for _, f := range g.fields {
		if f.labelOnly {
			continue
		}
		switch {
		case root:
			fmt.Fprintf(b, "\tif x.%s != nil {\n\t\tif s := x.%s.toMap(); len(s) > 0 {\n\t\t\tm[%q] = s\n\t\t}\n\t}\n", f.name, f.name, f.toml)
		case f.shape == leaf:
			fmt.Fprintf(b, "\tput(m, %q, x.%s)\n", f.toml, f.name)
		case f.shape == section:
			fmt.Fprintf(b, "\tif x.%s != nil {\n\t\tm[%q] = x.%s.toMap()\n\t}\n", f.name, f.toml, f.name)
		case f.shape == list:
			// An empty list is written: a service without servers.
			fmt.Fprintf(b, "\tif x.%s != nil {\n\t\tm[%q] = structList(x.%s)\n\t}\n", f.name, f.toml, f.name)
		default:
			conv := map[shape]string{namedMap: "namedMaps(x.%s)", leafMap: "leafMap(x.%s)", free: "x.%s"}[f.shape]
			fmt.Fprintf(b, "\tif len(x.%s) > 0 {\n\t\tm[%q] = "+conv+"\n\t}\n", f.name, f.toml, f.name)
		}
	}
	b.WriteString("\treturn m\n}\n\n")
}
