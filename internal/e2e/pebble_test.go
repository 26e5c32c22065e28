package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"rancher-traefik/internal/testcert"
	"rancher-traefik/internal/testlog"
)

// Pebble (github.com/letsencrypt/pebble, pinned by tools/pebble and built by
// `make pebble`) is Let's Encrypt's test ACME server: a real CA that issues
// only after it has validated the challenge against the asking host, and
// pebble-challtestsrv is the DNS server it resolves names with. The Makefile
// hands their paths over as these variables, as it does Traefik's.
const (
	pebbleEnv       = "PEBBLE_TEST_BINARY"
	challtestsrvEnv = "PEBBLE_CHALLTESTSRV_TEST_BINARY"
)

// pebbleBinaries returns the paths of pebble and pebble-challtestsrv. Without
// them the test skips, saying why in one line, except in CI, where it fails:
// CI runs `make test`, which builds them.
func pebbleBinaries(t testing.TB) (pebble, challtestsrv string) {
	t.Helper()
	pebble, challtestsrv = os.Getenv(pebbleEnv), os.Getenv(challtestsrvEnv)
	if pebble == "" || challtestsrv == "" {
		msg := fmt.Sprintf("%s and %s are not set, so ACME is not tested against Pebble (make test builds and sets them: make pebble)", pebbleEnv, challtestsrvEnv)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	for _, p := range []string{pebble, challtestsrv} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%v (run make pebble)", err)
		}
	}
	return pebble, challtestsrv
}

// daemon is a long-running helper process (Pebble, its DNS server) whose
// output the test keeps and shows when it fails.
type daemon struct {
	name string
	cmd  *exec.Cmd
	out  testlog.Buffer
	done chan struct{}
}

// startDaemon starts bin with args and env (added to PATH and HOME); the
// test's cleanup stops it with SIGTERM, and SIGKILL if it lingers.
func startDaemon(t testing.TB, name string, env []string, bin string, args ...string) *daemon {
	t.Helper()
	d := &daemon{name: name, done: make(chan struct{})}
	d.cmd = exec.Command(bin, args...)
	d.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	d.cmd.Stdout, d.cmd.Stderr = &d.out, &d.out
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(10 * time.Second):
			_ = d.cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, d.out.String())
		}
	})
	return d
}

// alive fails the test if the daemon has exited (a port taken, a bad flag).
func (d *daemon) alive(t testing.TB) {
	t.Helper()
	select {
	case <-d.done:
		t.Fatalf("%s exited: %v\n%s", d.name, d.cmd.ProcessState, d.out.String())
	default:
	}
}

// pebbleOptions say where Pebble listens and where it validates.
type pebbleOptions struct {
	// Host is the address Pebble, its management interface and its DNS
	// server listen on (127.0.0.1, or a container's address).
	Host string
	// HTTPPort and TLSPort are where Pebble's validation authority connects
	// for HTTP-01 and TLS-ALPN-01: the entry points of the Traefik under test.
	HTTPPort, TLSPort int
	// DefaultIPv4 is the address every name resolves to (the DNS answers no
	// AAAA, so the validation goes to this address alone).
	DefaultIPv4 string
	// ValiditySeconds, when set, is how long the certificates are valid
	// (Pebble's certificateValidityPeriod; its default is 5 years).
	ValiditySeconds int
}

// pebbleCA is a running Pebble with its DNS server.
type pebbleCA struct {
	t testing.TB
	// DirURL is the ACME directory (TRAEFIK_ACME_CASERVER).
	DirURL string
	// CAFile is the PEM of the CA that signed Pebble's own HTTPS certificate,
	// for an ACME client to trust (LEGO_CA_CERTIFICATES).
	CAFile string
	mgmt   string // Pebble's management interface, https://host:port
	// chall is pebble-challtestsrv's management interface (http://host:port),
	// where the test sets DNS records.
	chall string
	// DNS is pebble-challtestsrv's DNS server (host:port), the one Pebble
	// resolves names and reads TXT records with.
	DNS    string
	trust  *x509.CertPool
	pebble *daemon // when Pebble runs as a process of the test
	// logs is what Pebble has printed so far.
	logs func() string
	// root and intermediate, once fetched (Pebble keeps them while it runs)
	root, intermediate *x509.Certificate
}

