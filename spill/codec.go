package spill

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"unsafe"

	"claimsbatch/claim"
)

// The spill codec: a length-prefixed record of varints and strings. It is
// private to one run (written and read by the same binary), so it carries no
// version. A decoded record's strings slice the record where it was read (a
// partition's own blocks in memory, or the blocks a file is read into), so
// decoding a line allocates nothing of its own.

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

// frameLen is the length of record b framed.
func frameLen(n int) int {
	var hdr [binary.MaxVarintLen64]byte
	return binary.PutUvarint(hdr[:], uint64(n)) + n
}

// appendFrame appends record b framed to dst.
func appendFrame(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// writeFrame writes record b as uvarint(len) + bytes. The length is
// appended to the writer's free buffer (AvailableBuffer) rather than
// put in an array of its own, which escaped to the heap through Write: an
// allocation per record (measured: 0.4 s of a 10 M-line run's sink).
func writeFrame(w *bufio.Writer, b []byte) error {
	if w.Available() < binary.MaxVarintLen64 {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if _, err := w.Write(binary.AppendUvarint(w.AvailableBuffer(), uint64(len(b)))); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

// lineFields encodes a line; the first six fields (the key, the member's
// id and number, where the line came from) are all that step 2 and the
// grouping by member decode (LineHead): the member's number saves the
// loads a look-up of its id in the book. The rest, the tail, is laid out
// for a fast decoding, as step 3 decodes every line (BenchmarkLineDecode:
// 108 → 38 ns a line, for 20 bytes more): a fixed block of the numbers, a
// byte per text field for its length, then the texts. A line with a text
// of more than 255 bytes, which a byte cannot count, has a tail of varints
// and strings instead (tailVarint).
func (e *encoder) lineFields(l *claim.Line, member int32) {
	e.str(l.ClaimID)
	e.int(int64(l.LineNo))
	e.str(l.MemberID)
	e.uint(uint64(uint32(member)))
	e.int(int64(l.Source))
	e.int(l.Row)
	texts := lineTexts(l)
	var f [1 + tailNumbers + tailTexts]byte
	total := 0
	for i, t := range texts {
		if len(t) > 255 {
			e.buf = append(e.buf, tailVarint)
			e.lineTailVarint(l)
			return
		}
		f[1+tailNumbers+i] = byte(len(t))
		total += len(t)
	}
	f[0] = tailFixed
	le := binary.LittleEndian
	le.PutUint32(f[1:], uint32(l.ServiceDate))
	le.PutUint32(f[5:], uint32(l.ServiceEndDate))
	le.PutUint32(f[9:], uint32(l.ReceivedDate))
	le.PutUint16(f[13:], uint16(l.Benefit))
	le.PutUint32(f[15:], uint32(l.Units))
	le.PutUint64(f[19:], uint64(l.Billed))
	le.PutUint64(f[27:], uint64(l.Charge))
	f[35], f[36], f[37] = byte(l.DiagnosisSystem), byte(l.Payee), boolByte(l.Emergency)
	b := slices.Grow(e.buf, len(f)+total)
	b = append(b, f[:]...)
	for _, t := range texts {
		b = append(b, t...)
	}
	e.buf = b
}

// The two layouts of a line record's tail, its first byte.
const (
	tailFixed  = 1
	tailVarint = 2
)

// tailNumbers is the size of a fixed tail's block of numbers, tailTexts
// its number of text fields (lineTexts).
const (
	tailNumbers = 4 + 4 + 4 + 2 + 4 + 8 + 8 + 3
	tailTexts   = 11
)

// lineTexts are the text fields of a line's tail, in their order.
func lineTexts(l *claim.Line) [tailTexts]string {
	return [tailTexts]string{l.BenefitCode, l.Diagnosis, l.Condition, l.ProcedureCode, l.ItemCode, l.Country,
		l.TripID, l.ProviderID, l.Currency, l.FXRate, l.PlanCurrency}
}

// lineTailVarint encodes a tail of varints and strings.
func (e *encoder) lineTailVarint(l *claim.Line) {
	e.int(int64(l.ServiceDate))
	e.int(int64(l.ServiceEndDate))
	e.int(int64(l.ReceivedDate))
	e.str(l.BenefitCode)
	e.int(int64(l.Benefit))
	e.str(l.Diagnosis)
	e.int(int64(l.DiagnosisSystem))
	e.str(l.Condition)
	e.str(l.ProcedureCode)
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

var errSpillCorrupt = errors.New("spill: file corrupt")

// Decoder reads framed records from a spill file, or from a partition's
// blocks in memory.
type Decoder struct {
	r      io.Reader // the file; nil when the records are in blocks
	blocks [][]byte  // the records in memory, a frame never across two
	blk    []byte    // the block being read: its unread frames are blk[off:]
	off    int
	left   int64 // bytes left to read from r, when known: no block is larger
	pool   *BlockPool
	pooled [][]byte // the blocks taken from pool, for TakeBlocks
	buf    []byte   // the current record
	s      string   // the same bytes as a string
	pos    int
	err    error
}

// ReadBlockSize is the size of the blocks a Decoder reads a partition file
// into, and of a BlockPool's blocks unless it is given another: the
// records are decoded where they were read, and the decoded strings share
// the blocks, rather than one allocation per record for the collector to
// track (or a copy of every record out of a read buffer). A decoder with
// a BlockPool takes the pool's blocks, of the pool's size, instead.
const ReadBlockSize = 1 << 20

// NewDecoder reads records from r.
func NewDecoder(r io.Reader) *Decoder { return newSizedDecoder(r, math.MaxInt64) }

// newSizedDecoder reads the size bytes of records in r. Its blocks are no
// larger than they need: a run opens a set's partitions by the hundreds
// (the drops, spans and state of each member range are often a few KiB),
// and a block of full size for each was a sixth of a 10 M-line run's
// allocations.
func newSizedDecoder(r io.Reader, size int64) *Decoder {
	return &Decoder{r: r, left: size}
}

// newBlocksDecoder reads the records of blocks, which it shares: the
// decoded strings point into them, so they must not change.
func newBlocksDecoder(blocks [][]byte) *Decoder {
	return &Decoder{blocks: blocks}
}

// TakeBlocks returns the blocks the decoder took from its pool (Partitions.
// OpenPooled) and forgets them: the caller gives them back with
// BlockPool.Put once nothing uses what was decoded from them.
func (d *Decoder) TakeBlocks() [][]byte {
	b := d.pooled
	d.pooled = nil
	return b
}

// Err returns the error that stopped Next or a decoding, nil at a clean end.
func (d *Decoder) Err() error { return d.err }

// Next loads the next record; it returns false at the end or on an error.
func (d *Decoder) Next() bool {
	if d.err != nil {
		return false
	}
	for {
		if d.off < len(d.blk) {
			n, k := binary.Uvarint(d.blk[d.off:])
			if k < 0 || n > 1<<30 {
				d.err = fmt.Errorf("%w: a record of %d bytes", errSpillCorrupt, n)
				return false
			}
			if k > 0 && uint64(len(d.blk)-d.off-k) >= n {
				start := d.off + k
				end := start + int(n)
				// The block is never written again, so the string may
				// share it.
				d.buf = d.blk[start:end:end]
				d.s = unsafe.String(unsafe.SliceData(d.buf), len(d.buf))
				d.off, d.pos = end, 0
				return true
			}
		}
		if !d.fill() {
			return false
		}
	}
}

// fill makes a block hold the next frame whole (with the start of the
// frame the last block ended with); false at the end of the records or on
// an error.
func (d *Decoder) fill() bool {
	rest := d.blk[d.off:]
	if d.r == nil {
		if len(rest) > 0 {
			d.err = fmt.Errorf("%w: a record across blocks", errSpillCorrupt)
			return false
		}
		if len(d.blocks) == 0 {
			return false
		}
		d.blk, d.off, d.blocks = d.blocks[0], 0, d.blocks[1:]
		return true
	}
	// What the frame needs at least: its header and record when the
	// header is whole, else a header's most.
	need := len(rest) + binary.MaxVarintLen64
	if n, k := binary.Uvarint(rest); k > 0 {
		need = k + int(n)
	}
	block := ReadBlockSize
	if d.pool != nil {
		block = d.pool.size
	}
	size := max(need, int(min(int64(block), int64(len(rest))+max(d.left, 0))))
	var blk []byte
	if d.pool != nil && size == block {
		blk = d.pool.get()
		d.pooled = append(d.pooled, blk)
	} else {
		blk = make([]byte, size)
	}
	copy(blk, rest)
	got, err := io.ReadAtLeast(d.r, blk[len(rest):], need-len(rest)) // size >= need
	d.left -= int64(got)
	d.blk, d.off = blk[:len(rest)+got], 0
	switch {
	case err == nil:
		return true
	case got == 0 && len(rest) == 0 && err == io.EOF:
		return false // the end, between records
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		// The source ended within a frame; a short header may still be
		// whole (the max header length was asked for).
		if n, k := binary.Uvarint(d.blk); k > 0 && uint64(len(d.blk)-k) >= n {
			return true
		}
		d.err = fmt.Errorf("%w: %w", errSpillCorrupt, io.ErrUnexpectedEOF)
		return false
	default:
		d.err = fmt.Errorf("%w: %w", errSpillCorrupt, err)
		return false
	}
}

func (d *Decoder) uint() uint64 {
	v, n := binary.Uvarint(d.buf[d.pos:])
	if n <= 0 {
		d.err = errSpillCorrupt
		return 0
	}
	d.pos += n
	return v
}

func (d *Decoder) int() int64 {
	v, n := binary.Varint(d.buf[d.pos:])
	if n <= 0 {
		d.err = errSpillCorrupt
		return 0
	}
	d.pos += n
	return v
}

// Str decodes a string field (the raw text that heads a claim-partition
// record). It shares the record's memory, which is never reused.
func (d *Decoder) Str() string {
	n := int(d.uint())
	if d.err != nil || d.pos+n > len(d.s) {
		d.err = errSpillCorrupt
		return ""
	}
	s := d.s[d.pos : d.pos+n]
	d.pos += n
	return s
}

func (d *Decoder) bool() bool {
	if d.pos >= len(d.buf) {
		d.err = errSpillCorrupt
		return false
	}
	b := d.buf[d.pos] == 1
	d.pos++
	return b
}

// Line decodes a member-partition record (lineFields). Str, LineHead and
// the other decoding methods set Err on a malformed record.
func (d *Decoder) Line(l *claim.Line) {
	d.LineHead(l)
	d.LineTail(l)
}

// LineTail decodes the fields of a line that follow those of LineHead.
func (d *Decoder) LineTail(l *claim.Line) {
	if d.pos >= len(d.buf) {
		d.err = errSpillCorrupt
		return
	}
	layout := d.buf[d.pos]
	d.pos++
	switch layout {
	case tailFixed:
	case tailVarint:
		d.lineTailVarint(l)
		return
	default:
		d.err = errSpillCorrupt
		return
	}
	if len(d.buf)-d.pos < tailNumbers+tailTexts {
		d.err = errSpillCorrupt
		return
	}
	f := d.buf[d.pos : d.pos+tailNumbers+tailTexts]
	le := binary.LittleEndian
	l.ServiceDate = claim.Date(int32(le.Uint32(f[0:])))
	l.ServiceEndDate = claim.Date(int32(le.Uint32(f[4:])))
	l.ReceivedDate = claim.Date(int32(le.Uint32(f[8:])))
	l.Benefit = claim.BenefitID(int16(le.Uint16(f[12:])))
	l.Units = int32(le.Uint32(f[14:]))
	l.Billed = claim.Money(int64(le.Uint64(f[18:])))
	l.Charge = claim.Money(int64(le.Uint64(f[26:])))
	l.DiagnosisSystem = claim.DiagnosisSystem(f[34])
	l.Payee = claim.PayeeType(f[35])
	l.Emergency = f[36] == 1
	lens := f[tailNumbers:]
	at := d.pos + tailNumbers + tailTexts
	total := 0
	for _, n := range lens {
		total += int(n)
	}
	if len(d.s)-at < total {
		d.err = errSpillCorrupt
		return
	}
	s := d.s
	text := func(i int) string {
		v := s[at : at+int(lens[i])]
		at += int(lens[i])
		return v
	}
	l.BenefitCode = text(0)
	l.Diagnosis = text(1)
	l.Condition = text(2)
	l.ProcedureCode = text(3)
	l.ItemCode = text(4)
	l.Country = text(5)
	l.TripID = text(6)
	l.ProviderID = text(7)
	l.Currency = text(8)
	l.FXRate = text(9)
	l.PlanCurrency = text(10)
	d.pos = at
}

// lineTailVarint decodes a tail of varints and strings (tailVarint).
func (d *Decoder) lineTailVarint(l *claim.Line) {
	l.ServiceDate = claim.Date(d.int())
	l.ServiceEndDate = claim.Date(d.int())
	l.ReceivedDate = claim.Date(d.int())
	l.BenefitCode = d.Str()
	l.Benefit = claim.BenefitID(d.int())
	l.Diagnosis = d.Str()
	l.DiagnosisSystem = claim.DiagnosisSystem(d.int())
	l.Condition = d.Str()
	l.ProcedureCode = d.Str()
	l.ItemCode = d.Str()
	l.Country = d.Str()
	l.Emergency = d.bool()
	l.TripID = d.Str()
	l.ProviderID = d.Str()
	l.Payee = claim.PayeeType(d.int())
	l.Currency = d.Str()
	l.Billed = claim.Money(d.int())
	l.Units = int32(d.int())
	l.Charge = claim.Money(d.int())
	l.FXRate = d.Str()
	l.PlanCurrency = d.Str()
}

// LineHead decodes the first six fields of a line: claim id, line number,
// member id, source and row, and returns the member's number that the
// record was written with.
func (d *Decoder) LineHead(l *claim.Line) (member int32) {
	l.ClaimID = d.Str()
	l.LineNo = int32(d.int())
	l.MemberID = d.Str()
	member = int32(uint32(d.uint()))
	l.Source = int32(d.int())
	l.Row = d.int()
	return member
}

// Record returns the current record's bytes. The decoder never writes them
// again: a caller may keep them and decode them later with Load.
func (d *Decoder) Record() []byte { return d.buf }

// Load makes rec, a record Record returned, the current record, to decode
// it again (a Decoder of its own, not one that reads a file, serves for
// that: its zero value). The decoded strings share rec, which must not
// change while they are used. Err keeps the first error of any record.
func (d *Decoder) Load(rec []byte) {
	d.buf = rec
	d.s = unsafe.String(unsafe.SliceData(rec), len(rec))
	d.pos = 0
}

// Rest returns the current record's bytes from the decoding position on.
func (d *Decoder) Rest() []byte { return d.buf[d.pos:] }

// Exception decodes an exception record.
func (d *Decoder) Exception(x *claim.Exception) {
	x.Source = d.Str()
	x.SourceNo = int32(d.int())
	x.Row = d.int()
	x.ClaimID = d.Str()
	x.LineNo = d.Str()
	x.MemberID = d.Str()
	x.Code = claim.ExceptionCode(d.Str())
	x.Field = d.Str()
	x.Message = d.Str()
	x.Raw = d.Str()
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

// StateRecord decodes a state record.
func (d *Decoder) StateRecord(r *claim.StateRecord) {
	r.Kind = d.Str()
	r.MemberID = d.Str()
	r.Scope = claim.Date(d.int())
	r.Key = d.Str()
	r.Amount = claim.Money(d.int())
	r.Count = d.int()
	r.Detail = d.Str()
}

// Key is a line-key record: an accepted line's (claim_id, line_no), where
// it came from (Source -1 is an earlier run's state), and when the line
// may be a duplicate its raw text (for a DUPLICATE_LINE exception) and its
// member's number in the run's book (for its drop); a record without raw
// text does not keep the member.
type Key struct {
	ClaimID string
	LineNo  int32
	Source  int32
	Row     int64
	Member  int32
	Raw     string
	HasRaw  bool
}

func (e *encoder) key(k *Key) {
	e.reset()
	e.str(k.ClaimID)
	e.int(int64(k.LineNo))
	e.int(int64(k.Source))
	e.int(k.Row)
	e.bool(k.HasRaw)
	if k.HasRaw {
		e.int(int64(k.Member))
		e.str(k.Raw)
	}
}

// Key decodes a line-key record. Member is only in a record with its raw
// text (-1 in the others): only such a line can be a duplicate, and only
// a duplicate needs its member.
func (d *Decoder) Key(k *Key) {
	k.ClaimID = d.Str()
	k.LineNo = int32(d.int())
	k.Source = int32(d.int())
	k.Row = d.int()
	k.HasRaw = d.bool()
	k.Member, k.Raw = -1, ""
	if k.HasRaw {
		k.Member = int32(d.int())
		k.Raw = d.Str()
	}
}

// AppendLineFields appends a member-partition record of l, a line of the
// member numbered member, to dst, for a caller that encodes on other
// goroutines and writes the records with WriteRecord; Decoder.Line (or
// LineHead, then LineTail) reads it.
func AppendLineFields(dst []byte, l *claim.Line, member int32) []byte {
	e := encoder{buf: dst}
	e.lineFields(l, member)
	return e.buf
}
