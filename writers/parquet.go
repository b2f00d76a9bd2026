package writers

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"claimsbatch/claim"
	"claimsbatch/internal/arrowmem"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/shopspring/decimal"
)

const (
	// rowGroupRows bounds a Parquet writer's memory: rows are collected in
	// typed column buffers and written as one row group every rowGroupRows
	// rows, whatever the sizes of the batches passed to Write, so the row
	// groups (and the bytes) do not depend on how the caller batches.
	// arrow-go makes each row group's column writers, with their page
	// buffers, anew: 64 Ki rows rather than 32 halved what that allocates
	// (a 10 M-line Parquet run: 7.5 → 5.4 GiB allocated with the spill's
	// smaller decoders, GC cycles 60 → 47) for about 3 MiB more of peak RSS.
	rowGroupRows = 64 << 10

	// maxDecimal18 is the largest unscaled value of a DECIMAL(18,2).
	maxDecimal18 = 999_999_999_999_999_999

	parquetBufferSize = 256 << 10

	// poolLimit bounds the freed buffers one Parquet file's allocator keeps:
	// a row group's pages and encoders (a few MiB for the remittance's
	// 64 Ki rows) with room to spare.
	poolLimit = 24 << 20

	// maxGroupText cuts a row group early when one of its text columns
	// holds this many bytes (exceptions' raw rows can be long): it bounds
	// the memory and keeps the int32 offsets far from overflowing. The cut
	// depends only on the rows, so the bytes still do not depend on the
	// batching.
	maxGroupText = 16 << 20

	// byteArrayChunk is how many text values are handed to the column
	// writer at a time: the views into a column's bytes are built in a
	// scratch slice of this length.
	byteArrayChunk = 4096
)

// The compression of every column: snappy, chosen by measurement
// (docs/BENCHMARKS.md, "Parquet codec": the remittance and state of a
// 2 M-line run written with each codec by TestParquetCodecs). Against zstd
// level 1, the old writers' codec, snappy costs the remittance 22 % and the
// state 24 % less CPU (912 against 1169 ns a row; 284 against 374) for files
// about half as large again (81 MiB against 52; 55 against 37). The
// writers run beside the adjudication on the run's few cores, and an
// output file is written once and read a few times, so CPU wins; snappy is
// also what DuckDB, Spark and pyarrow write by default, every Parquet
// reader decodes it, and the readers' decompression-bomb bound covers it.
// LZ4_RAW was 8 % faster still at the same size, but older readers
// (xitongsys/parquet-go, which the tests read with; Spark before 3.2) do not
// know it, and uncompressed files are three times larger than snappy's.
// Snappy is encoded in its fast mode (fastSnappy, snappy.go): half the
// compression CPU of arrow-go's default encoder for files 10-20 % larger.
// Tests and the codec measurement may change these variables; the product
// never does.
var (
	parquetCodec      = compress.Codecs.Snappy
	parquetCodecLevel = compress.DefaultCompressionLevel
)

// collectCodes makes the dictionary columns collect their codes as the rows
// come (pqColumn.codes); false collects their text and builds each row
// group's dictionary from it, as before. The bytes are the same either way
// (TestParquetCodesAsCollected); only that test changes it.
var collectCodes = true

// parquetProperties are the same for every table. The created_by string is
// the library's fixed default (no timestamp), so the bytes are reproducible.
// Dictionary encoding is on for the columns whose colSpec asks for it; the
// encoder builds the dictionaries itself (textDict) and falls back to plain
// encoding, per column and row group, when one does not pay.
func parquetProperties(mem memory.Allocator, specs []colSpec) *parquet.WriterProperties {
	opts := []parquet.WriterProperty{
		parquet.WithCompression(parquetCodec),
		parquet.WithCompressionLevel(parquetCodecLevel),
		parquet.WithDictionaryDefault(false),
		parquet.WithMaxRowGroupLength(rowGroupRows),
		parquet.WithDataPageSize(64 << 10),
		parquet.WithAllocator(mem),
	}
	for _, s := range specs {
		if s.dict {
			opts = append(opts, parquet.WithDictionaryFor(s.name, true))
		}
		if s.noStats {
			opts = append(opts, parquet.WithStatsFor(s.name, false))
		}
	}
	return parquet.NewWriterProperties(opts...)
}

