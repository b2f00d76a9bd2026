package pipeline

import (
	"math/bits"

	"claimsbatch/internal/strhash"
)

// bloom is a blocked Bloom filter of line keys: it tells the read stage
// which lines may repeat an earlier key (of this run, in input order, or of
// the --state-in file), so that only those keep their raw text for a
// DUPLICATE_LINE exception. It never answers "new" for a key it was given
// (no false negatives); a false "maybe" only keeps a raw text for nothing.
// A key's probes all fall in one 512-bit block (one cache line), so a test
// costs one cache miss instead of one per probe (measured: 5 probes over a
// plain filter took 2 % of a run's CPU). About 12 bits a key give about 1 %
// false answers.
type bloom struct {
	blocks [][8]uint64
	mask   uint64 // len(blocks) - 1; the count is a power of two
}

const bloomProbes = 6

// newBloom sizes a filter for about n keys, at most maxBytes.
func newBloom(n, maxBytes int64) *bloom {
	want := max(n*12/512, 16) // blocks: about 12 bits a key
	want = min(want, max(maxBytes/64, 16))
	size := uint64(1) << (64 - bits.LeadingZeros64(uint64(want)-1)) // next power of two
	return &bloom{blocks: make([][8]uint64, size), mask: size - 1}
}

// testAndAdd adds a key's hash and reports whether it may have been added
// before. It has no branch on the block's bits, so that a loop over many
// keys (testAndAddAll) keeps several cache misses in flight at once.
func (b *bloom) testAndAdd(h uint64) (seen bool) {
	blk := &b.blocks[h&b.mask]
	var missing uint64
	// The probes come from the hash's upper bits, 9 bits each (a bit of the
	// block), the block from its lower bits.
	for i, x := 0, h>>10|h<<54; i < bloomProbes; i, x = i+1, x>>9 {
		p := x & 511
		w, bit := p>>6, uint64(1)<<(p&63)
		old := blk[w]
		missing |= bit &^ old
		blk[w] = old | bit
	}
	return missing == 0
}

// testAndAddAll does testAndAdd for hashes[i] where members[i] >= 0, in
// order, and sets seen[i] to its answer (false for the others). A tight
// loop of its own: the filter is far larger than the caches, and a loop
// that does nothing else lets the processor overlap the misses of
// consecutive keys (measured on a 10 M-line run: the sink, which tested
// each key among its spill writes, 6.1 → 4.2 s busy).
func (b *bloom) testAndAddAll(hashes []uint64, members []int32, seen []bool) {
	hashes, seen = hashes[:len(members)], seen[:len(members)]
	b.load(hashes)
	for i, m := range members {
		seen[i] = m >= 0 && b.testAndAdd(hashes[i])
	}
}

// load loads each key's block and nothing else: a loop this short keeps
// many more misses in flight than a probing loop can (a batch's blocks, 64
// bytes a line, stay in the caches for the probes that follow).
func (b *bloom) load(hashes []uint64) {
	var x uint64
	for _, h := range hashes {
		x ^= b.blocks[h&b.mask][0]
	}
	keepLoads(x)
}

// addAll adds the keys of hashes, their blocks loaded first as
// testAndAddAll loads them (the --state-in keys: about 1.7 s of a 10 M-row
// state's load when added one by one among the records' other work).
func (b *bloom) addAll(hashes []uint64) {
	b.load(hashes)
	for _, h := range hashes {
		b.testAndAdd(h)
	}
}

// bytes is the filter's memory.
func (b *bloom) bytes() int64 { return int64(len(b.blocks)) * 64 }

// keyHash hashes a line key (claim_id, line_no): the id, then the line
// number, with the final mix so that the low bits (the key partition) and
// the Bloom probes are independent enough.
func keyHash(claimID string, lineNo int32) uint64 {
	return strhash.Mix(strhash.Uint(strhash.String(strhash.Seed, claimID), uint64(uint32(lineNo))))
}
