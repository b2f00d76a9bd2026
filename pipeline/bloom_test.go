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
