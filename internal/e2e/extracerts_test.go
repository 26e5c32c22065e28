package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rancher-traefik/internal/testcert"
)

// TestExtraCertificatesFollowed: NAME.crt/NAME.key pairs added to or
// replaced in $TRAEFIK_HOME/certs while running are served by SNI without
// restarting Traefik; an invalid pair is reported once, by file, and
// changes nothing served.
func TestExtraCertificatesFollowed(t *testing.T) {
	i := newInstance(t, nil)
	main := i.withCert("*.example.com")
	v := newCertsVolume(t, i)
	other := hostChain(t, "other.example.org")
	v.pair("other", other.Bundle(), other.KeyPEM)
	i.start("run")
	i.waitReady()
	v.expect("other.example.org", other)
	traefik := children(i.cmd.Process.Pid)

	// A pair added while running.
	late := hostChain(t, "late.example.net")
	v.pair("late", late.Bundle(), late.KeyPEM)
	v.expect("late.example.net", late)
	i.waitLog(0, `msg="extra certificates reloaded" pairs=2 files=late.crt,other.crt`, 5*time.Second)

	// A pair replaced.
	other2 := hostChain(t, "other.example.org")
	v.pair("other", other2.Bundle(), other2.KeyPEM)
	v.expect("other.example.org", other2)

	// An invalid pair: reported once, by file; nothing served changes.
	bad, wrong := hostChain(t, "bad.example.net"), hostChain(t, "bad.example.net")
	mark := v.checkInvalidPair("bad", bad, wrong,
		map[string]*testcert.Chain{"late.example.net": late, "other.example.org": other2, "bad.example.net": main, "whoami.example.com": main})

	// Fixed: served. The watcher handles writes in order, so once the
	// fix's reload is logged every report the invalid write caused has
	// been made: it was reported once.
	v.pair("bad", bad.Bundle(), bad.KeyPEM)
	v.expect("bad.example.net", bad)
	i.waitLog(mark, "files=bad.crt,", 15*time.Second)
	out := i.stderr.String()[mark:]
	out = out[:strings.Index(out, "files=bad.crt,")]
	if n := strings.Count(out, "new certificate rejected"); n != 1 {
		t.Errorf("the invalid pair was reported %d times, want once:\n%s", n, out)
	}

	if now := children(i.cmd.Process.Pid); fmt.Sprint(now) != fmt.Sprint(traefik) || len(now) != 1 {
		t.Errorf("Traefik's pid went from %v to %v: it was restarted", traefik, now)
	}
	if strings.Contains(i.stderr.String(), "certificate rotated") {
		t.Error("the main certificate was reported rotated, but it never changed")
	}
}