// parquetSchema is the Parquet schema of specs: the same nodes arrow-go's
// pqarrow made from the Arrow schema the writers used before (root
// "schema", required; no field ids), which a test checks.
func parquetSchema(specs []colSpec) (*schema.GroupNode, error) {
	fields := make(schema.FieldList, len(specs))
	for i, s := range specs {
		rep := parquet.Repetitions.Required
		if s.optional {
			rep = parquet.Repetitions.Optional
		}
		var (
			logical  schema.LogicalType
			physical parquet.Type
		)
		switch s.kind {
		case kindText:
			logical, physical = schema.StringLogicalType{}, parquet.Types.ByteArray
		case kindDate:
			logical, physical = schema.DateLogicalType{}, parquet.Types.Int32
		case kindAmount:
			logical, physical = schema.NewDecimalLogicalType(18, 2), parquet.Types.Int64
		case kindInt32:
			logical, physical = schema.NewIntLogicalType(32, true), parquet.Types.Int32
		case kindInt64:
			logical, physical = schema.NewIntLogicalType(64, true), parquet.Types.Int64
		case kindRate:
			logical, physical = schema.NewDecimalLogicalType(rateIntDigits+claim.FXRateScale, claim.FXRateScale), parquet.Types.FixedLenByteArray
		default:
			return nil, fmt.Errorf("column %s: unknown kind %d", s.name, s.kind)
		}
		typeLen := -1
		if s.kind == kindRate {
			typeLen = rateBytes
		}
		n, err := schema.NewPrimitiveNodeLogical(s.name, rep, logical, physical, typeLen, -1)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", s.name, err)
		}
		fields[i] = n
	}
	return schema.NewGroupNode(parquet.DefaultRootName, parquet.Repetitions.Required, fields, -1)
}

// pqColumn holds one column's values of the current row group, typed: text
// as the concatenated bytes and each value's end offset; dates and INT32 in
// i32, amounts and INT64 in i64; for an optional column, a definition level
// per row (1 present, 0 null) and values only for the present rows. The
// slices keep their capacity from one row group to the next.
type pqColumn struct {
	spec *colSpec
	data []byte
	ends []int32
	i32  []int32
	i64  []int64
	def  []int16

	// A dictionary column (spec.dict) is collected as its row group's
	// distinct values and each row's index into them (codes, built as the
	// rows come: the codes are few, and most rows repeat the row before),
	// so its text is neither copied into data nor hashed again when the row
	// group is written. If its distinct values pass maxDictBytes, the rows
	// so far are turned into text and the column holds text (asText) for
	// the rest of the row group.
	codes     *textDict // nil until the column's first value
	asText    bool
	codeBytes int // the text the codes stand for, for maxGroupText
}

func (c *pqColumn) reset() {
	c.data, c.ends, c.i32, c.i64, c.def = c.data[:0], c.ends[:0], c.i32[:0], c.i64[:0], c.def[:0]
	if c.codes != nil {
		c.codes.begin()
	}
	c.asText, c.codeBytes = false, 0
}

// codesToText turns the dictionary column's rows so far into text, which
// the column holds from then on.
func (c *pqColumn) codesToText() {
	d := c.codes
	for _, id := range d.idx {
		c.data = append(c.data, d.value(id)...)
		c.ends = append(c.ends, int32(len(c.data)))
	}
	c.asText = true
}

// parquetEncoder collects each row's values in typed column buffers and
// writes them with arrow-go's Parquet column writers, a row group every
// groupRows rows. No value is boxed or copied into an Arrow builder: text
// is appended to one byte slice per column, numbers to typed slices.
type parquetEncoder struct {
	cols          []pqColumn
	fw            *file.Writer
	bw            *bufio.Writer
	col           int
	pending       int // rows in the buffers, not yet written
	groupRows     int
	dict          *textDict
	views         []parquet.ByteArray // scratch: views into a text column's bytes
	fixed         []byte              // scratch: a text column's bytes with invalid UTF-8 replaced
	fixedEnds     []int32
	full          bool                       // a text column reached maxGroupText
	rates         map[string][rateBytes]byte // rate text → its DECIMAL bytes: a run has few distinct rates
	lastRate      [40]byte                   // the last rate written: its text (lastRateLen bytes) and its bytes
	lastRateLen   int
	lastRateBytes [rateBytes]byte
	fixedViews    []parquet.FixedLenByteArray // scratch: views into a rate column's bytes
	err           error                       // first bad value of the current row

	// A full row group is written on a goroutine of its own while the rows
	// of the next one are collected in the other set of column buffers
	// (spare): on a Parquet run the remittance's writer was the busiest
	// goroutine, and its encoding and compression now overlap with the
	// collecting. At most one row group is in flight; flushing carries
	// its error. Everything the write uses but the column buffers (fw,
	// dict and the scratch slices) is used by that goroutine alone while
	// it runs, and the bytes are those of a write in place.
	spare    []pqColumn
	flushing chan error
	timer    GroupTimer // nil: row groups are not timed
}

