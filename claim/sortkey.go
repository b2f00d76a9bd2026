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
// full (Full), the id's bytes 8..11 zero-padded, its length and the line
// number: an id of at most 12 bytes is told from any other by its 12
// padded bytes and its length, and where the padded bytes are equal the
// shorter id (a prefix of the longer, which has only zero bytes beyond)
// comes first. A longer id, or a line number outside 0..2^27-1, makes a
// key that is not full: past ID, such lines are compared whole.
type SortKey struct {
	Dates uint64
	ID    uint64
	Rest  uint64 // meaningful only when Full
	Full  bool
}

// maxKeyLineNo bounds the line numbers a full SortKey holds (27 bits:
// the id's length takes the 5 above them).
const maxKeyLineNo = 1<<27 - 1

// KeyOf returns l's SortKey.
func KeyOf(l *Line) SortKey {
	k := SortKey{
		Dates: uint64(uint32(l.ServiceDate)^1<<31)<<32 | uint64(uint32(l.ReceivedDate)^1<<31),
		ID:    padded(l.ClaimID, 0, 8),
	}
	if n := len(l.ClaimID); n <= 12 && l.LineNo >= 0 && l.LineNo <= maxKeyLineNo {
		k.Rest = padded(l.ClaimID, 8, 4)<<32 | uint64(n)<<27 | uint64(l.LineNo)
		k.Full = true
	}
	return k
}

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
	if ka.Full && kb.Full && ka.Rest != kb.Rest {
		return cmp.Compare(ka.Rest, kb.Rest)
	}
	return Compare(a, b)
}
