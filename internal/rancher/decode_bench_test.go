package rancher

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"rancher-traefik/internal/metadataserver"
	"rancher-traefik/internal/teststack"
)

// BenchmarkDecode decodes the metadata tree of 1,000 and 10,000 services
// (3 containers each; about 6.4 and 64 MB of JSON) with this decoder and
// with the encoding/json reference it replaced; lean is what the client
// does (the root containers list skipped).
func BenchmarkDecode(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		a, err := metadataserver.Parse([]byte(teststack.Scale(n, false)))
		if err != nil {
			b.Fatal(err)
		}
		tree, err := json.Marshal(a["2016-07-29"]["default"])
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range []struct {
			name   string
			decode func([]byte) (*Snapshot, error)
		}{
			{"scanner", Decode},
			{"scanner-lean", func(b []byte) (*Snapshot, error) { return decodeTree(bytes.NewReader(b), true) }},
			{"reference", func(b []byte) (*Snapshot, error) { return refDecodeReader(bytes.NewReader(b)) }},
		} {
			b.Run(fmt.Sprintf("services=%d/%s", n, d.name), func(b *testing.B) {
				b.SetBytes(int64(len(tree)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := d.decode(tree); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
