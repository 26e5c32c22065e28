package restpush

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"rancher-traefik/internal/metadataserver"
	"rancher-traefik/internal/routes"
	"rancher-traefik/internal/testsnap"
	"rancher-traefik/internal/teststack"
)

// sameAsMarshal fails t unless AppendJSON gives exactly what json.Marshal
// gives for v: the same bytes, appended after what dst held, or the same
// error.
func sameAsMarshal(t *testing.T, v any) {
	t.Helper()
	want, wantErr := json.Marshal(v)
	prefix := []byte("prefix:")
	got, err := AppendJSON(bytes.Clone(prefix), v)
	switch {
	case wantErr != nil || err != nil:
		if wantErr == nil || err == nil || err.Error() != wantErr.Error() {
			t.Fatalf("AppendJSON(%#v): error %v, json.Marshal's %v", v, err, wantErr)
		}
	case !bytes.HasPrefix(got, prefix):
		t.Fatalf("AppendJSON(%#v) did not append: %q", v, got)
	case !bytes.Equal(got[len(prefix):], want):
		got = got[len(prefix):]
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("AppendJSON differs from json.Marshal at byte %d of %d:\n got  %q\n want %q", i, len(want), got[max(0, i-40):min(len(got), i+40)], want[max(0, i-40):min(len(want), i+40)])
	}
}

// sameAsQualified fails t unless AppendRoutes gives exactly what
// json.Marshal(Qualify(cfg)) gives, and leaves cfg as it was.
func sameAsQualified(t *testing.T, cfg map[string]any) {
	t.Helper()
	before, _ := json.Marshal(cfg)
	want, wantErr := json.Marshal(Qualify(cfg))
	got, err := AppendRoutes([]byte("prefix:"), cfg)
	switch {
	case wantErr != nil || err != nil:
		if wantErr == nil || err == nil || err.Error() != wantErr.Error() {
			t.Fatalf("AppendRoutes: error %v, json.Marshal(Qualify)'s %v", err, wantErr)
		}
	case string(got) != "prefix:"+string(want):
		t.Fatalf("AppendRoutes differs from json.Marshal(Qualify):\n got  %s\n want prefix:%s", got, want)
	}
	if after, _ := json.Marshal(cfg); !bytes.Equal(before, after) {
		t.Fatal("AppendRoutes changed the tree")
	}
}

type marshaler struct{ s string }

func (m marshaler) MarshalJSON() ([]byte, error) {
	if m.s == "fail" {
		return nil, fmt.Errorf("marshaler failed")
	}
	return []byte(m.s), nil
}

