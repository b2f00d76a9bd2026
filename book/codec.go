package book

import (
	"encoding/binary"
	"errors"
	"unsafe"

	"claimsbatch/claim"
	"claimsbatch/plan"
)

// SpanCodec encodes a resolved span for a run's spill files: every field
// but MemberID and Source (the caller keeps whose span it is), integers as
// varints, the plan currency as its index in the plan. It is private to one
// run (written and read by the same binary with the same plan), so it
// carries no version.
type SpanCodec struct {
	currencies []string
}

// NewSpanCodec returns the codec of spans resolved against p.
func NewSpanCodec(p *plan.Plan) SpanCodec { return SpanCodec{currencies: p.Currencies} }

var errSpanCorrupt = errors.New("span record corrupt")

// Append appends s, encoded, to dst.
func (c SpanCodec) Append(dst []byte, s *claim.Span) []byte {
	ci := 0
	for i, cur := range c.currencies {
		if cur == s.PlanCurrency {
			ci = i
			break
		}
	}
	str := func(v string) {
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		dst = append(dst, v...)
	}
	str(s.PolicyID)
	dst = binary.AppendVarint(dst, int64(s.Start))
	dst = binary.AppendVarint(dst, int64(s.End))
	dst = binary.AppendVarint(dst, int64(s.DateOfBirth))
	str(s.Residence)
	str(s.Origin)
	flags := byte(s.Modules) << 1
	if s.USCover {
		flags |= 1
	}
	dst = append(dst, flags)
	dst = binary.AppendUvarint(dst, uint64(ci))
	for _, v := range [...]int64{int64(s.CoreDeductible), s.CoreCoinsurance, int64(s.CoreOOPMax),
		int64(s.OutpatientDeduct), s.OutpatientCoins, int64(s.OutpatientOOPMax), s.Row} {
		dst = binary.AppendVarint(dst, v)
	}
	return dst
}

// Decode decodes a span Append encoded into s (MemberID and Source are
// left as they are). Its strings share b's memory, which must not change
// while they are used.
func (c SpanCodec) Decode(b []byte, s *claim.Span) error {
	pos := 0
	bad := false
	varint := func() int64 {
		v, n := binary.Varint(b[pos:])
		if n <= 0 {
			bad = true
			return 0
		}
		pos += n
		return v
	}
	str := func() string {
		n, k := binary.Uvarint(b[pos:])
		if k <= 0 || n > uint64(len(b)-pos-k) {
			bad = true
			return ""
		}
		pos += k
		if n == 0 {
			return ""
		}
		v := unsafe.String(&b[pos], int(n))
		pos += int(n)
		return v
	}
	s.PolicyID = str()
	s.Start = claim.Date(varint())
	s.End = claim.Date(varint())
	s.DateOfBirth = claim.Date(varint())
	s.Residence = str()
	s.Origin = str()
	if bad || pos >= len(b) {
		return errSpanCorrupt
	}
	flags := b[pos]
	pos++
	s.USCover, s.Modules = flags&1 != 0, claim.ModuleSet(flags>>1)
	ci, n := binary.Uvarint(b[pos:])
	if n <= 0 || ci >= uint64(len(c.currencies)) {
		return errSpanCorrupt
	}
	pos += n
	s.PlanCurrency = c.currencies[ci]
	s.CoreDeductible = claim.Money(varint())
	s.CoreCoinsurance = varint()
	s.CoreOOPMax = claim.Money(varint())
	s.OutpatientDeduct = claim.Money(varint())
	s.OutpatientCoins = varint()
	s.OutpatientOOPMax = claim.Money(varint())
	s.Row = varint()
	if bad || pos != len(b) {
		return errSpanCorrupt
	}
	return nil
}
