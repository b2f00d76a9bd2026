package claim

import "cmp"

// SortKey is a line's place in Compare's order packed into integers, for
// sorting lines whose memory is far apart: a key taken while the line is
// in cache (as it is decoded) lets a sort compare the keys, side by side
// in a small array, rather than load each line again. Keys that differ
// order their lines as Compare does; keys that are equal leave the order
// to Compare (CompareKeyed).
//
// Dates is the service date and the received date, each with its sign bit
// flipped (so that unsigned order is the dates' order); ID is the claim
// id's first 8 bytes, big-endian, zero-padded. Rest is, when the key is
// full, the id's bytes 8..11 zero-padded (bits 32–63), a mark that the
// key is full (bit 31), the id's length (bits 27–30) and the line number
// (bits 0–26): an id of at most 12 bytes is told from any other by its 12
// padded bytes and its length, and where the padded bytes are equal the
// shorter id (a prefix of the longer, which has only zero bytes beyond)
// comes first. A longer id, or a line number outside 0..2^27-1, makes a
// key that is not full (Rest 0): past ID, such lines are compared whole.
// A key is 24 bytes (pipeline's bytesPerLine counts it).
type SortKey struct {
	Dates uint64
	ID    uint64
	Rest  uint64
}

const (
	// maxKeyLineNo bounds the line numbers a full SortKey holds.
	maxKeyLineNo = 1<<27 - 1
	keyFull      = 1 << 31
)

// KeyOf returns l's SortKey.
func KeyOf(l *Line) SortKey {
	k := SortKey{
		Dates: uint64(uint32(l.ServiceDate)^1<<31)<<32 | uint64(uint32(l.ReceivedDate)^1<<31),
		ID:    padded(l.ClaimID, 0, 8),
	}
	if n := len(l.ClaimID); n <= 12 && l.LineNo >= 0 && l.LineNo <= maxKeyLineNo {
		k.Rest = padded(l.ClaimID, 8, 4)<<32 | keyFull | uint64(n)<<27 | uint64(l.LineNo)
	}
	return k
}

// Full reports whether k holds the whole of its line's claim id and line
// number.
func (k *SortKey) Full() bool { return k.Rest != 0 }

// padded returns s[from:from+n] (n ≤ 8) big-endian, zero-padded on the
// right where s is shorter.
func padded(s string, from, n int) uint64 {
	var v uint64
	for i := from; i < from+n; i++ {
		v <<= 8
		if i < len(s) {
			v |= uint64(s[i])
		}
	}
	return v
}

// CompareKeyed is Compare for lines a and b whose keys are ka and kb: the
// keys decide where they can, the lines themselves where they cannot.
func CompareKeyed(ka, kb *SortKey, a, b *Line) int {
	if ka.Dates != kb.Dates {
		return cmp.Compare(ka.Dates, kb.Dates)
	}
	if ka.ID != kb.ID {
		return cmp.Compare(ka.ID, kb.ID)
	}
	if ka.Full() && kb.Full() && ka.Rest != kb.Rest {
		return cmp.Compare(ka.Rest, kb.Rest)
	}
	return Compare(a, b)
}
