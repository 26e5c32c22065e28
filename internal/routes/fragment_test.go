package routes

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFragmentIsToMap: for a label at every path of the generated schema,
// the typed configuration's fragment, merged into an empty configuration,
// is its toMap tree — so a section the generator adds cannot be left out
// of the fragment unnoticed.
func TestFragmentIsToMap(t *testing.T) {
	for _, e := range schemaEntries {
		t.Run(e.label, func(t *testing.T) {
			label := "traefik." + strings.NewReplacer("*", "n", ".[]", "[1]").Replace(e.label)
			c := &dynConfiguration{}
			_ = decodeLabel(c, &labelArgs{label: label, value: "1"}) // a value of the wrong kind still makes its sections
			got := map[string]any{}
			if err := mergeChecked(got, c.fragment()); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.toMap(), got); diff != "" {
				t.Errorf("(-toMap +fragment):\n%s", diff)
			}
		})
	}
}

// TestFragmentAddReplaces: an item added again under its name replaces the
// first, as a map assignment; other sections keep the name apart.
func TestFragmentAddReplaces(t *testing.T) {
	f := &fragment{}
	f.add("http", "routers", "a", map[string]any{"rule": "1"})
	f.add("http", "services", "a", map[string]any{"x": "s"})
	f.add("http", "routers", "a", map[string]any{"rule": "2"})
	got := map[string]any{}
	if err := mergeChecked(got, f); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"http": map[string]any{
		"routers":  map[string]any{"a": map[string]any{"rule": "2"}},
		"services": map[string]any{"a": map[string]any{"x": "s"}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
