package restpush

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestQualify: references to what the routes do not define become
// name@file; their own objects, names with a provider and the default TLS
// option stay.
func TestQualify(t *testing.T) {
	tests := []struct {
		name     string
		in, want map[string]any
	}{
		{"router references",
			map[string]any{"http": map[string]any{
				"routers": map[string]any{"r": map[string]any{
					"service": "own", "middlewares": []string{"local", "fromfile", "api-auth@file", "x@internal"},
					"tls": map[string]any{"options": "modern"},
				}},
				"middlewares": map[string]any{"local": map[string]any{"chain": map[string]any{"middlewares": []any{"local", "other"}}}},
				"services":    map[string]any{"own": map[string]any{"loadBalancer": map[string]any{"serversTransport": "insecure"}}},
			}},
			map[string]any{"http": map[string]any{
				"routers": map[string]any{"r": map[string]any{
					"service": "own", "middlewares": []string{"local", "fromfile@file", "api-auth@file", "x@internal"},
					"tls": map[string]any{"options": "modern@file"},
				}},
				"middlewares": map[string]any{"local": map[string]any{"chain": map[string]any{"middlewares": []any{"local", "other@file"}}}},
				"services":    map[string]any{"own": map[string]any{"loadBalancer": map[string]any{"serversTransport": "insecure@file"}}},
			}}},
		{"default TLS option and a file's service",
			map[string]any{"http": map[string]any{"routers": map[string]any{"r": map[string]any{
				"service": "static-site", "tls": map[string]any{"options": "default"},
			}}}},
			map[string]any{"http": map[string]any{"routers": map[string]any{"r": map[string]any{
				"service": "static-site@file", "tls": map[string]any{"options": "default"},
			}}}}},
		{"tcp and udp",
			map[string]any{
				"tcp": map[string]any{
					"routers":  map[string]any{"t": map[string]any{"service": "db", "middlewares": []string{"allow"}}},
					"services": map[string]any{"db": map[string]any{}},
				},
				"udp": map[string]any{"routers": map[string]any{"u": map[string]any{"service": "dns"}}},
			},
			map[string]any{
				"tcp": map[string]any{
					"routers":  map[string]any{"t": map[string]any{"service": "db", "middlewares": []string{"allow@file"}}},
					"services": map[string]any{"db": map[string]any{}},
				},
				"udp": map[string]any{"routers": map[string]any{"u": map[string]any{"service": "dns@file"}}},
			}},
		{"errors, weighted, mirroring, failover",
			map[string]any{"http": map[string]any{
				"middlewares": map[string]any{"e": map[string]any{"errors": map[string]any{"service": "pages"}}},
				"services": map[string]any{
					"a": map[string]any{"weighted": map[string]any{"services": []map[string]any{{"name": "a1"}, {"name": "b"}}}},
					"b": map[string]any{"mirroring": map[string]any{"service": "a", "mirrors": []any{map[string]any{"name": "m"}}}},
					"c": map[string]any{"failover": map[string]any{"service": "a", "fallback": "f"}},
				},
			}},
			map[string]any{"http": map[string]any{
				"middlewares": map[string]any{"e": map[string]any{"errors": map[string]any{"service": "pages@file"}}},
				"services": map[string]any{
					"a": map[string]any{"weighted": map[string]any{"services": []map[string]any{{"name": "a1@file"}, {"name": "b"}}}},
					"b": map[string]any{"mirroring": map[string]any{"service": "a", "mirrors": []map[string]any{{"name": "m@file"}}}},
					"c": map[string]any{"failover": map[string]any{"service": "a", "fallback": "f@file"}},
				},
			}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := deepCopy(t, tt.in)
			got := Qualify(tt.in)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if d := cmp.Diff(before, deepCopy(t, tt.in)); d != "" {
				t.Errorf("the tree given was changed (-before +after):\n%s", d)
			}
			appendsAs(t, tt.in, tt.want)
		})
	}
}

// appendsAs checks that AppendRoutes writes for in what json.Marshal
// writes for want (Qualify's answer).
func appendsAs(t *testing.T, in, want map[string]any) {
	t.Helper()
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := AppendRoutes(nil, in); err != nil || string(got) != string(w) {
		t.Errorf("AppendRoutes: %v\n got  %s\n want %s", err, got, w)
	}
}

// deepCopy is v through JSON, to compare a tree before and after.
func deepCopy(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
