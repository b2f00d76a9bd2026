package claim

// CodeIndex finds the number a caller gave a three-letter code (an ISO 4217
// currency: EUR, USD) without comparing strings: the code's three bytes
// are one 32-bit key, looked up in a small open-addressing table. It is
// for the places that look a line's currency up once per line, where a
// loop or a binary search of string comparisons cost a call per candidate.
// Codes of another length are not held (Find reports them missing, Put
// ignores them): the caller keeps its slower way for them. The zero value
// is empty and ready.
type CodeIndex struct {
	slots [codeSlots]codeSlot
	n     int
}

type codeSlot struct {
	key uint32 // 0: empty
	at  int32
}

// codeSlots is the table's size, a power of two: at most half of it is
// used (codeMax codes), so that a probe for a missing code ends soon.
const (
	codeSlots = 64
	codeMax   = codeSlots / 2
)

// codeKey is the key of a three-byte code; ok is false for any other length.
// The high bit is set so that no code's key is 0, the empty slot.
func codeKey(s string) (key uint32, ok bool) {
	if len(s) != 3 {
		return 0, false
	}
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | 1<<31, true
}

func codeHome(key uint32) uint32 { return (key * 0x9E3779B1) >> (32 - 6) }

// Find returns the number Put gave code, if it did.
func (x *CodeIndex) Find(code string) (int32, bool) {
	key, ok := codeKey(code)
	if !ok {
		return 0, false
	}
	for i := codeHome(key); ; i = (i + 1) & (codeSlots - 1) {
		switch s := x.slots[i]; s.key {
		case key:
			return s.at, true
		case 0:
			return 0, false
		}
	}
}

// Put gives code the number at (replacing an earlier one). It reports
// whether the index holds the code: not when the code is not three bytes
// long or the index is full (codeMax codes).
func (x *CodeIndex) Put(code string, at int32) bool {
	key, ok := codeKey(code)
	if !ok {
		return false
	}
	for i := codeHome(key); ; i = (i + 1) & (codeSlots - 1) {
		s := &x.slots[i]
		switch s.key {
		case key:
			s.at = at
			return true
		case 0:
			if x.n == codeMax {
				return false
			}
			*s = codeSlot{key, at}
			x.n++
			return true
		}
	}
}
