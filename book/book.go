// Package book knows who is covered, when, in which currency and at what
// FX rate: the members file resolved against the plan (coverage spans with
// their options, invalid members and why), the FX table, and the pricing of
// a claim line (its member's plan currency, the converted charge, and the
// run-level row checks UNKNOWN_MEMBER, INVALID_MEMBER and NO_FX_RATE of SPEC
// section 7).
//
// It holds reference data for a whole run, sized by members, not lines; it
// reads no files (the pipeline reads them with package readers and hands the
// rows over) and may import only claim and plan.
package book

import (
	"slices"
	"unsafe"

	"claimsbatch/claim"
)

// Book is the member book for the whole run, in a form the garbage
// collector does not have to scan: members are numbered in member_id order,
// and ids, policy ids and spans live in a few flat, pointer-free arrays. The
// map of member structs it replaces held millions of small objects and
// pointers for the collector to mark on every cycle (measured: half the CPU
// of a Parquet run went to the collector, on a heap the book dominated).
//
// A member of the book is one of the members file (valid or not) or one
// that only the --state-in file names (absent: its claim lines are
// UNKNOWN_MEMBER, its state is carried forward). The strings handed out
// (ids, policy ids) point into the book's arrays, which never change once
// built.
type Book struct {
	ids     []byte   // member ids, concatenated in member_id order
	idEnd   []uint32 // member i's id is ids[idEnd[i-1]:idEnd[i]]
	slots   []int32  // open addressing on the id's hash: member number + 1; 0 = empty
	spanEnd []uint32 // member i's spans are spans[spanEnd[i-1]:spanEnd[i]], sorted by start
	spans   []bookSpan
	text    []byte   // policy ids
	codes   []string // country and currency codes, few and shared
	absent  []bool   // not in the members file (named only by the --state-in file)
	// invalid holds why a member's coverage is invalid; few members are.
	invalid map[int32]string
}

// bookSpan is a claim.Span without pointers: strings are offsets into the
// book's text or indexes into its codes.
type bookSpan struct {
	policyOff, policyLen            uint32
	start, end, dateOfBirth         claim.Date
	residence, origin, currency     uint16
	usCover                         bool
	modules                         claim.ModuleSet
	coreDeductible, coreOOPMax      claim.Money
	outpatientDeduct, outpatientOOP claim.Money
	coreCoins, outpatientCoins      int64
	source                          int32
	row                             int64
}

