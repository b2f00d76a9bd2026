package plan

import (
	"math/bits"

	"claimsbatch/claim"
	"claimsbatch/internal/strhash"
)

// codeTable finds a benefit code for Lookup, which runs on every claim row:
// open addressing over a multiplicative hash of the code's length and its
// first and last eight bytes, checked against the whole code. A Go map took
// 27 ns a row there in a 10 M-line profile (hashing every byte of a code
// such as HOSPITAL_ACCOMMODATION, then comparing it); a plan has dozens of
// codes, and the table is kept at most a quarter full, so a lookup is one
// hash and, for a code of the plan, nearly always one comparison.
type codeTable struct {
	slots []codeSlot // a power of two long
	shift uint       // 64 - log2(len(slots))
}

type codeSlot struct {
	code string // "" for an empty slot (a plan has no empty code)
	id   claim.BenefitID
}

// newCodeTable builds the table of the plan's codes (none empty).
func newCodeTable(codes map[string]claim.BenefitID) codeTable {
	n := 16
	for n < 4*len(codes) {
		n *= 2
	}
	t := codeTable{slots: make([]codeSlot, n), shift: uint(64 - bits.TrailingZeros(uint(n)))}
	for code, id := range codes {
		i := t.home(code)
		for t.slots[i].code != "" {
			i = (i + 1) & (len(t.slots) - 1)
		}
		t.slots[i] = codeSlot{code: code, id: id}
	}
	return t
}

// home is code's first slot: the hash's high bits.
func (t *codeTable) home(code string) int {
	return int(strhash.String(strhash.Seed, code) >> t.shift)
}

// find returns code's benefit, or false when the plan has no such code.
func (t *codeTable) find(code string) (claim.BenefitID, bool) {
	if code == "" || len(t.slots) == 0 {
		return 0, false
	}
	for i := t.home(code); ; i = (i + 1) & (len(t.slots) - 1) {
		s := &t.slots[i]
		if s.code == code {
			return s.id, true
		}
		if s.code == "" {
			return 0, false
		}
	}
}
