package strhash

import (
	"bytes"
	"testing"
)

// TestString: every byte of a string counts, at every length across the
// word loop and the tail's loads, and the length tells strings that read
// alike apart.
func TestString(t *testing.T) {
	base := []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123")
	seen := map[uint64]string{}
	for n := 0; n <= len(base); n++ {
		s := string(base[:n])
		h := String(Seed, s)
		if other, ok := seen[h]; ok {
			t.Fatalf("%q and %q hash alike", s, other)
		}
		seen[h] = s
		for i := range n {
			b := []byte(s)
			b[i] ^= 0x20
			if String(Seed, string(b)) == h {
				t.Errorf("byte %d of a %d-byte string does not count", i, n)
			}
		}
		if n < len(base) && String(Seed, s+"\x00") == h {
			t.Errorf("%q and the same with a zero byte after it hash alike", s)
		}
	}
	// The tail's loads overlap: a run of one byte reads alike at lengths 4
	// to 7, and only the length tells those apart.
	runs := map[uint64]int{}
	for n := range 24 {
		h := String(Seed, string(bytes.Repeat([]byte{'A'}, n)))
		if m, ok := runs[h]; ok {
			t.Errorf("%d and %d A's hash alike", m, n)
		}
		runs[h] = n
	}
}