// GroupTimer is told the start and end of each Parquet row group a writer
// writes on its own goroutine (the run's debug log reports them as a stage).
// It is called from that goroutine.
type GroupTimer func(start, end time.Time)

func newParquetEncoder(w io.Writer, specs []colSpec) (*parquetEncoder, error) {
	root, err := parquetSchema(specs)
	if err != nil {
		return nil, err
	}
	// The file writer closes its io.Writer if it is an io.Closer; a
	// bufio.Writer is not one, so the caller's writer stays open as the
	// contract says.
	bw := bufio.NewWriterSize(w, parquetBufferSize)
	// One pool per file: the encoders and the page buffers of a row group
	// take back the memory of the previous one.
	mem := arrowmem.NewPool(poolLimit)
	fw, err := file.NewParquetWriterWithError(bw, root, file.WithWriterProps(parquetProperties(mem, specs)))
	if err != nil {
		return nil, err
	}
	e := &parquetEncoder{cols: make([]pqColumn, len(specs)), fw: fw, bw: bw, groupRows: rowGroupRows, dict: newTextDict()}
	for i := range specs {
		e.cols[i].spec = &specs[i]
	}
	return e, nil
}

// next returns the row's next column.
func (e *parquetEncoder) next() *pqColumn {
	c := &e.cols[e.col]
	e.col++
	return c
}

// fail records the first bad value of the row; the value's column still
// gets a placeholder so that the columns stay aligned.
func (e *parquetEncoder) fail(c *pqColumn, format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf("column %s: %s", c.spec.name, fmt.Sprintf(format, args...))
	}
}

// Text is kept as given; invalid UTF-8 is replaced when the row group is
// written (fixUTF8), so the common all-valid case costs one pass per column.

func (e *parquetEncoder) str(s string) {
	c := e.next()
	if c.spec.dict && !c.asText && collectCodes {
		e.addCode(c, s)
		return
	}
	c.data = append(c.data, s...)
	e.endText(c)
}

func (e *parquetEncoder) strBytes(v []byte) {
	c := e.next()
	if c.spec.dict && !c.asText && collectCodes {
		e.addCode(c, bytesString(v)) // add copies what it keeps
		return
	}
	c.data = append(c.data, v...)
	e.endText(c)
}

// addCode adds a value of dictionary column c.
func (e *parquetEncoder) addCode(c *pqColumn, s string) {
	if c.codes == nil {
		c.codes = newTextDict()
		c.codes.begin()
	}
	if c.codes.add(s) {
		c.codeBytes += len(s)
		if c.codeBytes >= maxGroupText {
			e.full = true
		}
		return
	}
	c.codesToText()
	c.data = append(c.data, s...)
	e.endText(c)
}

func (e *parquetEncoder) code(s string) { e.str(s) }

func (e *parquetEncoder) adjustments(a *claim.Adjustments) {
	c := e.next()
	c.data = appendAdjustments(c.data, a)
	e.endText(c)
}

// endText ends the value just appended to text column c's data, and the
// row group once the column holds maxGroupText bytes.
func (e *parquetEncoder) endText(c *pqColumn) {
	c.ends = append(c.ends, int32(len(c.data)))
	if len(c.data) >= maxGroupText {
		e.full = true
	}
}

func (e *parquetEncoder) date(d claim.Date) {
	c := e.next()
	if c.spec.optional {
		if d == claim.NoDate {
			c.def = append(c.def, 0)
			return
		}
		c.def = append(c.def, 1)
	} else if d == claim.NoDate {
		e.fail(c, "date is absent")
	}
	c.i32 = append(c.i32, int32(d))
}

func (e *parquetEncoder) money(m claim.Money) {
	c := e.next()
	if m > maxDecimal18 || m < -maxDecimal18 {
		e.fail(c, "amount %v does not fit DECIMAL(18,2)", m)
		m = 0
	}
	c.i64 = append(c.i64, int64(m))
}

