package importer

import "hash/fnv"

// lineCounter counts the lines of each claim id for a generated line_no:
// an open-addressing table of the ids' 64-bit FNV-1a hashes and their
// counts, 12 bytes a slot and at most 3/4 full, so 16 to 32 bytes per claim
// id (a Go map of the same takes 37). The table holds every claim id of the
// import, because a claim's rows need not be next to each other (Synthea's
// transactions are not grouped by claim, DE-SynPUF's inpatient segments may
// sit apart).
//
// Two ids with the same hash would share one count: their lines would be
// numbered 1, 2, 3 across both claims, which leaves gaps in each claim's
// numbers but never gives one (claim_id, line_no) twice. With 16 million
// claim ids the chance of any such pair is about 1 in 140,000; the hash has
// no seed, so the same input always numbers the same way.
type lineCounter struct {
	keys   []uint64 // 0 = free; a hash of 0 is stored as 1
	counts []uint32
	used   int
}

func (lc *lineCounter) next(claimID string) uint32 {
	h := fnv.New64a()
	h.Write([]byte(claimID))
	k := h.Sum64()
	if k == 0 {
		k = 1
	}
	if (lc.used+1)*4 > len(lc.keys)*3 {
		lc.grow()
	}
	mask := uint64(len(lc.keys) - 1)
	for i := k & mask; ; i = (i + 1) & mask {
		switch lc.keys[i] {
		case k:
			lc.counts[i]++
			return lc.counts[i]
		case 0:
			lc.keys[i], lc.counts[i] = k, 1
			lc.used++
			return 1
		}
	}
}

func (lc *lineCounter) grow() {
	size := max(1024, 2*len(lc.keys))
	keys, counts := lc.keys, lc.counts
	lc.keys, lc.counts = make([]uint64, size), make([]uint32, size)
	mask := uint64(size - 1)
	for j, k := range keys {
		if k == 0 {
			continue
		}
		i := k & mask
		for lc.keys[i] != 0 {
			i = (i + 1) & mask
		}
		lc.keys[i], lc.counts[i] = k, counts[j]
	}
}
