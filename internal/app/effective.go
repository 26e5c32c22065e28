package app

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"rancher-traefik/internal/config"
	"rancher-traefik/internal/secrets"
)

// fallbacks are the variables read when another is unset (vars.go's
// CATTLE_URL parse and CATTLE_* setSecret do this).
var fallbacks = map[string]string{
	"TRAEFIK_RANCHER_ENDPOINT":  "CATTLE_URL",
	"TRAEFIK_RANCHER_ACCESSKEY": "CATTLE_ACCESS_KEY",
	"TRAEFIK_RANCHER_SECRET":    "CATTLE_SECRET_KEY",
}

// derived are the variables whose value, unset, is another's: the value in
// force is shown with that variable as its source.
var derived = map[string]struct {
	from  string
	value func(*config.Config) string
}{
	"TRAEFIK_HTTPS_PUBLIC_PORT": {"TRAEFIK_HTTPS_PORT", func(c *config.Config) string { return strconv.Itoa(c.PublicHTTPSPort()) }},
}

// effectiveVar is a variable's value in force and where it comes from.
type effectiveVar struct{ name, value, source string }

// effectiveVars reads every variable as run would: its value and source
// (default, environment, a file, a Rancher secret, or the variable it falls
// back to). Secret values are never shown, nor credentials in a URL; a
// value that is refused says why.
func effectiveVars(lookup func(string) (string, bool)) []effectiveVar {
	cfg, err := readConfig(lookup)
	invalid := map[string]string{}
	var ce *config.Error
	if errors.As(err, &ce) {
		for _, p := range ce.Problems {
			if _, seen := invalid[p.Var]; !seen {
				invalid[p.Var] = p.Msg
			}
		}
	}
	var out []effectiveVar
	for _, v := range config.Vars {
		ev := effectiveVar{name: v.Name}
		raw, _ := lookup(v.Name)
		switch {
		case v.Secret && cfg.Sources[v.Name].Kind != secrets.SourceUnset:
			ev.value, ev.source = secrets.Redacted, sourceOf(cfg.Sources[v.Name])
		case v.Secret && (raw != "" || invalid[v.Name+"_FILE"] != ""):
			ev.value, ev.source = secrets.Redacted, "environment"
		case raw != "":
			ev.value, ev.source = shown(raw), "environment"
		default:
			ev.value, ev.source = v.Default, "default"
			if v.Default == "" {
				ev.source = "unset"
			}
			if d, ok := derived[v.Name]; ok && invalid[d.from] == "" {
				ev.value, ev.source = d.value(cfg), d.from
			}
			if fb, ok := fallbacks[v.Name]; ok {
				if f, _ := lookup(fb); f != "" || cfg.Sources[fb].Kind != secrets.SourceUnset {
					ev.value, ev.source = secrets.Redacted, fb
					if !v.Secret {
						ev.value = shown(f)
					}
				}
			}
		}
		for _, n := range []string{v.Name, v.Name + "_FILE"} {
			if msg, bad := invalid[n]; bad {
				ev.source += " (invalid: " + n + ": " + msg + ")"
			}
		}
		out = append(out, ev)
	}
	return out
}

// sourceOf says where a secret was read from.
func sourceOf(s secrets.Source) string {
	switch s.Kind {
	case secrets.SourceFile:
		if s.Via != "" {
			return "file " + s.Path + " (" + s.Via + ")"
		}
		return "file " + s.Path
	case secrets.SourceAlias:
		return "Rancher secret " + s.Path
	}
	return "environment"
}

// shown is a value as env prints it: the credentials of a URL redacted,
// control characters quoted.
func shown(v string) string {
	if u, err := url.Parse(v); err == nil && u.User != nil {
		u.User = nil
		v = strings.Replace(u.String(), "://", "://"+secrets.Redacted+"@", 1)
	} else if strings.Contains(v, "@") && strings.Contains(v, "://") {
		v = secrets.Redacted // a URL too broken to parse may still hold user:password@
	}
	if strings.IndexFunc(v, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(v)
	}
	return v
}

func printEffective(w io.Writer, lookup func(string) (string, bool)) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVALUE\tSOURCE")
	for _, ev := range effectiveVars(lookup) {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", ev.name, ev.value, ev.source)
	}
	return tw.Flush()
}