// An FX rate is a DECIMAL(38,18) in a 16-byte FIXED_LEN_BYTE_ARRAY (big
// endian two's complement): every rate the FX reader accepts fits exactly
// (claim.FXRateIntDigits digits before the point, claim.FXRateScale after).
// A fixed scale, rather than one picked from the run's FX file, keeps the
// column's type the same in every run, so that a year of nightly files
// reads as one table. Null when there is no rate (a cash benefit).
const (
	rateIntDigits = claim.FXRateIntDigits
	rateBytes     = 16
)

func (e *parquetEncoder) rate(s string) {
	c := e.next()
	if s == "" {
		c.def = append(c.def, 0)
		return
	}
	// Most lines have the rate of the line before (a member's claims are in
	// one or two currencies): no map lookup for them.
	v, ok := e.lastRateBytes, e.lastRateLen > 0 && s == string(e.lastRate[:e.lastRateLen])
	if !ok {
		// An FX file has a rate a day per pair (30,700 in the bench's),
		// more than the map below keeps: plain decimal digits, nearly
		// every rate, are converted directly.
		v, ok = rateFast(s)
	}
	if !ok {
		v, ok = e.rates[s]
	}
	if !ok {
		if v, ok = rateSlow(s); !ok {
			e.fail(c, "rate %q does not fit DECIMAL(%d,%d)", s, rateIntDigits+claim.FXRateScale, claim.FXRateScale)
			c.def = append(c.def, 0)
			return
		}
		if e.rates == nil || len(e.rates) >= 4096 {
			e.rates = make(map[string][rateBytes]byte)
		}
		e.rates[strings.Clone(s)] = v
	}
	if len(s) <= len(e.lastRate) { // a copy: s may be in a buffer the caller reuses
		e.lastRateLen = copy(e.lastRate[:], s)
		e.lastRateBytes = v
	}
	c.def = append(c.def, 1)
	c.data = append(c.data, v[:]...)
}

// rateSlow converts rate text s to its DECIMAL(38,18) bytes, big-endian
// two's complement, or reports false when it is not a number that fits.
func rateSlow(s string) (v [rateBytes]byte, ok bool) {
	d, err := decimal.NewFromString(s)
	shifted := d.Shift(claim.FXRateScale)
	if err != nil || !shifted.Equal(shifted.Truncate(0)) || d.Abs().GreaterThanOrEqual(decimal.New(1, claim.FXRateIntDigits)) {
		return v, false
	}
	n := decimal128.FromBigInt(shifted.BigInt())
	binary.BigEndian.PutUint64(v[:8], uint64(n.HighBits()))
	binary.BigEndian.PutUint64(v[8:], n.LowBits())
	return v, true
}

// rateFast is rateSlow for a rate written as plain decimal digits: at most
// 19 of them, at most FXRateScale after a point that has a digit on each
// side, no sign or exponent. The unscaled value is the digits times
// 10^(FXRateScale - digits after the point), below 10^37 < 2^127, one
// 64×64-bit product; it fits since FXRateIntDigits ≥ 19. Anything else
// reports false (rateSlow decides).
func rateFast(s string) (v [rateBytes]byte, ok bool) {
	var m uint64
	digits, frac, point := 0, 0, -1
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			m = m*10 + uint64(c-'0') // wraps past 19 digits, refused below
			digits++
			if point >= 0 {
				frac++
			}
		case c == '.' && point < 0 && i > 0:
			point = i
		default:
			return v, false
		}
	}
	if digits == 0 || digits > 19 || frac > claim.FXRateScale || point == len(s)-1 {
		return v, false
	}
	hi, lo := bits.Mul64(m, pow10[claim.FXRateScale-frac])
	binary.BigEndian.PutUint64(v[:8], hi)
	binary.BigEndian.PutUint64(v[8:], lo)
	return v, true
}

// The fast path's bound on digits is within the column's integer digits.
var _ [claim.FXRateIntDigits - 19]struct{}

func (e *parquetEncoder) integer(n int64) {
	c := e.next()
	switch c.spec.kind {
	case kindInt64:
		c.i64 = append(c.i64, n)
	case kindInt32:
		if n > math.MaxInt32 || n < math.MinInt32 {
			e.fail(c, "%d does not fit INT32", n)
			n = 0
		}
		c.i32 = append(c.i32, int32(n))
	default:
		panic(fmt.Sprintf("writers: column %s is not an integer", c.spec.name))
	}
}

