// Package muxbench measures how Traefik v2.11.53's HTTP muxer takes an
// entry point's routes, beside tools/traefik/muxbench for v3.6.12: v2
// adds every router's route and sorts them once (pkg/server/router:
// buildEntryPointHandler calls Muxer.AddRoute per router, then
// SortRoutes), where v3 sorts the whole list at every route added.
package muxbench

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/traefik/traefik/v2/pkg/middlewares/requestdecorator"
	httpmuxer "github.com/traefik/traefik/v2/pkg/muxer/http"
)

// Rules are n Host rules in a fixed shuffled order, with the priority a
// rule without one gets: its length (as tools/traefik/muxbench).
func Rules(n int) []string {
	rules := make([]string, n)
	for i := range rules {
		rules[i] = fmt.Sprintf("Host(`svc%d.example.com`)", i)
	}
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(n, func(i, j int) { rules[i], rules[j] = rules[j], rules[i] })
	return rules
}

func build(tb testing.TB, rules []string, h func(i int) http.Handler) *httpmuxer.Muxer {
	m, err := httpmuxer.NewMuxer()
	if err != nil {
		tb.Fatal(err)
	}
	for i, rule := range rules {
		if err := m.AddRoute(rule, len(rule), h(i)); err != nil {
			tb.Fatal(err)
		}
	}
	m.SortRoutes()
	return m
}

// BenchmarkAddRoute is one entry point's muxer built with n routers, as
// an apply builds it.
func BenchmarkAddRoute(b *testing.B) {
	nf := http.NotFoundHandler()
	for _, n := range []int{1000, 10000} {
		rules := Rules(n)
		b.Run(fmt.Sprintf("routers=%d", n), func(b *testing.B) {
			for b.Loop() {
				build(b, rules, func(int) http.Handler { return nf })
			}
		})
	}
}

// TestAddRouteRoutes: the muxer built as the benchmark builds it routes
// each host to its own router.
func TestAddRouteRoutes(t *testing.T) {
	rules := Rules(100)
	m := build(t, rules, func(i int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200 + i) })
	})
	for i, rule := range rules {
		host := rule[len("Host(`") : len(rule)-len("`)")]
		req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/", nil)
		w := &recorder{}
		requestdecorator.New(nil).ServeHTTP(w, req, m.ServeHTTP)
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