// startPebble runs pebble-challtestsrv as the DNS server and Pebble against
// it, both on o.Host, and waits until both answer.
func startPebble(t testing.TB, o pebbleOptions) *pebbleCA {
	t.Helper()
	pebbleBin, challBin := pebbleBinaries(t)
	dir := t.TempDir()
	dns := net.JoinHostPort(o.Host, strconv.Itoa(freePort(t)))
	challMgmt := net.JoinHostPort(o.Host, strconv.Itoa(freePort(t)))
	chall := startDaemon(t, "pebble-challtestsrv", nil, challBin, challtestsrvArgs(dns, challMgmt, o.DefaultIPv4)...)
	waitDNS(t, chall.alive, dns, o.DefaultIPv4)

	p, cfgFile := pebbleFiles(t, dir, o,
		net.JoinHostPort(o.Host, strconv.Itoa(freePort(t))), net.JoinHostPort(o.Host, strconv.Itoa(freePort(t))))
	p.chall, p.DNS = "http://"+challMgmt, dns
	p.pebble = startDaemon(t, "pebble", pebbleEnvironment, pebbleBin, "-config", cfgFile, "-dnsserver", dns)
	p.logs = p.pebble.out.String
	p.waitDirectory(p.pebble.alive)
	return p
}

// challtestsrvArgs run pebble-challtestsrv as a DNS server on dns alone
// (its own HTTP-01, HTTPS, TLS-ALPN-01 and DoH responders would listen on
// ports of their own for nothing), every name answering defaultIPv4.
func challtestsrvArgs(dns, management, defaultIPv4 string) []string {
	return []string{"-dnsserver", dns, "-management", management,
		"-defaultIPv4", defaultIPv4, "-defaultIPv6", "",
		"-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", ""}
}

// pebbleEnvironment: no random sleep before validating, no nonce rejected
// on purpose, no authorization reused by chance: the same run every time.
var pebbleEnvironment = []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0"}

// pebbleFiles writes into dir what Pebble runs with — its HTTPS
// certificate for o.Host and key, the CA that signed them, and its config
// listening on listen and management — and returns the pebbleCA for it
// (DirURL, CAFile, trust and the management interface set) and the
// config's path. Pebble serves its directory over HTTPS only: from a CA of
// the test's own, which the ACME client is told to trust.
func pebbleFiles(t testing.TB, dir string, o pebbleOptions, listen, management string) (*pebbleCA, string) {
	t.Helper()
	tlsChain, err := testcert.New(testcert.Options{Hosts: []string{o.Host}})
	if err != nil {
		t.Fatal(err)
	}
	p := &pebbleCA{t: t, CAFile: filepath.Join(dir, "pebble-https-ca.pem"), trust: certPool(tlsChain),
		DirURL: "https://" + listen + "/dir", mgmt: "https://" + management}
	cfg := pebbleConfig(t, o, listen, management, filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	for name, b := range map[string][]byte{
		"cert.pem": tlsChain.LeafPEM, "key.pem": tlsChain.KeyPEM,
		"pebble-https-ca.pem": tlsChain.CAPEM, "pebble.json": cfg,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return p, filepath.Join(dir, "pebble.json")
}

// waitDirectory waits until Pebble serves its directory; alive fails the
// test if Pebble has exited meanwhile.
func (p *pebbleCA) waitDirectory(alive func(testing.TB)) {
	p.t.Helper()
	eventually(p.t, 30*time.Second, "Pebble's directory", func() error {
		alive(p.t)
		_, err := p.get(p.DirURL)
		return err
	})
}

// waitDNS waits until the DNS server answers name lookups with want, over
// TCP as Pebble asks.
func waitDNS(t testing.TB, alive func(testing.TB), addr, want string) {
	t.Helper()
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, "tcp", addr)
	}}
	eventually(t, 30*time.Second, "pebble-challtestsrv answers DNS", func() error {
		alive(t)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		got, err := r.LookupHost(ctx, "probe.example.com")
		if err != nil {
			return err
		}
		if strings.Join(got, ",") != want {
			return fmt.Errorf("probe.example.com resolves to %v, want %s alone", got, want)
		}
		return nil
	})
}

