package publish

import "github.com/BurntSushi/toml"

// decodeTOML reads TOML into a tree routes.Encode can write again: an
// inline array of tables ([{ url = "…" }]) decodes as []any, which becomes
// []map[string]any.
func decodeTOML(b []byte, v *map[string]any) error {
	if _, err := toml.Decode(string(b), v); err != nil {
		return err
	}
	normalize(*v)
	return nil
}

func normalize(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case map[string]any:
			normalize(x)
		case []map[string]any:
			for _, e := range x {
				normalize(e)
			}
		case []any:
			if tables, ok := asTables(x); ok {
				m[k] = tables
			}
		}
	}
}

// asTables is list as []map[string]any when every item is a table.
func asTables(list []any) ([]map[string]any, bool) {
	if len(list) == 0 {
		return nil, false
	}
	out := make([]map[string]any, len(list))
	for i, e := range list {
		t, ok := e.(map[string]any)
		if !ok {
			return nil, false
		}
		normalize(t)
		out[i] = t
	}
	return out, true
}
