package metadataserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The answer formats, and how they are written, follow rancher-metadata's
// main.go (contentType, respondSuccess, respondText, respondError).
type format int

const (
	formatText format = iota
	formatJSON
	formatYAML
)

// offers are the real server's, in its order; the first is the default.
var offers = []struct {
	mime string
	f    format
}{
	{"text/plain", formatText}, {"application/json", formatJSON}, {"application/yaml", formatYAML},
	{"application/x-yaml", formatYAML}, {"text/yaml", formatYAML}, {"text/x-yaml", formatYAML},
}

// negotiate picks the format as golang/gddo's httputil.NegotiateContentType
// (which the real server calls) does: the highest q wins, then the most
// specific match (exact, type/*, */*), then the earlier offer; q=0 never
// matches; no match is text.
func negotiate(r *http.Request) format {
	best, bestQ, bestWild := formatText, -1.0, 3
	specs := parseAccept(r.Header.Values("Accept"))
	for _, o := range offers {
		for _, sp := range specs {
			wild := 0
			switch {
			case sp.q == 0 || sp.q < bestQ:
				continue
			case sp.value == "*/*":
				wild = 2
			case strings.HasSuffix(sp.value, "/*") && strings.HasPrefix(o.mime, strings.TrimSuffix(sp.value, "*")):
				wild = 1
			case sp.value == o.mime:
			default:
				continue
			}
			if sp.q > bestQ || bestWild > wild {
				best, bestQ, bestWild = o.f, sp.q, wild
			}
		}
	}
	return best
}

type acceptSpec struct {
	value string
	q     float64
}

func parseAccept(headers []string) []acceptSpec {
	var specs []acceptSpec
	for _, h := range headers {
		for part := range strings.SplitSeq(h, ",") {
			value, params, _ := strings.Cut(part, ";")
			sp := acceptSpec{value: strings.ToLower(strings.TrimSpace(value)), q: 1}
			if sp.value == "" {
				continue
			}
			for p := range strings.SplitSeq(params, ";") {
				if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "q") {
					if q, err := strconv.ParseFloat(v, 64); err == nil {
						sp.q = q
					}
				}
			}
			specs = append(specs, sp)
		}
	}
	return specs
}

// respond writes a found value in the negotiated format.
func respond(w http.ResponseWriter, r *http.Request, val any) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	switch negotiate(r) {
	case formatJSON:
		b, err := json.Marshal(val)
		if err != nil {
			respondError(w, r, "Error serializing to JSON: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	case formatYAML:
		b, err := yaml.Marshal(val)
		if err != nil {
			respondError(w, r, "Error serializing to YAML: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/x-yaml")
		_, _ = w.Write(b)
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(text(val)))
	}
}

// respondError writes msg as the real server does: through http.Error, so
// every body — text, the JSON object, the YAML document — ends with a
// newline and is served as text/plain.
func respondError(w http.ResponseWriter, r *http.Request, msg string, code int) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	obj := map[string]any{"code": code, "message": msg, "type": "error"}
	switch negotiate(r) {
	case formatJSON:
		b, _ := json.Marshal(obj) // a map of a string and an int always encodes
		http.Error(w, string(b), code)
	case formatYAML:
		b, _ := yaml.Marshal(obj)
		http.Error(w, string(b), code)
	default:
		http.Error(w, msg, code)
	}
}

// text renders a value as the real server's text/plain answer: a scalar
// bare, without a newline; a map as its URL-escaped keys, sorted, one per
// line, with "/" after those holding a map or an array; an array as one
// line per item: "i=name" (or uuid) for an item that has one, "i/" for
// another map or array, "i" for a scalar. Every listed line ends with a
// newline, so `while read` sees the last one. A null array or map (as the
// real generator leaves an empty list) still lists with "/".
func text(node any) string {
	var b strings.Builder
	switch n := node.(type) {
	case map[string]any:
		lines := make([]string, 0, len(n))
		for k, v := range n {
			lines = append(lines, url.QueryEscape(k)+slash(v)+"\n")
		}
		sort.Strings(lines)
		for _, l := range lines {
			b.WriteString(l)
		}
	case []any:
		for i, item := range n {
			if name, ok := itemName(item); ok {
				fmt.Fprintf(&b, "%d=%s\n", i, url.QueryEscape(name))
				continue
			}
			fmt.Fprintf(&b, "%d%s\n", i, slash(item))
		}
	default:
		return scalar(node)
	}
	return b.String()
}

func slash(v any) string {
	switch v.(type) {
	case map[string]any, []any:
		return "/"
	}
	return ""
}

// itemName is an array item's name, else its uuid. The real server panics
// on a name that is not a string (the request fails); here such a key is
// skipped.
func itemName(item any) (string, bool) {
	m, ok := item.(map[string]any)
	if !ok {
		return "", false
	}
	for _, k := range magicKeys {
		if s, ok := m[k].(string); ok {
			return s, true
		}
	}
	return "", false
}

// scalar prints a leaf as the real server does: null as nothing, a float
// with "%f" less its trailing zeros and point.
func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strings.TrimRight(strings.TrimRight(strconv.FormatFloat(x, 'f', 6, 64), "0"), ".")
	case float32:
		return scalar(float64(x))
	}
	return fmt.Sprint(v)
}
