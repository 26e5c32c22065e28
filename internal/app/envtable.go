package app

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"rancher-traefik/internal/config"
)

// PrintEnv lists every variable with its default and meaning: as a table,
// as the README's Markdown (markdown), or with the value in force and its
// source (effective, see effectiveVars).
func (a *App) PrintEnv(markdown, effective bool) error {
	if effective {
		return printEffective(a.Stdout, a.Lookup)
	}
	if markdown {
		_, err := fmt.Fprint(a.Stdout, EnvMarkdown())
		return err
	}
	return printVars(a.Stdout)
}

func printVars(out io.Writer) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tDEFAULT\tDESCRIPTION")
	for _, v := range config.Vars {
		fmt.Fprintf(w, "%s\t%s\t%s\n", v.Name, v.Default, docOf(v))
	}
	return w.Flush()
}

func docOf(v config.Var) string {
	if v.Secret {
		return v.Doc + " Secret: a value, a file path, a name in TRAEFIK_SECRETS_DIR, or " + v.Name + "_FILE."
	}
	return v.Doc
}

// EnvMarkdown is the README's environment table, grouped.
func EnvMarkdown() string {
	var b strings.Builder
	group := ""
	for _, v := range config.Vars {
		if v.Group != group {
			if group != "" {
				b.WriteString("\n")
			}
			group = v.Group
			fmt.Fprintf(&b, "**%s**\n\n| Variable | Default | Meaning |\n|---|---|---|\n", group)
		}
		def := ""
		if v.Default != "" {
			def = "`" + v.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", v.Name, def, strings.ReplaceAll(docOf(v), "|", "\\|"))
	}
	return b.String()
}
