package pipeline

import (
	"strconv"
	"testing"
)

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
