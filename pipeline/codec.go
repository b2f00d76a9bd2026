package pipeline

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unsafe"

	"claimsbatch/claim"
)

// The spill codec: a length-prefixed record of varints and strings. It is
// private to one run (written and read by the same binary), so it carries no
// version. Decoding makes one string per record and slices every field out
// of it, so a decoded line costs one allocation.

type encoder struct{ buf []byte }

func (e *encoder) reset()        { e.buf = e.buf[:0] }
func (e *encoder) int(v int64)   { e.buf = binary.AppendVarint(e.buf, v) }
func (e *encoder) uint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }
func (e *encoder) str(s string)  { e.uint(uint64(len(s))); e.buf = append(e.buf, s...) }
func (e *encoder) bool(b bool)   { e.buf = append(e.buf, boolByte(b)) }
func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// frame writes the record as uvarint(len) + bytes.
func (e *encoder) frame(w *bufio.Writer) error { return writeFrame(w, e.buf) }

// writeFrame writes record b as uvarint(len) + bytes.
func writeFrame(w *bufio.Writer, b []byte) error {
	var hdr [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(b)))
	if _, err := w.Write(hdr[:n]); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

// line encodes a claim-partition record: the row's raw text first, then
// the line's fields (lineFields). A member-partition record is the same
// fields without the raw text: step 2 copies their bytes as they are.
func (e *encoder) line(l *claim.Line, raw string) {
	e.reset()
	e.str(raw)
	e.lineFields(l)
}

// lineFields encodes a line; the first five fields (the key, the member and
// where the line came from) are all that step 2 decodes (lineHead).
func (e *encoder) lineFields(l *claim.Line) {
	e.str(l.ClaimID)
	e.int(int64(l.LineNo))
	e.str(l.MemberID)
	e.int(int64(l.Source))
	e.int(l.Row)
	e.int(int64(l.ServiceDate))
	e.int(int64(l.ServiceEndDate))
	e.int(int64(l.ReceivedDate))
	e.str(l.BenefitCode)
	e.int(int64(l.Benefit))
	e.str(l.Diagnosis)
	e.str(l.Condition)
	e.str(l.ItemCode)
	e.str(l.Country)
	e.bool(l.Emergency)
	e.str(l.TripID)
	e.str(l.ProviderID)
	e.int(int64(l.Payee))
	e.str(l.Currency)
	e.int(int64(l.Billed))
	e.int(int64(l.Units))
	e.int(int64(l.Charge))
	e.str(l.FXRate)
	e.str(l.PlanCurrency)
}

func (e *encoder) exception(x *claim.Exception) {
	e.reset()
	e.str(x.Source)
	e.int(int64(x.SourceNo))
	e.int(x.Row)
	e.str(x.ClaimID)
	e.str(x.LineNo)
	e.str(x.MemberID)
	e.str(string(x.Code))
	e.str(x.Field)
	e.str(x.Message)
	e.str(x.Raw)
}

var errSpillCorrupt = errors.New("pipeline: spill file corrupt")

// decoder reads framed records from a spill file.
type decoder struct {
	r     *bufio.Reader
	buf   []byte // the current record
	s     string // the same bytes as a string
	pos   int
	err   error
	arena []byte // records are read into blocks of it, never reused
}

// arenaBlock is the size of a decoder's arena blocks: records are read into
// large blocks that the decoded strings share, rather than one allocation
// per record for the collector to track.
const arenaBlock = 1 << 20

func newDecoder(r io.Reader) *decoder { return &decoder{r: bufio.NewReaderSize(r, 256<<10)} }

