// Package book knows who is covered, when, in which currency and at what
// FX rate: the members file resolved against the plan (coverage spans with
// their options, invalid members and why), the FX table, and the pricing of
// a claim line (its member's plan currency, the converted charge, and the
// run-level row checks UNKNOWN_MEMBER, INVALID_MEMBER and NO_FX_RATE of SPEC
// section 7).
//
// The members file's rules have one implementation each (members.go): a
// row against the plan, a member's spans against each other, why a member
// is invalid. The pipeline applies them to a members file it streams
// (Builder: no row and no map of ids kept; the full spans go to the
// pipeline's spill files, SpanCodec); a tool with one member's rows at hand
// applies them with ResolveMember.
//
// It holds reference data for a whole run, sized by members, not lines (a
// Book: about 33 bytes a member); it reads no files (the pipeline reads
// them with package readers and hands the rows over) and may import only
// claim and plan (and internal/strhash, the module's string hash).
package book

import (
	"slices"
	"unsafe"

	"claimsbatch/claim"
	"claimsbatch/internal/strhash"
)

// Book is the member book for the whole run, in a form the garbage
// collector does not have to scan and as small as pricing a line allows:
// members are numbered in member_id order, and their ids and what the read
// stage needs of their spans live in a few flat, pointer-free arrays. The
// map of member structs it replaces held millions of small objects and
// pointers for the collector to mark on every cycle (measured: half the CPU
// of a Parquet run went to the collector, on a heap the book dominated).
//
// A member of the book is one of the members file (valid or not) or one
// that only the --state-in file names (absent: its claim lines are
// UNKNOWN_MEMBER, its state is carried forward). Pricing a line needs of a
// valid member's spans only their starts and plan currencies
// (claim.CurrencySpan): that is all the book keeps of them, about 6 bytes a
// span. The full spans (policy, date of birth, countries, options) are what
// the engine needs; the pipeline keeps them in spill files by member range
// (Builder, SpanCodec). The strings handed out (ids) point into the book's
// arrays, which never change once built.
type Book struct {
	ids    []byte   // member ids, concatenated in member_id order
	idEnd  []uint32 // member i's id is ids[idEnd[i-1]:idEnd[i]]
	slots  []int32  // open addressing on the id's hash: member number + 1; 0 = empty
	status []uint8  // memberValid, memberAbsent or memberInvalid
	// Member i's spans are starts[spanEnd[i-1]:spanEnd[i]] (sorted) and
	// the plan currencies of the same indexes; only valid members have any.
	spanEnd    []uint32
	starts     []claim.Date
	currency   []uint16 // index in currencies
	currencies []string // the plan's
	// Why invalid members are invalid (few are): invalid[k] is a member
	// number, in increasing order, its reason why[whyEnd[k-1]:whyEnd[k]].
	invalid []int32
	whyEnd  []uint32
	why     []byte
}

// Member status in Book.status.
const (
	memberValid uint8 = iota
	memberAbsent
	memberInvalid
)

// idHash is the id's hash for the book's table, which takes its low bits.
func idHash(s string) uint64 { return strhash.Mix(strhash.String(strhash.Seed, s)) }

// Len returns the number of members in the book; they are numbered 0 to
// Len()-1 in member_id order.
func (b *Book) Len() int { return len(b.idEnd) }

// Absent reports whether member i is not in the members file (only an
// earlier run's state names it): its claim lines are UNKNOWN_MEMBER, its
// state is carried forward.
func (b *Book) Absent(i int32) bool { return b.status[i] == memberAbsent }

// Invalid returns why member i's coverage is invalid (a bad row, overlapping
// spans, no valid span), or false when it is valid.
func (b *Book) Invalid(i int32) (why string, invalid bool) {
	if b.status[i] != memberInvalid {
		return "", false
	}
	k, found := slices.BinarySearch(b.invalid, i)
	if !found {
		return "", true // unreachable: every invalid member has a reason
	}
	start := uint32(0)
	if k > 0 {
		start = b.whyEnd[k-1]
	}
	if start == b.whyEnd[k] {
		return "", true
	}
	return unsafe.String(&b.why[start], int(b.whyEnd[k]-start)), true
}

// Bytes is the book's memory, for sizing what else fits the budget.
func (b *Book) Bytes() int64 {
	return int64(len(b.ids)) + int64(len(b.idEnd))*4 + int64(len(b.slots))*4 + int64(len(b.status)) +
		int64(len(b.spanEnd))*4 + int64(len(b.starts))*4 + int64(len(b.currency))*2 +
		int64(len(b.invalid))*4 + int64(len(b.whyEnd))*4 + int64(len(b.why))
}

// ID returns member i's id (pointing into the book).
func (b *Book) ID(i int32) string { return packedString(b.ids, b.idEnd, i) }

// packedString is string i of strings packed end to end in text, end[i]
// being where string i ends; it points into text.
func packedString(text []byte, end []uint32, i int32) string {
	start := uint32(0)
	if i > 0 {
		start = end[i-1]
	}
	if start == end[i] {
		return ""
	}
	return unsafe.String(&text[start], int(end[i]-start))
}

// Find returns the number of the member with this id, or -1.
func (b *Book) Find(id string) int32 {
	if len(b.slots) == 0 {
		return -1
	}
	mask := uint64(len(b.slots) - 1)
	for h := idHash(id) & mask; ; h = (h + 1) & mask {
		k := b.slots[h]
		if k == 0 {
			return -1
		}
		if b.ID(k-1) == id {
			return k - 1
		}
	}
}

// currencyOn returns the plan currency of valid member i's span that
// applies to a line served on d: claim.CurrencySpan's choice (the span that
// contains d, else the last that starts before d, else the first), which
// needs the spans' starts only.
func (b *Book) currencyOn(i int32, d claim.Date) string {
	start := uint32(0)
	if i > 0 {
		start = b.spanEnd[i-1]
	}
	best := start
	for k := start; k < b.spanEnd[i]; k++ {
		if b.starts[k] > d {
			break
		}
		best = k
	}
	return b.currencies[b.currency[best]]
}
