package writers

import (
	"hash/maphash"
	"unsafe"
)

// textDict dictionary-encodes one text column of a row group: it finds the
// distinct values, in the order of their first occurrence, and each row's
// index into them. It gives up (build returns false) when the column has
// too many distinct values for a dictionary to pay: more than maxShare of
// the rows, or more than maxBytes of distinct text. Its buffers are reused
// from one column and row group to the next.
//
// The Parquet writer hands the result to arrow-go's dictionary encoder
// (writeDict in parquet.go); the hash table here does the work that the
// library's own dictionary encoder would do with more per value (hashing
// every value through its memo table and computing statistics over every
// value rather than over the distinct ones).
type textDict struct {
	seed   maphash.Seed
	slots  []int32  // open addressing: 0 empty, else distinct value number + 1
	hashes []uint64 // per distinct value, its hash
	offs   []int32  // distinct value i is vals[offs[i]:offs[i+1]]
	vals   []byte
	idx    []int32 // per row, its distinct value number

	lastHash uint64 // of the value lookup did not find,
	lastSlot int    // and the free slot it ends at
	prevID   int32  // add: the last row's value number, -1 before the first
}

// Limits of a dictionary. maxDictShare is a fraction of the rows, so a row
// group of identifiers (claim ids, member ids with few lines each) is
// written plain; maxDictBytes is arrow-go's default dictionary page limit.
const (
	maxDictShareNum, maxDictShareDen = 1, 2
	maxDictBytes                     = 1 << 20
)

func newTextDict() *textDict {
	return &textDict{seed: maphash.MakeSeed()}
}

// size returns the number of distinct values.
func (d *textDict) size() int { return len(d.offs) - 1 }

// value returns distinct value i.
func (d *textDict) value(i int32) []byte { return d.vals[d.offs[i]:d.offs[i+1]] }

// build encodes the column whose values are data[ends[i-1]:ends[i]] (from
// 0 for the first). It reports false, with the dictionary in an undefined
// state, when the column is not worth a dictionary.
func (d *textDict) build(data []byte, ends []int32) bool {
	n := len(ends)
	maxDistinct := n * maxDictShareNum / maxDictShareDen
	if maxDistinct < 1 {
		maxDistinct = 1
	}
	d.clearValues()
	if cap(d.idx) < n {
		d.idx = make([]int32, n)
	}
	d.idx = d.idx[:n]

	var prev string
	prevID := int32(-1)
	start := int32(0)
	for i, end := range ends {
		v := bytesString(data[start:end])
		start = end
		// Runs of one value are common (the run id, currencies, sorted
		// members): the previous row's value needs no hashing.
		if prevID >= 0 && v == prev {
			d.idx[i] = prevID
			continue
		}
		id := d.lookup(v)
		if id < 0 {
			if d.size() >= maxDistinct || len(d.vals)+len(v) > maxDictBytes {
				return false
			}
			id = d.insert(v)
		}
		d.idx[i] = id
		prev, prevID = v, id
	}
	return true
}

// clearValues empties the dictionary, keeping its buffers' capacity. The
// table starts small (a code column has a handful of values) and doubles
// as needed.
func (d *textDict) clearValues() {
	d.slots = resize(d.slots, 1024)
	d.hashes, d.vals = d.hashes[:0], d.vals[:0]
	d.offs = append(d.offs[:0], 0)
}

// begin readies d for a column given row by row (add).
func (d *textDict) begin() {
	d.clearValues()
	d.idx = d.idx[:0]
	d.prevID = -1
}

// add appends a row of value v, as build would have encoded it, and
// reports true; or, when v is a new value that would take the distinct
// values past maxDictBytes, reports false and leaves d as it was (the
// caller then writes the column as text). v is copied if it is kept: the
// caller may reuse its bytes. The share of distinct values is checked by
// fits once the row group's rows are known.
func (d *textDict) add(v string) bool {
	if d.prevID >= 0 && bytesString(d.value(d.prevID)) == v {
		d.idx = append(d.idx, d.prevID)
		return true
	}
	id := d.lookup(v)
	if id < 0 {
		if len(d.vals)+len(v) > maxDictBytes {
			return false
		}
		id = d.insert(v)
	}
	d.idx = append(d.idx, id)
	d.prevID = id
	return true
}

// fits reports whether the dictionary that add built pays for its rows by
// build's rule: at most maxDictShare of them distinct.
func (d *textDict) fits() bool {
	return d.size() <= max(len(d.idx)*maxDictShareNum/maxDictShareDen, 1)
}

// bytesString returns b's bytes as a string without copying them: only for
// values that are compared or hashed, never kept.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// lookup returns the number of distinct value v, or -1 if it is new (then
// lastHash and lastSlot say where to insert it).
func (d *textDict) lookup(v string) int32 {
	h := maphash.String(d.seed, v)
	mask := uint64(len(d.slots) - 1)
	for p := h & mask; ; p = (p + 1) & mask {
		s := d.slots[p]
		if s == 0 {
			d.lastHash, d.lastSlot = h, int(p)
			return -1
		}
		if d.hashes[s-1] == h && bytesString(d.value(s-1)) == v {
			return s - 1
		}
	}
}

// insert adds v, which lookup just did not find, and returns its number.
func (d *textDict) insert(v string) int32 {
	id := int32(d.size())
	d.vals = append(d.vals, v...)
	d.offs = append(d.offs, int32(len(d.vals)))
	d.hashes = append(d.hashes, d.lastHash)
	d.slots[d.lastSlot] = id + 1
	if 2*d.size() > len(d.slots) {
		d.grow()
	}
	return id
}

// grow doubles the table and re-inserts the distinct values by their hashes.
func (d *textDict) grow() {
	d.slots = resize(d.slots, 2*len(d.slots))
	mask := uint64(len(d.slots) - 1)
	for i, h := range d.hashes {
		p := h & mask
		for d.slots[p] != 0 {
			p = (p + 1) & mask
		}
		d.slots[p] = int32(i) + 1
	}
}

// resize returns s with length n, zeroed, reusing its capacity if it can.
func resize(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	s = s[:n]
	clear(s)
	return s
}
