package rancher

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestPlainWord: eight bytes at a time agrees with one at a time, for every
// byte value at every position, and for random words.
func TestPlainWord(t *testing.T) {
	check := func(b [8]byte) {
		want := true
		for _, c := range b {
			want = want && plainByte[c]
		}
		if got := plainWord(binary.LittleEndian.Uint64(b[:])); got != want {
			t.Fatalf("plainWord(%q) = %v, want %v", b, got, want)
		}
	}
	for v := range 256 {
		for p := range 8 {
			for _, fill := range []byte{'a', ' ', '~', 0x21} {
				var b [8]byte
				for i := range b {
					b[i] = fill
				}
				b[p] = byte(v)
				check(b)
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1_000_000 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], r.Uint64())
		check(b)
		for i := range b { // mostly plain, as strings are
			if r.IntN(8) != 0 {
				b[i] = byte(0x20 + r.IntN(0x60))
			}
		}
		check(b)
	}
}

func FuzzPlainWord(f *testing.F) {
	f.Add(uint64(0x6161616161616161))
	f.Fuzz(func(t *testing.T, w uint64) {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], w)
		want := true
		for _, c := range b {
			want = want && plainByte[c]
		}
		if got := plainWord(w); got != want {
			t.Fatalf("plainWord(%q) = %v, want %v", b, got, want)
		}
	})
}