func (e *parquetEncoder) endRow() error {
	if e.col != len(e.cols) {
		panic(fmt.Sprintf("writers: row has %d values, schema %d columns", e.col, len(e.cols)))
	}
	e.col = 0
	if e.err != nil {
		err := e.err
		e.err = nil
		return err
	}
	e.pending++
	if e.pending >= e.groupRows || e.full {
		return e.flush()
	}
	return nil
}

// flush starts writing the buffered rows as one row group (writeGroup) and
// gives the encoder the other set of column buffers for the next rows. It
// first waits for the row group before, and returns its error.
func (e *parquetEncoder) flush() error {
	if e.pending == 0 {
		return nil
	}
	if err := e.wait(); err != nil {
		return err
	}
	if e.spare == nil {
		e.spare = make([]pqColumn, len(e.cols))
		for i := range e.cols {
			e.spare[i].spec = e.cols[i].spec
		}
	}
	cols := e.cols
	e.cols, e.spare = e.spare, cols
	e.pending, e.full = 0, false
	done := make(chan error, 1)
	e.flushing = done
	timer := e.timer
	go func() {
		t0 := time.Now()
		err := e.writeGroup(cols)
		if timer != nil {
			timer(t0, time.Now())
		}
		done <- err
	}()
	return nil
}

// wait waits for the row group being written, if any, and returns its
// error.
func (e *parquetEncoder) wait() error {
	if e.flushing == nil {
		return nil
	}
	err := <-e.flushing
	e.flushing = nil
	return err
}

// writeGroup writes cols as one row group, column by column, and empties
// them.
func (e *parquetEncoder) writeGroup(cols []pqColumn) error {
	rg, err := e.fw.AppendRowGroupChecked()
	if err != nil {
		return err
	}
	for i := range cols {
		c := &cols[i]
		cw, err := rg.NextColumn()
		if err != nil {
			return err
		}
		switch w := cw.(type) {
		case *file.ByteArrayColumnChunkWriter:
			err = e.writeText(w, c)
		case *file.Int32ColumnChunkWriter:
			_, err = w.WriteBatch(c.i32, c.defLevels(), nil)
		case *file.Int64ColumnChunkWriter:
			_, err = w.WriteBatch(c.i64, c.defLevels(), nil)
		case *file.FixedLenByteArrayColumnChunkWriter:
			e.fixedViews = e.fixedViews[:0]
			for k := 0; k+rateBytes <= len(c.data); k += rateBytes {
				e.fixedViews = append(e.fixedViews, parquet.FixedLenByteArray(c.data[k:k+rateBytes]))
			}
			_, err = w.WriteBatch(e.fixedViews, c.defLevels(), nil)
		default:
			err = fmt.Errorf("column %s: unexpected column writer %T", c.spec.name, cw)
		}
		if err != nil {
			return fmt.Errorf("column %s: %w", c.spec.name, err)
		}
		c.reset()
	}
	return rg.Close()
}

// defLevels returns the definition levels of an optional column, nil for a
// required one.
func (c *pqColumn) defLevels() []int16 {
	if c.spec.optional {
		return c.def
	}
	return nil
}

// writeText hands a text column to its writer: dictionary-encoded if its
// spec asks for it and the dictionary pays, else plain, in chunks of views
// into the column's bytes.
func (e *parquetEncoder) writeText(w *file.ByteArrayColumnChunkWriter, c *pqColumn) error {
	// refused: build is known to refuse the column's text as it is (the
	// codes passed maxDictBytes, or broke the share rule), so unless
	// fixUTF8 changes the text it is not hashed a second time to find out.
	refused := false
	if c.spec.dict && c.codes != nil {
		if c.asText {
			refused = true
		} else {
			// The dictionary built as the rows came is the one build would
			// make of their text, unless it fails build's share rule or
			// holds invalid UTF-8 (which fixUTF8 would replace, maybe
			// merging two values): then the column is written as its text
			// would be.
			valid := validValues(c.codes)
			if valid && c.codes.fits() {
				return e.writeDict(w, c.codes, len(c.codes.idx))
			}
			c.codesToText()
			refused = valid
		}
	}
	data, ends := e.fixUTF8(c)
	if refused && unsafe.SliceData(ends) != unsafe.SliceData(c.ends) {
		refused = false // fixUTF8 replaced bytes: build decides
	}
	if c.spec.dict {
		if !refused && e.dict.build(data, ends) {
			return e.writeDict(w, e.dict, len(ends))
		}
		// A fresh writer has written nothing: this only swaps its encoder.
		w.FallbackToPlain()
	}
	if e.views == nil {
		e.views = make([]parquet.ByteArray, byteArrayChunk)
	}
	start := int32(0)
	for len(ends) > 0 {
		n := min(len(ends), byteArrayChunk)
		views := e.views[:n]
		for i, end := range ends[:n] {
			views[i] = data[start:end:end]
			start = end
		}
		if _, err := w.WriteBatch(views, nil, nil); err != nil {
			return err
		}
		ends = ends[n:]
	}
	clear(e.views) // keep no reference to the column's bytes
	return nil
}

