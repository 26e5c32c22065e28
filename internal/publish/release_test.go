package publish

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"testing"

	"rancher-traefik/internal/routes"
)

// heapObjects is the bytes of the heap's objects, live or not yet swept.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestReleaseMemoryDropsEncodingBuffers: after a large environment's
// encoding, releaseMemory leaves none of the encoder's buffers on the
// heap. They were in a sync.Pool, which lets go only at the second
// collection after their use: an idle process kept a large environment's
// whole encoding (about 4 MB at 10,000 services) until Go's periodic
// collections, minutes later.
func TestReleaseMemoryDropsEncodingBuffers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2)) // the encoder splits large tables between cores
	// 20,000 routers: an encoding of about 13 MB, so that what other
	// goroutines of the test binary allocate meanwhile (a few hundred KB
	// at most) cannot tip the comparison either way.
	encodeLarge(t, 20000)
	runtime.GC()
	runtime.GC() // a sync.Pool would be empty by now: the base holds none of its buffers
	base := heapObjects()
	size := encodeLarge(t, 20000)
	releaseMemory()
	if after := heapObjects(); after > base+uint64(size)/4 {
		t.Errorf("after releaseMemory the heap holds %d bytes more than before an encoding of %d bytes", after-base, size)
	}
}

// encodeLarge encodes n routers, each with its service, and returns the
// encoding's size; the tree and its encoding are dropped.
func encodeLarge(t *testing.T, n int) int {
	rs, ss := make(map[string]any, n), make(map[string]any, n)
	for i := range n {
		name := fmt.Sprintf("svc%d", i)
		rs[name] = map[string]any{"rule": fmt.Sprintf("Host(`%s.example.com`)", name), "service": name, "entryPoints": []string{"https"}}
		ss[name] = map[string]any{"loadBalancer": map[string]any{"servers": []map[string]any{{"url": fmt.Sprintf("http://10.0.%d.%d:8080", i/256, i%256)}}}}
	}
	enc, err := routes.Encode(map[string]any{"http": map[string]any{"routers": rs, "services": ss}})
	if err != nil {
		t.Fatal(err)
	}
	return len(enc)
}
