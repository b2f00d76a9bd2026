package pipeline

import "math/bits"

// bloom is a Bloom filter of line keys: it tells the read stage which lines
// may repeat an earlier key (of this run, in input order, or of the
// --state-in file), so that only those keep their raw text for a
// DUPLICATE_LINE exception. It never answers "new" for a key it was given
// (no false negatives); a false "maybe" only keeps a raw text for nothing.
// About 10 bits a key give under 1 % false answers with 5 probes.
type bloom struct {
	bits []uint64
	mask uint64 // len(bits)*64 - 1; the size is a power of two
}

const bloomProbes = 5

// newBloom sizes a filter for about n keys, at most maxBytes.
func newBloom(n, maxBytes int64) *bloom {
	want := max(n*10, 1<<16) // bits
	want = min(want, max(maxBytes*8, 1<<16))
	size := uint64(1) << (64 - bits.LeadingZeros64(uint64(want)-1)) // next power of two
	return &bloom{bits: make([]uint64, size/64), mask: size - 1}
}

// testAndAdd adds a key's hash and reports whether it may have been added
// before.
func (b *bloom) testAndAdd(h uint64) (seen bool) {
	// Double hashing: probe i is h1 + i*h2, h2 odd.
	h1, h2 := h, (h>>33|h<<31)|1
	seen = true
	for i := uint64(0); i < bloomProbes; i++ {
		p := (h1 + i*h2) & b.mask
		w, bit := p>>6, uint64(1)<<(p&63)
		if b.bits[w]&bit == 0 {
			seen = false
			b.bits[w] |= bit
		}
	}
	return seen
}

// bytes is the filter's memory.
func (b *bloom) bytes() int64 { return int64(len(b.bits)) * 8 }

// keyHash hashes a line key (claim_id, line_no): FNV-1a, inline, with a
// final mix so that the low bits (the key partition) and the Bloom probes
// are independent enough.
func keyHash(claimID string, lineNo int32) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(claimID); i++ {
		h ^= uint64(claimID[i])
		h *= 1099511628211
	}
	for v, k := uint32(lineNo), 0; k < 4; k++ {
		h ^= uint64(byte(v >> (8 * k)))
		h *= 1099511628211
	}
	// splitmix64's finaliser.
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}