// hostChain is a throw-away chain for host.
func hostChain(t *testing.T, host string) *testcert.Chain {
	t.Helper()
	c, err := testcert.New(testcert.Options{Hosts: []string{host}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// certsVolume is an instance's $TRAEFIK_HOME/certs, the extra pairs.
type certsVolume struct {
	t   *testing.T
	i   *instance
	dir string
}

func newCertsVolume(t *testing.T, i *instance) *certsVolume {
	t.Helper()
	dir := filepath.Join(i.home, "certs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &certsVolume{t: t, i: i, dir: dir}
}

// pair writes name.key, then name.crt, each written aside and renamed
// over.
func (v *certsVolume) pair(name string, certPEM, keyPEM []byte) {
	v.t.Helper()
	for _, f := range []struct {
		ext string
		b   []byte
	}{{".key", keyPEM}, {".crt", certPEM}} {
		tmp := filepath.Join(v.dir, "."+name+f.ext+".tmp")
		if err := os.WriteFile(tmp, f.b, 0o600); err != nil {
			v.t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(v.dir, name+f.ext)); err != nil {
			v.t.Fatal(err)
		}
	}
}

// served is the fingerprint of the leaf served for host, or the error.
func (v *certsVolume) served(host string) string {
	conn, err := tlsDialInsecure(v.i.httpsPort, host)
	if err != nil {
		return "error: " + err.Error()
	}
	defer conn.Close()
	return testcert.Fingerprint(conn.ConnectionState().PeerCertificates[0].Raw)
}

// expect waits until host is served c's leaf.
func (v *certsVolume) expect(host string, c *testcert.Chain) {
	v.t.Helper()
	eventually(v.t, 15*time.Second, host+" served", func() error {
		if got := v.served(host); got != c.Fingerprint() {
			return fmt.Errorf("serving %s, want %s", got, c.Fingerprint())
		}
		return nil
	})
}

// checkInvalidPair writes name with chain's certificate and wrong's key:
// reported, naming the key file and not showing the key; every host of
// want is still served its chain. It returns where in the log the write
// began (the caller counts the reports once a later write is in).
func (v *certsVolume) checkInvalidPair(name string, chain, wrong *testcert.Chain, want map[string]*testcert.Chain) int {
	t := v.t
	t.Helper()
	mark := len(v.i.stderr.String())
	v.pair(name, chain.Bundle(), wrong.KeyPEM)
	v.i.waitLog(mark, "new certificate rejected; still serving the previous one", 15*time.Second)
	out := v.i.stderr.String()[mark:]
	if !strings.Contains(out, filepath.Join(v.dir, name+".key")) {
		t.Errorf("the report does not name %s.key:\n%s", name, out)
	}
	if strings.Contains(out, strings.Split(string(wrong.KeyPEM), "\n")[1]) {
		t.Error("the report shows the key")
	}
	for host, c := range want {
		if got := v.served(host); got != c.Fingerprint() {
			t.Errorf("%s: serving %s, want %s", host, got, c.Fingerprint())
		}
	}
	return mark
}

// TestCertificateChangedWhileStarting: the main pair replaced after it was
// read but before Traefik started (here while start-up waits for a Rancher
// that does not answer) is served once Traefik runs — the watch counts from
// the moment the files were read, not from when Traefik was up.
func TestCertificateChangedWhileStarting(t *testing.T) {
	i := newInstance(t, map[string]string{
		"TRAEFIK_RANCHER_MODE":         "metadata",
		"TRAEFIK_RANCHER_METADATA_URL": fmt.Sprintf("http://127.0.0.1:%d/2016-07-29", freePort(t)), // nothing listens
		"TRAEFIK_RANCHER_WAIT":         "5s",                                                       // retries end about 3 s in
	})
	a := i.withCert("start.example.com")
	i.start("run")
	written := filepath.Join(i.home, "certs", "traefik.crt")
	eventually(t, 10*time.Second, "certificate A written", func() error {
		b, err := os.ReadFile(written)
		if err != nil || !strings.Contains(string(b), strings.TrimSpace(string(a.LeafPEM))) {
			return fmt.Errorf("not yet: %v", err)
		}
		return nil
	})
	if strings.Contains(i.stderr.String(), "no answer from Rancher yet") {
		t.Fatal("Traefik was already starting: the change would not fall in the start-up window")
	}
	b, err := testcert.New(testcert.Options{Hosts: []string{"start.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	i.writeSecret("traefik-key", b.KeyPEM)
	i.writeSecret("traefik-cert", b.Bundle())
	i.waitReady()
	if !strings.Contains(i.stderr.String(), "no answer from Rancher yet") {
		t.Error("start-up did not wait for Rancher: the test did not test the window")
	}
	eventually(t, 15*time.Second, "certificate B served", func() error {
		conn, err := tlsDialInsecure(i.httpsPort, "start.example.com")
		if err != nil {
			return err
		}
		defer conn.Close()
		if got := testcert.Fingerprint(conn.ConnectionState().PeerCertificates[0].Raw); got != b.Fingerprint() {
			return fmt.Errorf("serving %s, want B %s", got, b.Fingerprint())
		}
		return nil
	})
}
