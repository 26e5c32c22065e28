package routes

import (
	"reflect"
	"testing"
)

func TestDropResolver(t *testing.T) {
	router := func(tls map[string]any) map[string]any {
		r := map[string]any{"rule": "Host(`a`)", "service": "s"}
		if tls != nil {
			r["tls"] = tls
		}
		return r
	}
	for _, tc := range []struct {
		name      string
		cfg, want map[string]any
		n         int
	}{
		{"nothing", map[string]any{}, map[string]any{}, 0},
		{
			"http and tcp routers of acme lose it, TLS kept",
			map[string]any{
				"http": map[string]any{"routers": map[string]any{"a": router(map[string]any{"certResolver": "acme"}), "b": router(nil)}},
				"tcp":  map[string]any{"routers": map[string]any{"c": router(map[string]any{"certResolver": "acme", "passthrough": false})}},
			},
			map[string]any{
				"http": map[string]any{"routers": map[string]any{"a": router(map[string]any{}), "b": router(nil)}},
				"tcp":  map[string]any{"routers": map[string]any{"c": router(map[string]any{"passthrough": false})}},
			},
			2,
		},
		{
			"another resolver stays",
			map[string]any{"http": map[string]any{"routers": map[string]any{"a": router(map[string]any{"certResolver": "other"})}}},
			map[string]any{"http": map[string]any{"routers": map[string]any{"a": router(map[string]any{"certResolver": "other"})}}},
			0,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if n := DropResolver(tc.cfg, "acme"); n != tc.n {
				t.Errorf("removed %d, want %d", n, tc.n)
			}
			if !reflect.DeepEqual(tc.cfg, tc.want) {
				t.Errorf("got %v\nwant %v", tc.cfg, tc.want)
			}
		})
	}
}