// next loads the next record; it returns false at the end or on an error.
func (d *decoder) next() bool {
	n, err := binary.ReadUvarint(d.r)
	if err == io.EOF {
		return false
	}
	if err != nil {
		d.err = fmt.Errorf("%w: %v", errSpillCorrupt, err)
		return false
	}
	if n > 1<<30 {
		d.err = fmt.Errorf("%w: a record of %d bytes", errSpillCorrupt, n)
		return false
	}
	if cap(d.arena)-len(d.arena) < int(n) {
		d.arena = make([]byte, 0, max(arenaBlock, int(n)))
	}
	start := len(d.arena)
	d.arena = d.arena[:start+int(n)]
	d.buf = d.arena[start:]
	if _, err := io.ReadFull(d.r, d.buf); err != nil {
		d.err = fmt.Errorf("%w: %v", errSpillCorrupt, err)
		return false
	}
	// The block is never written again, so the string may share it.
	d.s = unsafe.String(unsafe.SliceData(d.buf), len(d.buf))
	d.pos = 0
	return true
}

func (d *decoder) uint() uint64 {
	v, n := binary.Uvarint(d.buf[d.pos:])
	if n <= 0 {
		d.err = errSpillCorrupt
		return 0
	}
	d.pos += n
	return v
}

func (d *decoder) int() int64 {
	v, n := binary.Varint(d.buf[d.pos:])
	if n <= 0 {
		d.err = errSpillCorrupt
		return 0
	}
	d.pos += n
	return v
}

func (d *decoder) str() string {
	n := int(d.uint())
	if d.err != nil || d.pos+n > len(d.s) {
		d.err = errSpillCorrupt
		return ""
	}
	s := d.s[d.pos : d.pos+n]
	d.pos += n
	return s
}

func (d *decoder) bool() bool {
	if d.pos >= len(d.buf) {
		d.err = errSpillCorrupt
		return false
	}
	b := d.buf[d.pos] == 1
	d.pos++
	return b
}

// line decodes a member-partition record (lineFields).
func (d *decoder) line(l *claim.Line) {
	d.lineHead(l)
	l.ServiceDate = claim.Date(d.int())
	l.ServiceEndDate = claim.Date(d.int())
	l.ReceivedDate = claim.Date(d.int())
	l.BenefitCode = d.str()
	l.Benefit = claim.BenefitID(d.int())
	l.Diagnosis = d.str()
	l.Condition = d.str()
	l.ItemCode = d.str()
	l.Country = d.str()
	l.Emergency = d.bool()
	l.TripID = d.str()
	l.ProviderID = d.str()
	l.Payee = claim.PayeeType(d.int())
	l.Currency = d.str()
	l.Billed = claim.Money(d.int())
	l.Units = int32(d.int())
	l.Charge = claim.Money(d.int())
	l.FXRate = d.str()
	l.PlanCurrency = d.str()
}

// lineHead decodes the first five fields of a line: claim id, line number,
// member id, source and row.
func (d *decoder) lineHead(l *claim.Line) {
	l.ClaimID = d.str()
	l.LineNo = int32(d.int())
	l.MemberID = d.str()
	l.Source = int32(d.int())
	l.Row = d.int()
}

// rest returns the current record's bytes from the decoding position on.
func (d *decoder) rest() []byte { return d.buf[d.pos:] }

func (d *decoder) exception(x *claim.Exception) {
	x.Source = d.str()
	x.SourceNo = int32(d.int())
	x.Row = d.int()
	x.ClaimID = d.str()
	x.LineNo = d.str()
	x.MemberID = d.str()
	x.Code = claim.ExceptionCode(d.str())
	x.Field = d.str()
	x.Message = d.str()
	x.Raw = d.str()
}

func (e *encoder) stateRecord(r *claim.StateRecord) {
	e.reset()
	e.str(r.Kind)
	e.str(r.MemberID)
	e.int(int64(r.Scope))
	e.str(r.Key)
	e.int(int64(r.Amount))
	e.int(r.Count)
	e.str(r.Detail)
}

func (d *decoder) stateRecord(r *claim.StateRecord) {
	r.Kind = d.str()
	r.MemberID = d.str()
	r.Scope = claim.Date(d.int())
	r.Key = d.str()
	r.Amount = claim.Money(d.int())
	r.Count = d.int()
	r.Detail = d.str()
}
