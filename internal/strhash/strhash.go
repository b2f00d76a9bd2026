// Package strhash is the module's hash of short strings (ids, codes, line
// keys) for its own hash tables, Bloom filter and partitions: eight bytes
// at a time, deterministic (the same value in every run and on every
// machine), no allocation. It is not for anything written to a file.
package strhash

// Seed starts a hash (FNV-1a's 64-bit offset basis, kept from the hash the
// module used before: any constant would do).
const Seed = 14695981039346656037

// mul is the golden ratio's 64-bit multiplier, odd, so that a multiply by
// it loses no bit.
const mul = 0x9e3779b97f4a7c15

// String adds s to hash h: each eight-byte word is folded in by a multiply
// and a shift, and the last one to seven bytes by two loads that may
// overlap (so every byte counts; the length, mixed in first, tells the
// lengths apart). Byte-at-a-time FNV-1a, which the module used before, is
// a chain of one dependent multiply per byte: the line keys' hash alone
// was 1.3 % of a 10 M-line CSV run, 0.2–0.6 % after. The high bits are
// the best mixed; a caller that takes the low bits (a mask) takes Mix's.
func String(h uint64, s string) uint64 {
	n := len(s)
	h = (h ^ uint64(n)) * mul
	for ; len(s) >= 8; s = s[8:] {
		h = (h ^ le64(s)) * mul
		h ^= h >> 32
	}
	var w uint64
	switch n = len(s); {
	case n >= 4:
		w = uint64(le32(s)) | uint64(le32(s[n-4:]))<<32
	case n > 0:
		w = uint64(s[0])<<16 | uint64(s[n/2])<<8 | uint64(s[n-1])
	default:
		return h
	}
	h = (h ^ w) * mul
	return h ^ h>>32
}

// Uint folds v into hash h as String folds a word.
func Uint(h, v uint64) uint64 { return (h ^ v) * mul }

// Mix is splitmix64's finaliser: every bit of h moves every bit of the
// result, low bits included.
func Mix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// le64 and le32 read a string's first bytes as a little-endian number (the
// compiler makes each one load).
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func le32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}
