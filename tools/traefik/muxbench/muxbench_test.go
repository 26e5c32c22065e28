// Package muxbench measures how Traefik v3.6.12's HTTP muxer takes an
// entry point's routes, the step of every configuration apply that
// builds the entry point's handler (pkg/server/router: buildEntryPointHandler
// calls Muxer.AddRoute once per router). AddRoute appends the route and
// sorts the whole list again (pkg/muxer/http/mux.go: sort.Sort(m.routes)),
// so n routers cost n sorts of up to n routes: quadratic. Traefik v2.11
// adds them all and sorts once (tools/traefik2/muxbench). Issue 12 asks
// what Traefik's side costs at 10,000 services; this is the part of it
// that grows faster than the configuration.
package muxbench

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/traefik/traefik/v3/pkg/middlewares/requestdecorator"
	httpmuxer "github.com/traefik/traefik/v3/pkg/muxer/http"
)

// Rules are n Host rules, one per service as rancher-traefik writes them,
// in a fixed shuffled order (Traefik adds routers in map order), each with
// the priority Traefik gives a rule without one: its length.
func Rules(n int) []string {
	rules := make([]string, n)
	for i := range rules {
		rules[i] = fmt.Sprintf("Host(`svc%d.example.com`)", i)
	}
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(n, func(i, j int) { rules[i], rules[j] = rules[j], rules[i] })
	return rules
}

// BenchmarkAddRoute is one entry point's muxer built with n routers, as
// an apply builds it.
func BenchmarkAddRoute(b *testing.B) {
	parser, err := httpmuxer.NewSyntaxParser()
	if err != nil {
		b.Fatal(err)
	}
	h := http.NotFoundHandler()
	for _, n := range []int{1000, 10000} {
		rules := Rules(n)
		b.Run(fmt.Sprintf("routers=%d", n), func(b *testing.B) {
			for b.Loop() {
				m := httpmuxer.NewMuxer(parser)
				for _, rule := range rules {
					if err := m.AddRoute(rule, "", len(rule), h); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// TestAddRouteRoutes: the muxer built as the benchmark builds it routes
// each host to its own router (the benchmark measures a working muxer).
func TestAddRouteRoutes(t *testing.T) {
	parser, err := httpmuxer.NewSyntaxParser()
	if err != nil {
		t.Fatal(err)
	}
	m := httpmuxer.NewMuxer(parser)
	rules := Rules(100)
	for i, rule := range rules {
		code := 200 + i
		if err := m.AddRoute(rule, "", len(rule), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) })); err != nil {
			t.Fatal(err)
		}
	}
	for i, rule := range rules {
		host := rule[len("Host(`") : len(rule)-len("`)")]
		req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/", nil)
		w := &recorder{}
		requestdecorator.New(nil).ServeHTTP(w, req, m.ServeHTTP) // as the entry point's chain does: the Host matcher reads the canonical host it sets
		if w.code != 200+i {
			t.Errorf("%s: answered by %d, want %d", host, w.code, 200+i)
		}
	}
}

type recorder struct {
	code int
	h    http.Header
}

func (r *recorder) Header() http.Header {
	if r.h == nil {
		r.h = http.Header{}
	}
	return r.h
}
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(code int)        { r.code = code }