// pebbleConfig is Pebble's -config file (the fields of its
// test/config/pebble-config.json).
func pebbleConfig(t testing.TB, o pebbleOptions, listen, management, certFile, keyFile string) []byte {
	t.Helper()
	type pebble struct {
		ListenAddress           string `json:"listenAddress"`
		ManagementListenAddress string `json:"managementListenAddress"`
		Certificate             string `json:"certificate"`
		PrivateKey              string `json:"privateKey"`
		HTTPPort                int    `json:"httpPort"`
		TLSPort                 int    `json:"tlsPort"`
		OCSPResponderURL        string `json:"ocspResponderURL"`
		KeyAlgorithm            string `json:"keyAlgorithm"`
		// Pebble v2.10: the default validity, and the default profile's.
		CertificateValidityPeriod int                      `json:"certificateValidityPeriod,omitempty"`
		Profiles                  map[string]pebbleProfile `json:"profiles,omitempty"`
	}
	b, err := json.Marshal(map[string]pebble{"pebble": {
		ListenAddress: listen, ManagementListenAddress: management,
		Certificate: certFile, PrivateKey: keyFile,
		HTTPPort: o.HTTPPort, TLSPort: o.TLSPort,
		KeyAlgorithm:              "ecdsa",
		CertificateValidityPeriod: o.ValiditySeconds,
		Profiles:                  profiles(o.ValiditySeconds),
	}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pebbleProfile is a certificate profile of Pebble's configuration.
type pebbleProfile struct {
	Description    string `json:"description"`
	ValidityPeriod int    `json:"validityPeriod"`
}

// profiles is Pebble's default profile with validity seconds, or none.
func profiles(validity int) map[string]pebbleProfile {
	if validity == 0 {
		return nil
	}
	return map[string]pebbleProfile{"default": {Description: "the test's validity", ValidityPeriod: validity}}
}

// setA makes pebble-challtestsrv answer name with these addresses, in this
// order (Pebble's validation connects to the first).
func (p *pebbleCA) setA(name string, addrs ...string) {
	p.t.Helper()
	b, _ := json.Marshal(map[string]any{"host": name, "addresses": addrs})
	resp, err := http.Post(p.chall+"/add-a", "application/json", bytes.NewReader(b))
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		p.t.Fatalf("pebble-challtestsrv add-a %s: %s", name, resp.Status)
	}
}

// challtestsrv posts body to pebble-challtestsrv's management path.
func (p *pebbleCA) challtestsrv(path string, body any) error {
	b, _ := json.Marshal(body)
	resp, err := http.Post(p.chall+path, "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("pebble-challtestsrv %s: %s", path, resp.Status)
	}
	return nil
}

// orders is how many orders Pebble has taken.
func (p *pebbleCA) orders() int { return strings.Count(p.log(), "Added order ") }

// get fetches url from Pebble, trusting its HTTPS certificate.
func (p *pebbleCA) get(url string) ([]byte, error) {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true, TLSClientConfig: &tls.Config{RootCAs: p.trust},
	}}
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("GET %s: status %d %q", url, resp.StatusCode, b)
	}
	return b, err
}

// issuers returns Pebble's root and the intermediate it signs with, from
// its management interface. Pebble makes new ones at every start.
func (p *pebbleCA) issuers() (root, intermediate *x509.Certificate) {
	p.t.Helper()
	if p.root != nil {
		return p.root, p.intermediate
	}
	parse := func(path string) *x509.Certificate {
		b, err := p.get(p.mgmt + path)
		if err != nil {
			p.t.Fatal(err)
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			p.t.Fatalf("%s: no PEM in %q", path, b)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			p.t.Fatalf("%s: %v", path, err)
		}
		return c
	}
	p.root, p.intermediate = parse("/roots/0"), parse("/intermediates/0")
	return p.root, p.intermediate
}

// log is what Pebble has printed so far.
func (p *pebbleCA) log() string { return p.logs() }

// issued checks that chain, as a TLS server sent it, is a certificate for
// host that this Pebble issued: the leaf is signed by Pebble's intermediate,
// which is sent with it, and the chain verifies to Pebble's root.
func (p *pebbleCA) issued(chain []*x509.Certificate, host string) error {
	root, intermediate := p.issuers()
	if len(chain) == 0 {
		return fmt.Errorf("no certificate sent")
	}
	leaf := chain[0]
	if err := leaf.CheckSignatureFrom(intermediate); err != nil {
		return fmt.Errorf("the certificate for %s (issuer %q) is not signed by Pebble's intermediate %q: %w", host, leaf.Issuer, intermediate.Subject, err)
	}
	if len(chain) < 2 || !chain[1].Equal(intermediate) {
		return fmt.Errorf("the certificate for %s came without Pebble's intermediate (%d certificates)", host, len(chain))
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root)
	inter.AddCert(intermediate)
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: inter}); err != nil {
		return fmt.Errorf("the certificate for %s does not verify to Pebble's root: %w", host, err)
	}
	return nil
}

// TestPebblePinned: the Pebble `make pebble` builds is the one
// tools/pebble/go.mod pins, and the one the README names.
func TestPebblePinned(t *testing.T) {
	read := func(parts ...string) string {
		b, err := os.ReadFile(filepath.Join(append([]string{"..", ".."}, parts...)...))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	m := regexp.MustCompile(`(?m)^PEBBLE_VERSION\s*:=\s*(\S+)`).FindStringSubmatch(read("Makefile"))
	if m == nil {
		t.Fatal("no PEBBLE_VERSION in the Makefile")
	}
	if !strings.Contains(read("tools", "pebble", "go.mod"), "\nrequire github.com/letsencrypt/pebble/v2 "+m[1]+"\n") {
		t.Errorf("tools/pebble/go.mod does not pin the Makefile's PEBBLE_VERSION %s", m[1])
	}
	if !strings.Contains(read("README.md"), "Pebble](https://github.com/letsencrypt/pebble) "+m[1]) {
		t.Errorf("the README does not name Pebble %s", m[1])
	}
}
