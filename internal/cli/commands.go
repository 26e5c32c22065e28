package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"rancher-traefik/internal/atomicfile"
	"rancher-traefik/internal/config"
	"rancher-traefik/internal/testcert"
)

func newRenderCmd(e env) *cobra.Command {
	var stdout bool
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Prepare every file Traefik needs (certificates, traefik.toml, dynamic files) and exit",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, log, err := loadConfig(e)
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

func newCheckCmd(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Validate the environment, secrets and certificates; print every problem, one per line",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, err := config.FromEnv(e.lookup)
			var problems []config.Problem
			code := ExitOK
			if err != nil {
				ce, ok := err.(*config.Error)
				if !ok {
					return fail(err)
				}
				problems = append(problems, ce.Problems...)
				code = ExitConfig
			}
			_, _, tlsProblems := loadTLS(cfg)
			if len(tlsProblems) > 0 && code == ExitOK {
				code = ExitTLS
			}
			problems = append(problems, tlsProblems...)
			if _, err := renderStatic(cfg); err != nil && code == ExitOK {
				return fail(err)
			}
			for _, p := range problems {
				fmt.Fprintln(e.stdout, p.String())
			}
			if code != ExitOK {
				fmt.Fprintf(e.stderr, "%d problem(s) found\n", len(problems))
				return exitWith(code, nil)
			}
			fmt.Fprintln(e.stderr, "configuration is valid")
			return nil
		},
	}
}

func newEnvCmd(e env) *cobra.Command {
	var markdown bool
	cmd := &cobra.Command{
		Use:   "env",
		Short: "List every environment variable with its default and meaning",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
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

func newDevCertCmd(e env) *cobra.Command {
	var (
		dir   string
		hosts []string
	)
	cmd := &cobra.Command{
		Use:   "dev-cert",
		Short: "Write a throw-away CA-signed certificate (cert.pem, key.pem, ca.pem) for local testing",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, err := testcert.New(testcert.Options{Hosts: hosts})
			if err != nil {
				return fail(err)
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fail(err)
			}
			for _, f := range []struct {
				name string
				data []byte
				mode os.FileMode
			}{{"cert.pem", c.Bundle(), 0o644}, {"ca.pem", c.CAPEM, 0o644}, {"key.pem", c.KeyPEM, 0o600}} {
				if _, err := atomicfile.Write(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
					return fail(err)
				}
			}
			fmt.Fprintf(e.stdout, "wrote %s/{cert,key,ca}.pem for %s\n", dir, strings.Join(hosts, ", "))
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", ".", "directory to write into")
	cmd.Flags().StringSliceVar(&hosts, "host", []string{"localhost", "*.localhost", "*.example.com", "127.0.0.1"}, "names and IPs the certificate is for")
	return cmd
}
