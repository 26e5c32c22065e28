package metadataserver

import (
	"strconv"
	"strings"
)

// How a path is resolved follows rancher-metadata's config/answers.go
// (Versions.Matching, valueForPath): the client IP's answers when there are
// any — with the default answers' top-level keys it lacks, as the real
// server merges them in at load — else the default answers; then map keys,
// array indexes, or the first array item whose "name" or "uuid" equals the
// segment; a path that fails is retried lower-cased as a whole.

// resolveVersion maps a requested version to a key of the answers: itself,
// or for "latest" when the document has none, its ASCII-highest key (as
// the real server's metadata handler picks it).
func (s *Server) resolveVersion(v string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.answers[v]; ok {
		return v, true
	}
	if v != "latest" || len(s.answers) == 0 {
		return "", false
	}
	best := ""
	for k := range s.answers {
		best = max(best, k)
	}
	return best, true
}

// lookup resolves a path for a client. It reports the current value and a
// channel closed on the next change.
func (s *Server) lookup(version, ip string, segs []string) (any, bool, <-chan struct{}) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	tree, ok := clientTree(s.answers[version], ip)
	if !ok {
		return nil, false, s.changed
	}
	if v, ok := walk(tree, segs); ok {
		return v, true, s.changed
	}
	lower := make([]string, len(segs))
	for i, sg := range segs {
		lower[i] = strings.ToLower(sg)
	}
	v, ok := walk(tree, lower)
	return v, ok, s.changed
}

// clientTree is the tree a client at ip is answered from.
func clientTree(byClient map[string]any, ip string) (any, bool) {
	own, ok := byClient[ip]
	if !ok {
		def, ok := byClient["default"]
		return def, ok
	}
	m, isMap := own.(map[string]any)
	def, hasDef := byClient["default"].(map[string]any)
	if !isMap || !hasDef {
		return own, true
	}
	merged := make(map[string]any, len(m)+len(def))
	for k, v := range def {
		merged[k] = v
	}
	for k, v := range m {
		merged[k] = v
	}
	return merged, true
}

// walk follows segs: map keys, array indexes, or an item's name or uuid.
func walk(node any, segs []string) (any, bool) {
	for _, seg := range segs {
		switch n := node.(type) {
		case map[string]any:
			v, ok := n[seg]
			if !ok {
				return nil, false
			}
			node = v
		case []any:
			if i, err := strconv.ParseInt(seg, 10, 64); err == nil {
				if i < 0 || i >= int64(len(n)) {
					return nil, false
				}
				node = n[i]
				continue
			}
			item, ok := byMagicKey(n, seg)
			if !ok {
				return nil, false
			}
			node = item
		default:
			return nil, false
		}
	}
	return node, true
}

// byMagicKey is the first item of n whose name, then uuid, is seg.
func byMagicKey(n []any, seg string) (any, bool) {
	for _, item := range n {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		for _, k := range magicKeys {
			if v, ok := m[k].(string); ok && v == seg {
				return item, true
			}
		}
	}
	return nil, false
}

// magicKeys name an array's items in paths and text listings.
var magicKeys = []string{"name", "uuid"}
