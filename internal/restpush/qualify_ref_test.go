package restpush

import "maps"

// The reference AppendRoutes is held to: the qualified routes tree as a
// copy, which json.Marshal encodes to the bytes AppendRoutes must write.

// Qualify returns cfg with the references its protocols' sections do
// not define qualified (qualifier), as a copy: cfg is not changed, a
// table with a reference to qualify is copied and the others are shared.
func Qualify(cfg map[string]any) map[string]any {
	out := maps.Clone(cfg)
	for _, proto := range protocols {
		sec, _ := cfg[proto].(map[string]any)
		if sec == nil {
			continue
		}
		q := newQualifier(sec)
		s := maps.Clone(sec)
		for key, v := range sec {
			if f := q.of(key); f != nil {
				s[key] = eachTable(v, f)
			}
		}
		out[proto] = s
	}
	return out
}

// protocols are the sections of a routes tree whose references are
// qualified.
var protocols = []string{"http", "tcp", "udp"}

// eachTable is a section's name → table map with f applied to each table.
func eachTable(v any, f func(map[string]any) map[string]any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, e := range m {
		if t, ok := e.(map[string]any); ok {
			e = f(t)
		}
		out[k] = e
	}
	return out
}