// New builds the book from the resolved members file and the ids of
// members that only an earlier run's state names (extra may repeat ids and
// name members of the file: those count once).
func New(resolved *Members, extra []string) *Book {
	members := resolved.byID
	ids := make([]string, 0, len(members)+len(extra))
	for id := range members {
		ids = append(ids, id)
	}
	for _, id := range extra {
		if members[id] == nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	n := len(ids)
	b := &Book{
		idEnd:   make([]uint32, n),
		spanEnd: make([]uint32, n),
		absent:  make([]bool, n),
		invalid: map[int32]string{},
	}
	var idBytes, spans, text int
	for _, id := range ids {
		idBytes += len(id)
		if m := members[id]; m != nil {
			spans += len(m.spans)
			for k := range m.spans {
				text += len(m.spans[k].PolicyID)
			}
		}
	}
	b.ids = make([]byte, 0, idBytes)
	b.spans = make([]bookSpan, 0, spans)
	b.text = make([]byte, 0, text)
	codeIndex := map[string]uint16{}
	code := func(c string) uint16 {
		if k, ok := codeIndex[c]; ok {
			return k
		}
		k := uint16(len(b.codes))
		codeIndex[c] = k
		b.codes = append(b.codes, c)
		return k
	}
	for i, id := range ids {
		b.ids = append(b.ids, id...)
		b.idEnd[i] = uint32(len(b.ids))
		m := members[id]
		switch {
		case m == nil:
			b.absent[i] = true
		case m.invalid != "":
			b.invalid[int32(i)] = m.invalid
		default:
			for k := range m.spans {
				s := &m.spans[k]
				b.spans = append(b.spans, bookSpan{
					policyOff: uint32(len(b.text)), policyLen: uint32(len(s.PolicyID)),
					start: s.Start, end: s.End, dateOfBirth: s.DateOfBirth,
					residence: code(s.Residence), origin: code(s.Origin), currency: code(s.PlanCurrency),
					usCover: s.USCover, modules: s.Modules,
					coreDeductible: s.CoreDeductible, coreOOPMax: s.CoreOOPMax,
					outpatientDeduct: s.OutpatientDeduct, outpatientOOP: s.OutpatientOOPMax,
					coreCoins: s.CoreCoinsurance, outpatientCoins: s.OutpatientCoins,
					source: s.Source, row: s.Row,
				})
				b.text = append(b.text, s.PolicyID...)
			}
		}
		b.spanEnd[i] = uint32(len(b.spans))
	}
	size := 16
	for size < 2*n {
		size *= 2
	}
	b.slots = make([]int32, size)
	mask := uint64(size - 1)
	for i := range n {
		h := idHash(b.ID(int32(i))) & mask
		for b.slots[h] != 0 {
			h = (h + 1) & mask
		}
		b.slots[h] = int32(i) + 1
	}
	return b
}

// idHash is FNV-1a over the id's bytes, inline: no allocation.
func idHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Len returns the number of members in the book; they are numbered 0 to
// Len()-1 in member_id order.
func (b *Book) Len() int { return len(b.idEnd) }

// Absent reports whether member i is not in the members file (only an
// earlier run's state names it): its claim lines are UNKNOWN_MEMBER, its
// state is carried forward.
func (b *Book) Absent(i int32) bool { return b.absent[i] }

// Invalid returns why member i's coverage is invalid (a bad row, overlapping
// spans, no valid span), or false when it is valid.
func (b *Book) Invalid(i int32) (why string, invalid bool) {
	why, invalid = b.invalid[i]
	return why, invalid
}

// Bytes is the book's memory, for sizing what else fits the budget.
func (b *Book) Bytes() int64 {
	n := int64(len(b.idEnd))
	return int64(len(b.ids)) + int64(len(b.text)) + int64(len(b.spans))*int64(unsafe.Sizeof(bookSpan{})) +
		n*(4+4+1) + int64(len(b.slots))*4
}

// ID returns member i's id (pointing into the book).
func (b *Book) ID(i int32) string {
	start := uint32(0)
	if i > 0 {
		start = b.idEnd[i-1]
	}
	if start == b.idEnd[i] {
		return ""
	}
	return unsafe.String(&b.ids[start], int(b.idEnd[i]-start))
}

// Find returns the number of the member with this id, or -1.
func (b *Book) Find(id string) int32 {
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

func (b *Book) textAt(off, n uint32) string {
	if n == 0 {
		return ""
	}
	return unsafe.String(&b.text[off], int(n))
}

// Spans appends member i's valid spans, sorted by start, to dst[:0] as
// claim.Spans; their strings point into the book.
func (b *Book) Spans(i int32, dst []claim.Span) []claim.Span {
	dst = dst[:0]
	start := uint32(0)
	if i > 0 {
		start = b.spanEnd[i-1]
	}
	id := b.ID(i)
	for k := start; k < b.spanEnd[i]; k++ {
		s := &b.spans[k]
		dst = append(dst, claim.Span{
			MemberID: id, PolicyID: b.textAt(s.policyOff, s.policyLen),
			Start: s.start, End: s.end, DateOfBirth: s.dateOfBirth,
			Residence: b.codes[s.residence], Origin: b.codes[s.origin], USCover: s.usCover,
			PlanCurrency: b.codes[s.currency], Modules: s.modules,
			CoreDeductible: s.coreDeductible, CoreCoinsurance: s.coreCoins, CoreOOPMax: s.coreOOPMax,
			OutpatientDeduct: s.outpatientDeduct, OutpatientCoins: s.outpatientCoins, OutpatientOOPMax: s.outpatientOOP,
			Source: s.source, Row: s.row,
		})
	}
	return dst
}
