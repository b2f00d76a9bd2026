package pipeline

import (
	"fmt"
	"strconv"
	"testing"
)

// TestKeyHash: line keys like the bench's spread evenly over key
// partitions and do not collide; the line number and the provider's
// currency are in their hashes.
func TestKeyHash(t *testing.T) {
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
