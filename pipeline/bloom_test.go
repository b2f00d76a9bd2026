package pipeline

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"
)

// TestStrHash: every byte of a string counts, at every length across the
// word loop and the tail's loads, and the length tells strings that pad
// alike apart; line keys like the bench's spread evenly over key
// partitions and do not collide.
func TestStrHash(t *testing.T) {
	base := []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123")
	seen := map[uint64]string{}
	for n := 0; n <= len(base); n++ {
		s := string(base[:n])
		h := strHash(hashSeed, s)
		if other, ok := seen[h]; ok {
			t.Fatalf("%q and %q hash alike", s, other)
		}
		seen[h] = s
		for i := range n {
			b := []byte(s)
			b[i] ^= 0x20
			if strHash(hashSeed, string(b)) == h {
				t.Errorf("byte %d of a %d-byte string does not count", i, n)
			}
		}
		if n < len(base) && strHash(hashSeed, s+"\x00") == h {
			t.Errorf("%q and the same with a zero byte after it hash alike", s)
		}
	}
	// The tail's loads overlap: a run of one byte reads alike at lengths 4
	// to 7, and only the length tells those apart.
	runs := map[uint64]int{}
	for n := range 24 {
		h := strHash(hashSeed, string(bytes.Repeat([]byte{'A'}, n)))
		if m, ok := runs[h]; ok {
			t.Errorf("%d and %d A's hash alike", m, n)
		}
		runs[h] = n
	}
	const keys, parts = 1_000_000, 64
	var count [parts]int
	all := make(map[uint64]struct{}, keys)
	for i := range keys {
		h := keyHash(fmt.Sprintf("C%09d", i/3), int32(1+i%3))
		all[h] = struct{}{}
		count[h%parts]++
	}
	if len(all) != keys {
		t.Errorf("%d distinct hashes of %d keys", len(all), keys)
	}
	for p, c := range count {
		if want := keys / parts; c < want*9/10 || c > want*11/10 {
			t.Errorf("key partition %d of %d holds %d keys, want about %d", p, parts, c, want)
		}
	}
	if keyHash("C1", 2) == keyHash("C2", 1) || providerHash("P1", 0) == providerHash("P1", 1) {
		t.Errorf("line number or currency not in the hash")
	}
}

// TestBloom: a key given once is always "maybe" after (no false negative),
// and about 12 bits a key keep false answers near 1 %.
func TestBloom(t *testing.T) {
	const n = 200000
	b := newBloom(n, 1<<30)
	for i := range n {
		b.testAndAdd(keyHash("C"+strconv.Itoa(i), 1)) // a false "maybe" here is allowed
	}
	for i := range n {
		if !b.testAndAdd(keyHash("C"+strconv.Itoa(i), 1)) {
			t.Fatalf("key %d given before answers new", i)
		}
	}
	// New keys, few enough not to fill the filter further by much.
	const probes = n / 20
	false_ := 0
	for i := range probes {
		if b.testAndAdd(keyHash("X"+strconv.Itoa(i), 2)) {
			false_++
		}
	}
	rate := float64(false_) / probes
	t.Logf("false maybe rate %.4f", rate)
	if rate > 0.02 {
		t.Errorf("false maybe rate %.4f with %d bytes for %d keys", rate, b.bytes(), n)
	}
}

// BenchmarkBloomSink adds 10 M keys' hashes to a filter sized for them, in
// batches as the sink does: one key at a time, and the batch's keys first.
func BenchmarkBloomSink(b *testing.B) {
	const n, batch = 10_000_000, 4096
	hashes := make([]uint64, n)
	for i := range hashes {
		hashes[i] = keyHash("C"+strconv.Itoa(i), 1)
	}
	members := make([]int32, batch)
	seen := make([]bool, batch)
	b.Run("each", func(b *testing.B) {
		for b.Loop() {
			f := newBloom(n, 1<<30)
			for _, h := range hashes {
				f.testAndAdd(h)
			}
		}
	})
	b.Run("batch", func(b *testing.B) {
		for b.Loop() {
			f := newBloom(n, 1<<30)
			for lo := 0; lo < n; lo += batch {
				hi := min(lo+batch, n)
				f.testAndAddAll(hashes[lo:hi], members[:hi-lo], seen)
			}
		}
	})
}