// dictEncoder is the part of arrow-go's dictionary encoder (the column
// writer's CurrentEncoder when dictionary encoding is on) that writeDict
// uses: pqarrow writes Arrow dictionary arrays through the same calls.
type dictEncoder interface {
	PutDictionary(values arrow.Array) error
	NumEntries() int
}

// writeDict writes the column of n rows that d encodes: the dictionary
// goes to the encoder as it is, the statistics are computed over the
// distinct values only, and the rows as their indices.
func (e *parquetEncoder) writeDict(w *file.ByteArrayColumnChunkWriter, d *textDict, n int) error {
	enc, ok := w.CurrentEncoder().(dictEncoder)
	if !ok {
		return fmt.Errorf("the column writer's encoder %T is not a dictionary encoder", w.CurrentEncoder())
	}
	// The Arrow arrays are views of the dictionary's buffers; the encoder
	// copies the values into its own table, and the arrays are released
	// before the buffers are reused.
	values := array.MakeFromData(array.NewData(arrow.BinaryTypes.String, d.size(),
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(d.offs)), memory.NewBufferBytes(d.vals)}, nil, 0, 0))
	defer values.Release()
	if err := enc.PutDictionary(values); err != nil {
		return err
	}
	if enc.NumEntries() != d.size() {
		return fmt.Errorf("dictionary of %d values has %d entries", d.size(), enc.NumEntries())
	}
	if st := w.PageStatistics(); st != nil {
		st.IncNulls(0)
		st.IncNumValues(int64(n))
		if err := st.UpdateFromArrow(values, false); err != nil {
			return err
		}
	}
	indices := array.MakeFromData(array.NewData(arrow.PrimitiveTypes.Int32, n,
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(d.idx[:n]))}, nil, 0, 0))
	defer indices.Release()
	return w.WriteDictIndices(indices, nil, nil)
}

// fixUTF8 returns the column's bytes and ends with each value that is not
// valid UTF-8 made valid (invalid bytes replaced by U+FFFD), as Parquet's
// UTF8 type requires. A column of ASCII, the usual case, is returned as is
// after one pass over its bytes.
func (e *parquetEncoder) fixUTF8(c *pqColumn) ([]byte, []int32) {
	if isASCII(c.data) {
		return c.data, c.ends
	}
	start, bad := int32(0), false
	for _, end := range c.ends {
		if !utf8.Valid(c.data[start:end]) {
			bad = true
			break
		}
		start = end
	}
	if !bad {
		return c.data, c.ends
	}
	fixed, ends := e.fixed[:0], e.fixedEnds[:0]
	start = 0
	for _, end := range c.ends {
		v := c.data[start:end]
		if utf8.Valid(v) {
			fixed = append(fixed, v...)
		} else {
			fixed = append(fixed, strings.ToValidUTF8(string(v), "\uFFFD")...)
		}
		ends = append(ends, int32(len(fixed)))
		start = end
	}
	e.fixed, e.fixedEnds = fixed, ends
	return fixed, ends
}

// validValues reports whether every distinct value of d is valid UTF-8.
func validValues(d *textDict) bool {
	if isASCII(d.vals) {
		return true
	}
	for i := range int32(d.size()) {
		if !utf8.Valid(d.value(i)) {
			return false
		}
	}
	return true
}

// isASCII reports whether every byte of b is below 0x80, eight at a time.
func isASCII(b []byte) bool {
	const hi = 0x8080808080808080
	for len(b) >= 8 {
		v := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		if v&hi != 0 {
			return false
		}
		b = b[8:]
	}
	for _, x := range b {
		if x >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func (e *parquetEncoder) close(failed bool) error {
	if failed {
		e.wait() // the stream has failed already: its error is the one reported
		return nil
	}
	if err := e.flush(); err != nil {
		return err
	}
	if err := e.wait(); err != nil {
		return err
	}
	if err := e.fw.Close(); err != nil {
		return err
	}
	return e.bw.Flush()
}