// TestAppendJSONTable: every type a routes tree holds, each escaping and
// number formatting rule of encoding/json, and values it falls back on
// json.Marshal for, errors included.
func TestAppendJSONTable(t *testing.T) {
	allASCII := make([]byte, 128)
	for i := range allASCII {
		allASCII[i] = byte(i)
	}
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	deep := any("leaf")
	for range maxDepth + 10 {
		deep = map[string]any{"d": []any{deep}}
	}
	tests := []struct {
		name string
		v    any
	}{
		{"nil", nil},
		{"empty string", ""},
		{"plain string", "Host(`svc1.example.com`) && PathPrefix(`/api`)"},
		{"every ASCII byte", string(allASCII)},
		{"html", `<script>a && b > c</script>`},
		{"quotes and backslashes", `"a\"b\\c"`},
		{"control characters", "\b\f\n\r\t\x00\x01\x1f\x7f"},
		{"unicode", "héllo 世界 🚀 \u00a0 \ufeff"},
		{"line and paragraph separators", "a\u2028b\u2029c\u2027\u202a"},
		{"literal replacement character", "\ufffd"},
		{"invalid UTF-8", "a\xffb\xc3\xed\xa0\x80\xc0\x80\xf4\x90\x80\x80z\xe2\x82"},
		{"truncated rune at the end", "abc\xe4\xb8"},
		{"bools", []any{true, false}},
		{"ints", []any{0, -1, 1, math.MaxInt64, math.MinInt64, int8(-128), int16(32767), int32(math.MinInt32), int64(1 << 53)}},
		{"uints", []any{uint(0), uint(math.MaxUint), uint8(255), uint16(65535), uint32(math.MaxUint32), uint64(math.MaxUint64)}},
		{"floats", []any{0.0, math.Copysign(0, -1), 1.0, -1.5, 0.1, 1e20, 1e21, 123456789e13, 1e-6, 0.000001, 9.99e-7, 1e-7, 5e-324,
			math.MaxFloat64, -math.MaxFloat64, 1e100, 1.2345678901234567e-300, 3.0e8, 100}},
		{"float32s", []any{float32(0), float32(0.1), float32(1e21), float32(1e20), float32(1e-6), float32(9.9e-7), float32(math.MaxFloat32), float32(-3.5)}},
		{"NaN", map[string]any{"a": math.NaN()}},
		{"infinity", []any{math.Inf(1)}},
		{"float32 infinity", []any{float32(math.Inf(-1))}},
		{"nil containers", map[string]any{"m": map[string]any(nil), "l": []any(nil), "s": []string(nil), "t": []map[string]any(nil), "n": nil}},
		{"empty containers", map[string]any{"m": map[string]any{}, "l": []any{}, "s": []string{}, "t": []map[string]any{}}},
		{"array of tables with a nil table", []map[string]any{{"a": 1}, nil, {}}},
		{"keys sorted by bytes", map[string]any{"b": 1, "a": 2, "B": 3, "é": 4, "aa": 5, "": 6, "a\x00": 7, "<": 8, "\xff": 9, "\xfe": 10, "\u2028": 11}},
		{"routes-like", map[string]any{"http": map[string]any{
			"routers": map[string]any{"r1": map[string]any{"rule": "Host(`a`)", "entryPoints": []string{"https"}, "priority": 10,
				"tls": map[string]any{"certResolver": "acme"}, "middlewares": []any{"a@file", "b"}}},
			"services": map[string]any{"s1": map[string]any{"loadBalancer": map[string]any{
				"servers": []map[string]any{{"url": "http://10.0.0.1:80"}}, "passHostHeader": true, "healthCheck": map[string]any{"interval": "10s"}}}},
		}}},
		{"fallback types", []any{json.Number("12.50"), []byte("bytes"), map[string]int{"z": 1, "a": 2}, []int{1, 2},
			struct {
				A string `json:"a"`
				B int    `json:"b,omitempty"`
			}{A: "<x>"}, 90 * time.Second, marshaler{`{"b": 1, "a":"<&>"}`}, &marshaler{`[1, 2]`}}},
		{"named map type", map[string]any{"x": routesMap{"k": "v"}}},
		{"fallback error", map[string]any{"a": marshaler{"fail"}}},
		{"invalid json.Number", []any{json.Number("1x")}},
		{"cycle", cyclic},
		{"deeper than maxDepth", deep},
		{"unsupported type", map[string]any{"c": make(chan int)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { sameAsMarshal(t, tt.v) })
	}
}

type routesMap map[string]any

// TestAppendRoutesTable: AppendRoutes on the shapes Qualify treats apart:
// nil and non-table sections and objects, and names to qualify or not
// (TestQualify's cases are checked too).
func TestAppendRoutesTable(t *testing.T) {
	tests := []struct {
		name string
		cfg  map[string]any
	}{
		{"nil", nil},
		{"empty", map[string]any{}},
		{"nil protocol section", map[string]any{"http": map[string]any(nil), "tcp": nil}},
		{"protocol section not a table", map[string]any{"http": "x", "udp": []any{1}}},
		{"nil routers, middlewares, services", map[string]any{"http": map[string]any{
			"routers": map[string]any(nil), "middlewares": map[string]any(nil), "services": map[string]any(nil), "serversTransports": map[string]any(nil)}}},
		{"sections not tables", map[string]any{"tcp": map[string]any{"routers": []any{"a"}, "services": "s", "middlewares": 1}}},
		{"nil and odd objects", map[string]any{"http": map[string]any{
			"routers":  map[string]any{"nil": map[string]any(nil), "str": "x", "r": map[string]any{"service": "s", "middlewares": []any{"m", 1, nil}}},
			"services": map[string]any{"w": map[string]any{"weighted": map[string]any{"services": []any{map[string]any{"name": "x"}, "odd"}}}},
		}}},
		{"other top-level keys", map[string]any{"tls": map[string]any{"options": map[string]any{"modern": map[string]any{}}},
			"routers": map[string]any{"r": map[string]any{"service": "s"}}, "http": map[string]any{"routers": map[string]any{"r": map[string]any{"service": "<s>"}}}}},
		{"a value json.Marshal refuses", map[string]any{"http": map[string]any{"routers": map[string]any{"r": map[string]any{"priority": math.Inf(1)}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { sameAsQualified(t, tt.cfg) })
	}
}

// TestAppendJSONRandom: seeded random trees of every type, with strings of
// control characters, HTML characters, unicode and invalid UTF-8, and
// numbers of every size.
func TestAppendJSONRandom(t *testing.T) {
	iterations := 3000
	if testing.Short() {
		iterations = 300
	}
	for seed := range uint64(iterations) {
		g := gen{rand.New(rand.NewPCG(seed, 0x5eed))}
		v := g.table(0)
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("seed %d: json.Marshal: %v", seed, err)
		}
		got, err := AppendJSON(nil, v)
		if err != nil || !bytes.Equal(got, want) {
			sameAsMarshal(t, v) // says where
			t.Fatalf("seed %d: error %v", seed, err)
		}
	}
}

// TestAppendRoutesRandom: seeded random routes trees, with references
// to names defined, not defined and with a provider, and nil or odd
// values where Qualify looks.
func TestAppendRoutesRandom(t *testing.T) {
	iterations := 1000
	if testing.Short() {
		iterations = 100
	}
	for seed := range uint64(iterations) {
		g := gen{rand.New(rand.NewPCG(seed, 0x7007e5))}
		cfg := g.routes()
		want, err := json.Marshal(Qualify(cfg))
		if err != nil {
			t.Fatalf("seed %d: json.Marshal: %v", seed, err)
		}
		got, err := AppendRoutes(nil, cfg)
		if err != nil || !bytes.Equal(got, want) {
			sameAsQualified(t, cfg) // says where
			t.Fatalf("seed %d: error %v", seed, err)
		}
	}
}

// gen makes random trees.
type gen struct{ r *rand.Rand }

func (g gen) table(depth int) map[string]any {
	n := g.r.IntN(8)
	if depth == 0 {
		n += 4
	}
	m := make(map[string]any, n)
	for range n {
		m[g.str()] = g.value(depth + 1)
	}
	return m
}

func (g gen) value(depth int) any {
	kinds := 14
	if depth > 5 { // scalars only
		kinds = 8
	}
	switch g.r.IntN(kinds) {
	case 0:
		return g.str()
	case 1:
		return g.r.IntN(2) == 0
	case 2:
		return g.integer()
	case 3:
		return g.float()
	case 4:
		for { // finite as a float32 too
			if f := float32(g.float()); !math.IsInf(float64(f), 0) {
				return f
			}
		}
	case 5:
		return nil
	case 6:
		return g.str()
	case 7:
		return g.fallback()
	case 8, 9:
		return g.table(depth)
	case 10:
		l := make([]any, g.r.IntN(6))
		for i := range l {
			l[i] = g.value(depth + 1)
		}
		return l
	case 11:
		l := make([]string, g.r.IntN(6))
		for i := range l {
			l[i] = g.str()
		}
		return l
	case 12:
		l := make([]map[string]any, g.r.IntN(4))
		for i := range l {
			l[i] = g.table(depth + 1)
		}
		return l
	default:
		return []any{map[string]any(nil), []any(nil), []string(nil), []map[string]any(nil)}[g.r.IntN(4)]
	}
}

// names are what random routes trees name and define.
var names = []string{"a", "b", "c", "a@file", "b@internal", "", "default", "<x>", "\xff"}

// routes is a random routes tree: protocols' sections whose objects name
// each other, and anything else, anywhere, now and then.
func (g gen) routes() map[string]any {
	cfg := map[string]any{}
	for _, proto := range []string{"http", "tcp", "udp", "tls", "other"} {
		if g.r.IntN(5) == 0 {
			cfg[proto] = g.odd()
			continue
		}
		sec := map[string]any{}
		for _, key := range []string{"routers", "middlewares", "services", "serversTransports", "models"} {
			switch g.r.IntN(6) {
			case 0:
				continue
			case 1:
				sec[key] = g.odd()
			default:
				sec[key] = g.objects()
			}
		}
		cfg[proto] = sec
	}
	return cfg
}

func (g gen) objects() map[string]any {
	m := map[string]any{}
	for range g.r.IntN(5) {
		if g.r.IntN(8) == 0 {
			m[g.name()] = g.odd()
			continue
		}
		m[g.name()] = g.object(0)
	}
	return m
}

// object is a table with the references Qualify looks at, nested.
func (g gen) object(depth int) map[string]any {
	m := map[string]any{}
	for _, key := range []string{"service", "fallback", "name", "options", "serversTransport", "middlewares", "services", "mirrors",
		"tls", "chain", "errors", "loadBalancer", "weighted", "mirroring", "failover", "rule"} {
		if g.r.IntN(4) != 0 {
			continue
		}
		switch {
		case g.r.IntN(10) == 0:
			m[key] = g.odd()
		case key == "middlewares" && g.r.IntN(2) == 0:
			m[key] = []string{g.name(), g.name()}
		case key == "middlewares":
			m[key] = []any{g.name(), g.value(6)}
		case key == "services" || key == "mirrors":
			if depth < 1 {
				m[key] = []any{[]map[string]any{g.object(depth + 1)}, []any{g.object(depth + 1), g.object(depth + 1)}}[g.r.IntN(2)]
			}
		case tableKeys[key]:
			if depth < 2 {
				m[key] = g.object(depth + 1)
			}
		default:
			m[key] = g.name()
		}
	}
	return m
}

// tableKeys are the keys of object whose values Qualify looks into.
var tableKeys = map[string]bool{"tls": true, "chain": true, "errors": true, "loadBalancer": true, "weighted": true, "mirroring": true, "failover": true}

func (g gen) name() string {
	if g.r.IntN(10) == 0 {
		return g.str()
	}
	return names[g.r.IntN(len(names))]
}

// odd is a nil table, or not a table.
func (g gen) odd() any {
	return []any{map[string]any(nil), nil, "x", []any{map[string]any{"service": "a"}}, 1.5, []map[string]any(nil)}[g.r.IntN(6)]
}

// pieces are what random strings are made of.
var pieces = []string{
	"a", "Z", "0", " ", "svc-1", "Host(`x.example.com`)", "http://10.0.0.1:8080", "@file",
	"<", ">", "&", `"`, `\`, "'", "/", "\x00", "\x01", "\b", "\f", "\n", "\r", "\t", "\x1b", "\x1f", "\x7f",
	"é", "世", "🚀", "\u00a0", "\u2028", "\u2029", "\u2027", "\ufffd", "\ufeff", "\U0010ffff",
	"\xff", "\xfe", "\x80", "\xc3", "\xe4\xb8", "\xed\xa0\x80", "\xc0\x80", "\xf4\x90\x80\x80", "\xf0\x9f\x9a",
}

func (g gen) str() string {
	var b strings.Builder
	for range g.r.IntN(12) {
		if g.r.IntN(4) == 0 { // a random byte
			b.WriteByte(byte(g.r.IntN(256)))
			continue
		}
		b.WriteString(pieces[g.r.IntN(len(pieces))])
	}
	return b.String()
}

func (g gen) integer() any {
	switch g.r.IntN(6) {
	case 0:
		return g.r.IntN(1000) - 500
	case 1:
		return int64(g.r.Uint64())
	case 2:
		return g.r.Uint64()
	case 3:
		return int32(g.r.Uint32())
	case 4:
		return uint8(g.r.Uint32())
	default:
		return []any{math.MaxInt64, math.MinInt64, uint64(math.MaxUint64), 0, int16(-1)}[g.r.IntN(5)]
	}
}

var floats = []float64{0, math.Copysign(0, -1), 1e21, 1e20, 999999999999999999999.0, 1e-6, 0.000001, 1e-7, 9.999999e-7,
	5e-324, math.MaxFloat64, math.SmallestNonzeroFloat64, 0.1, 1.5, -2.25, 1 << 53, 1<<53 + 1, 1e300, 1e-300}

func (g gen) float() float64 {
	switch g.r.IntN(4) {
	case 0:
		return floats[g.r.IntN(len(floats))] * []float64{1, -1}[g.r.IntN(2)]
	case 1: // any finite bit pattern
		for {
			if f := math.Float64frombits(g.r.Uint64()); !math.IsNaN(f) && !math.IsInf(f, 0) {
				return f
			}
		}
	case 2:
		return (g.r.Float64() - 0.5) * math.Pow(10, float64(g.r.IntN(60)-30))
	default:
		return float64(g.r.IntN(100000)) / 100
	}
}

// fallback is a value AppendJSON gives to json.Marshal.
func (g gen) fallback() any {
	switch g.r.IntN(4) {
	case 0:
		return json.Number(fmt.Sprint(g.r.IntN(1000)))
	case 1:
		return []byte(g.str())
	case 2:
		return map[string]string{g.str(): g.str()}
	default:
		return marshaler{`{"k":` + string(must(json.Marshal(g.str()))) + `}`}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestAppendJSONRoutes: the pushed configuration (Qualify of the routes)
// of a large environment, and of each environment the routes package's
// tests build (the label-compatibility table's among them), encodes as
// json.Marshal encodes it; so do the TOML files those tests compare with,
// as a TOML decoder gives them.
func TestAppendJSONRoutes(t *testing.T) {
	opts := routes.Options{Domain: "example.com", HTTPS: true, EntryPoints: map[string]string{"pg": "tcp", "dns": "udp"}, CredentialDir: t.TempDir()}
	t.Run("scale 1000", func(t *testing.T) {
		a, err := metadataserver.Parse([]byte(teststack.Scale(1000, false)))
		if err != nil {
			t.Fatal(err)
		}
		cfg := build(t, a, opts)
		if n := len(cfg["http"].(map[string]any)["routers"].(map[string]any)); n < 1000 {
			t.Fatalf("%d routers: the environment did not build", n)
		}
		sameAsMarshal(t, Qualify(cfg))
		sameAsQualified(t, cfg)
	})
	stacks, err := filepath.Glob("../routes/testdata/*.yml")
	if err != nil || len(stacks) < 3 {
		t.Fatalf("the routes package's environments: %v %v", stacks, err)
	}
	for _, f := range stacks {
		t.Run(filepath.Base(f), func(t *testing.T) {
			a, err := metadataserver.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			cfg := build(t, a, opts)
			if len(cfg) == 0 {
				t.Fatal("no routes built")
			}
			sameAsMarshal(t, Qualify(cfg))
			sameAsQualified(t, cfg)
		})
	}
	tomls, err := filepath.Glob("../routes/testdata/*.toml")
	if err != nil || len(tomls) < 3 {
		t.Fatalf("the routes package's TOML files: %v %v", tomls, err)
	}
	for _, f := range tomls {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var cfg map[string]any
			if _, err := toml.DecodeFile(f, &cfg); err != nil {
				t.Fatal(err)
			}
			sameAsMarshal(t, Qualify(cfg))
			sameAsQualified(t, cfg)
		})
	}
}

// build is the routes of an environment's default answer.
func build(t testing.TB, a metadataserver.Answers, opts routes.Options) map[string]any {
	t.Helper()
	return routes.Build(testsnap.Of(t, a), opts).Config
}

// FuzzAppendJSONString: any string, as a key and as a value.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range pieces {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sameAsMarshal(t, map[string]any{s: s, "l": []string{s}, "u": utf8.ValidString(s)})
	})
}
