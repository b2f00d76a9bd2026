package synth

import (
	"math/bits"
	"math/rand/v2"
)

// rng wraps a PCG source with the few bounded draws the generator needs. It
// calls the concrete source directly (no interface dispatch) because the hot
// loop draws a dozen numbers per line. Bounded draws use the multiply-high
// method: exact integer arithmetic, so output is identical on every platform.
type rng struct{ src rand.PCG }

func newRNG(seed int64, stream uint64) *rng {
	r := &rng{}
	r.src.Seed(uint64(seed), stream)
	return r
}

func (r *rng) u64() uint64 { return r.src.Uint64() }

func (r *rng) u32() uint32 { return uint32(r.src.Uint64() >> 32) }

// n returns a number in [0, k); k must be positive.
func (r *rng) n(k int) int {
	hi, _ := bits.Mul64(r.src.Uint64(), uint64(k))
	return int(hi)
}

// n64 is n for int64 bounds.
func (r *rng) n64(k int64) int64 {
	hi, _ := bits.Mul64(r.src.Uint64(), uint64(k))
	return int64(hi)
}

// permille reports true with probability p/1000.
func (r *rng) permille(p int) bool { return r.n(1000) < p }

// skewed returns a number in [0, k) biased towards 0 (the minimum of two draws).
func (r *rng) skewed(k int) int {
	a, b := r.n(k), r.n(k)
	if b < a {
		return b
	}
	return a
}
