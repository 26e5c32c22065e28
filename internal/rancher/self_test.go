package rancher

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReadSelfByAddress: each container of a global service asks the same
// metadata service and sees itself in /self (the real server keys self by
// the request's source address), with its service's members.
func TestReadSelfByAddress(t *testing.T) {
	_, url := emulator(t, "testdata/global.yml")
	members := []Member{
		{Name: "lb-traefik-1", PrimaryIP: "127.0.31.1", State: "running", HealthState: "healthy", CreateIndex: 1},
		{Name: "lb-traefik-2", PrimaryIP: "127.0.31.2", State: "stopped", HealthState: "healthy", CreateIndex: 2},
		{Name: "lb-traefik-3", PrimaryIP: "127.0.31.3", State: "running", HealthState: "healthy", CreateIndex: 3},
	}
	for i, from := range []string{"127.0.31.1", "127.0.31.2", "127.0.31.3"} {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c := &Client{Base: url + "/2016-07-29", HTTP: &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}}
		s, err := c.ReadSelf(context.Background())
		if err != nil {
			t.Fatalf("from %s: %v", from, err)
		}
		if s.Container.Name != members[i].Name || s.Container.UUID == "" || s.Service != "lb/traefik" || !s.Global {
			t.Errorf("from %s: self %+v, service %q global %v", from, s.Container, s.Service, s.Global)
		}
		var got []Member
		for _, m := range s.Members {
			if m.UUID == "" {
				t.Errorf("from %s: %s has no UUID", from, m.Name)
			}
			m.UUID = ""
			got = append(got, m)
		}
		if diff := cmp.Diff(got, members); diff != "" {
			t.Errorf("from %s: members (-got +want):\n%s", from, diff)
		}
	}
}

// TestReadSelfOutsideRancher: an address the metadata has no container for
// is told so, not given an empty self.
func TestReadSelfOutsideRancher(t *testing.T) {
	_, url := emulator(t, "testdata/global.yml")
	_, err := (&Client{Base: url + "/2016-07-29"}).ReadSelf(context.Background())
	if !errors.Is(err, ErrNoSelf) || !strings.Contains(err.Error(), "/self/container") {
		t.Errorf("ReadSelf from 127.0.0.1 = %v, want an error naming /self/container", err)
	}
}

func TestDecodeSelfBadInput(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"not JSON", `{`, "metadata /self/service: unexpected end of JSON input"},
		{"names only", `{"containers":["a","b"]}`, "listed by name (metadata version 2015-07-25)"},
		{"container not an object", `{"containers":[1]}`, "container 0:"},
		{"create_index a string", `{"containers":[{"create_index":"1"}]}`, "container 0:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeSelf(Member{}, []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("DecodeSelf(%s) = %v, want %q", tc.in, err, tc.want)
			}
		})
	}
}

func FuzzDecodeSelf(f *testing.F) {
	f.Add([]byte(`{"name":"traefik","stack_name":"lb","scale":2,"labels":{"io.rancher.scheduler.global":"true"},"containers":[{"name":"a","uuid":"u","primary_ip":"10.0.0.1","state":"running","create_index":1}]}`))
	f.Add([]byte(`{"containers":["a"]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeSelf(Member{UUID: "me"}, b)
		if err == nil && (s == nil || s.Container.UUID != "me") {
			t.Fatalf("DecodeSelf(%q) = %+v without error", b, s)
		}
	})
}
