package config

import (
	"sort"
	"strings"
)

// Unknown is a TRAEFIK_* variable of the environment that rancher-traefik
// does not read: a typo, or a name from an image it replaces. Only its name
// is kept, never its value (it may be a secret).
type Unknown struct {
	Name string
	// Legacy is the replaced images' variable of that name, if it is one.
	Legacy *LegacyVar
	// Suggest are the names rancher-traefik reads that Name is a near miss of.
	Suggest []string
}

func (u Unknown) String() string { return u.Name + ": " + u.Hint() }

// Hint says what is wrong with the name and what to use instead.
func (u Unknown) Hint() string {
	if l := u.Legacy; l != nil {
		s := "a variable of " + strings.Join(l.From, " and ") + ", not read by rancher-traefik"
		if l.Use != "" {
			s += ": use " + l.Use
		} else {
			s += ": not supported"
		}
		if l.Note != "" {
			s += " (" + l.Note + ")"
		}
		return s
	}
	s := "not a variable rancher-traefik reads, ignored"
	if len(u.Suggest) > 0 {
		s += "; did you mean " + strings.Join(u.Suggest, " or ") + "?"
		if strings.EqualFold(u.Suggest[0], u.Name) {
			s += " (names are case-sensitive)"
		}
	} else {
		s += " (rancher-traefik env lists them)"
	}
	return s
}

// Known reports whether rancher-traefik reads the variable name: a row of
// Vars, or NAME_FILE of a secret one.
func Known(name string) bool {
	for _, v := range Vars {
		if name == v.Name || v.Secret && name == v.Name+"_FILE" {
			return true
		}
	}
	return false
}

func knownNames() []string {
	var out []string
	for _, v := range Vars {
		out = append(out, v.Name)
		if v.Secret {
			out = append(out, v.Name+"_FILE")
		}
	}
	return out
}

// UnknownVars picks, out of the environment's variable names, the TRAEFIK_*
// ones (in any case) that rancher-traefik does not read, sorted by name.
func UnknownVars(names []string) []Unknown {
	known := knownNames()
	var out []Unknown
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] || !strings.HasPrefix(strings.ToUpper(n), "TRAEFIK_") || Known(n) {
			continue
		}
		seen[n] = true
		u := Unknown{Name: n}
		for i := range Legacy {
			if Legacy[i].Name == n {
				u.Legacy = &Legacy[i]
			}
		}
		if u.Legacy == nil {
			u.Suggest = nearMisses(n, known)
		}
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// nearMisses are the known names closest to name: within a few edits
// (more for longer names), or else the longest known name that name
// extends (TRAEFIK_RANCHER_SECRET_KEY → TRAEFIK_RANCHER_SECRET).
func nearMisses(name string, known []string) []string {
	upper := strings.ToUpper(name)
	limit := min(1+len(strings.TrimPrefix(upper, "TRAEFIK_"))/6, 3)
	best, out := limit+1, []string(nil)
	for _, k := range known {
		switch d := editDistance(upper, k); {
		case d > limit:
		case d < best:
			best, out = d, []string{k}
		case d == best:
			out = append(out, k)
		}
	}
	if out != nil {
		return out
	}
	longest := ""
	for _, k := range known {
		if strings.HasPrefix(upper, k+"_") && len(k) > len(longest) {
			longest = k
		}
	}
	if longest != "" {
		return []string{longest}
	}
	return nil
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of two neighbours (PROT → PORT) cost 1.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
