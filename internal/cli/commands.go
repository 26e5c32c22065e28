package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"rancher-traefik/internal/config"
)

func newRenderCmd(e env) *cobra.Command {
	var stdout bool
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Prepare every file Traefik needs (certificates, traefik.toml, dynamic files) and exit",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, log, err := loadConfig(e)
			warnUnknown(log, e)
			if err != nil {
				return fail(err)
			}
			if stdout {
				if _, _, problems := loadTLS(cfg); len(problems) > 0 {
					return exitWith(ExitTLS, &config.Error{Problems: problems})
				}
				b, err := renderStatic(cfg)
				if err != nil {
					return fail(err)
				}
				_, err = e.stdout.Write(b)
				return fail(err)
			}
			if _, err := prepare(cfg, log); err != nil {
				return fail(err)
			}
			log.Info("configuration written", "file", cfg.StaticFile(), "dynamic", cfg.DynamicDir())
			return nil
		},
	}
	cmd.Flags().BoolVar(&stdout, "stdout", false, "print traefik.toml instead of writing files")
	return cmd
}

func newEnvCmd(e env) *cobra.Command {
	var markdown, effective bool
	cmd := &cobra.Command{
		Use:   "env",
		Short: "List every environment variable with its default and meaning (--effective: the value in force)",
		Long: `env lists every variable rancher-traefik reads, with its default and meaning.
With --effective it shows instead the value in force for each and where it
comes from: default, environment, a file, or a Rancher secret. Secret values
print as [redacted]; a refused value says why.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if effective {
				return fail(printEffective(e.stdout, e.lookup))
			}
			if markdown {
				_, err := fmt.Fprint(e.stdout, EnvMarkdown())
				return fail(err)
			}
			w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tDEFAULT\tDESCRIPTION")
			for _, v := range config.Vars {
				fmt.Fprintf(w, "%s\t%s\t%s\n", v.Name, v.Default, docOf(v))
			}
			return fail(w.Flush())
		},
	}
	cmd.Flags().BoolVar(&markdown, "markdown", false, "print a Markdown table (for the README)")
	cmd.Flags().BoolVar(&effective, "effective", false, "print the value in force and its source (default, environment, file, Rancher secret); secrets as [redacted]")
	cmd.MarkFlagsMutuallyExclusive("markdown", "effective")
	return cmd
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
