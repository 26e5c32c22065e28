package devtools

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"rancher-traefik/internal/atomicfile"
	"rancher-traefik/internal/testcert"
)

func newDevCertCmd(stdout io.Writer) *cobra.Command {
	var (
		dir   string
		hosts []string
	)
	cmd := &cobra.Command{
		Use:   "dev-cert --dir DIR --host NAME...",
		Short: "Write a throw-away CA-signed certificate (cert.pem, key.pem, ca.pem) for local testing",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := writeDevCert(dir, hosts); err != nil {
				return fail(err)
			}
			fmt.Fprintf(stdout, "wrote %s/{cert,key,ca}.pem for %s\n", dir, strings.Join(hosts, ", "))
			return nil
		},
	}
	// Both are required: a bare dev-cert wrote three files into whatever
	// directory it was run from, for names nobody chose.
	cmd.Flags().StringVar(&dir, "dir", "", "directory to write cert.pem, key.pem and ca.pem into (created if missing)")
	cmd.Flags().StringSliceVar(&hosts, "host", nil, "a name or IP the certificate is for (repeat, or comma separated)")
	_ = cmd.MarkFlagRequired("dir")
	_ = cmd.MarkFlagRequired("host")
	return cmd
}

// writeDevCert writes a new chain for hosts into dir: cert.pem (the leaf and
// its CA), key.pem (0600) and ca.pem.
func writeDevCert(dir string, hosts []string) error {
	c, err := testcert.New(testcert.Options{Hosts: hosts})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{{"cert.pem", c.Bundle(), 0o644}, {"ca.pem", c.CAPEM, 0o644}, {"key.pem", c.KeyPEM, 0o600}} {
		if _, err := atomicfile.Write(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}
