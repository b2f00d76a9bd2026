package readers

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"claimsbatch/claim"
)

// parquetSource reads a Parquet file in Arrow record batches and turns each
// row into text fields, so Parquet rows go through the same checks as CSV
// rows. The text of a row's used columns is built in one buffer and turned
// into one string, which the row's fields slice: one allocation per row.
type parquetSource struct {
	in     io.Closer
	pf     *file.Reader
	fr     *pqarrow.FileReader
	leaves []int // per file column: its Parquet leaf column
	fields []int // per file column: its field in fr.Manifest
	types  []arrow.DataType
	rr     pqarrow.RecordReader // made by the first next
	rrErr  error
	kinds  []kind // per file column: the kind the reader uses it as, 0 = unused
	names  []string
	batch  arrow.RecordBatch // current batch; nil before the first
	row    int               // next row of batch
	buf    []byte            // text of the row's used fields
	ends   []int             // end of each field in buf
	rec    []string
	rawBuf []byte
	// ahead, when set, reads the row groups in parallel (startAhead) and
	// next and raw take its rows.
	ahead *pqAhead
	// arena, when set, holds the rows' strings: blocks that the strings of
	// many rows share, never written again, instead of two allocations per
	// row. Only for a reader whose rows are consumed (spilled) soon after,
	// which the claims reader's are; see textOf.
	arena []byte
}

// arenaBlock is the size of a parquetSource's arena blocks.
const arenaBlock = 256 << 10

// textOf returns b as a string: a new one, or one in the arena.
func (s *parquetSource) textOf(b []byte) string {
	if s.arena == nil || len(b) == 0 {
		return string(b)
	}
	if cap(s.arena)-len(s.arena) < len(b) {
		s.arena = make([]byte, 0, max(arenaBlock, len(b)))
	}
	start := len(s.arena)
	s.arena = append(s.arena, b...)
	return unsafe.String(&s.arena[start], len(b))
}

// useArena makes the source's row strings share arena blocks: a block stays
// alive while any string of its rows does.
func (s *parquetSource) useArena() { s.arena = make([]byte, 0, arenaBlock) }

// newParquetSource opens a Parquet file. The flat top-level columns are the
// file's columns; nested ones are left out (and fail the open when the reader
// needs them).
func newParquetSource(in inputFile, size int64, spec []column, opt Options) (src *parquetSource, header []string, err error) {
	defer func() {
		// The Parquet decoder can panic on a malformed file instead of
		// returning an error. A bad input file must fail the run with an
		// error, not crash it, so the panic is turned into ErrCorrupt here, at
		// the boundary of the third-party code.
		if p := recover(); p != nil {
			err = decoderPanic("not a readable Parquet file", p)
		}
		if err != nil {
			in.Close()
		}
	}()
	// Every byte the decoder allocates, pages and columns, is charged to
	// the file's expansion budget (see budgetAllocator and boundedCodec).
	mem := newBudgetAllocator(size, opt.MaxExpansion)
	pf, err := file.NewParquetReader(in, file.WithReadProps(parquet.NewReaderProperties(mem)))
	if err != nil {
		return nil, nil, fmt.Errorf("not a readable Parquet file: %w: %w", ErrCorrupt, err)
	}
	if err := checkChunks(pf); err != nil {
		return nil, nil, fmt.Errorf("not a readable Parquet file: %w: %w", ErrCorrupt, err)
	}
	dropArrowSchema(pf)
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(opt.BatchSize)}, mem)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the Parquet schema: %w: %w", ErrCorrupt, err)
	}

	s := &parquetSource{in: in, pf: pf, fr: fr}
	for i, f := range fr.Manifest.Fields {
		if !f.IsLeaf() {
			for _, c := range spec {
				if c.name == f.Field.Name {
					return nil, nil, fmt.Errorf("column %s: nested type %s: %w", c.name, f.Field.Type, ErrFormat)
				}
			}
			continue
		}
		s.leaves = append(s.leaves, f.ColIndex)
		s.fields = append(s.fields, i)
		s.names = append(s.names, f.Field.Name)
		s.types = append(s.types, f.Field.Type)
	}
	idx, err := resolveColumns(s.names, spec)
	if err != nil {
		return nil, nil, err
	}
	s.kinds = make([]kind, len(s.names))
	for i, c := range spec {
		j := idx[i]
		if j < 0 {
			continue
		}
		if !accepts(s.types[j], c.kind) {
			return nil, nil, fmt.Errorf("column %s: Parquet type %s is not accepted for %s (%s): %w", c.name, s.types[j], c.kind, c.kind.accepted(), ErrFormat)
		}
		s.kinds[j] = c.kind
	}
	if len(s.leaves) == 0 {
		return nil, nil, fmt.Errorf("no columns: %w", ErrMissingColumn)
	}
	s.rec = make([]string, len(s.names))
	s.ends = make([]int, len(s.names))
	return s, s.names, nil
}

// decoderPanic turns a panic recovered from the Parquet decoder into an
// error wrapping ErrCorrupt: the budget allocator's *errExpansion as itself,
// anything else as what the decoder said.
func decoderPanic(context string, p any) error {
	if e, ok := asExpansion(p); ok {
		return fmt.Errorf("%w: %w", e, ErrCorrupt)
	}
	return fmt.Errorf("%s: %w: %v", context, ErrCorrupt, p)
}

// checkChunks checks that every column chunk the footer lists lies inside
// the file. arrow-go allocates a chunk's declared length before reading it,
// so a corrupt length would otherwise be a fatal out-of-memory error rather
// than an error (found by FuzzClaimsParquet).
func checkChunks(pf *file.Reader) error {
	md := pf.MetaData()
	size := md.GetSourceFileSize()
	for i := 0; i < pf.NumRowGroups(); i++ {
		rg := md.RowGroup(i)
		for j := 0; j < rg.NumColumns(); j++ {
			chunk, err := rg.ColumnChunk(j)
			if err != nil {
				return err
			}
			start := chunk.DataPageOffset()
			if d := chunk.DictionaryPageOffset(); chunk.HasDictionaryPage() && d > 0 && d < start {
				start = d
			}
			if length := chunk.TotalCompressedSize(); start < 0 || length < 0 || start > size || length > size-start {
				return fmt.Errorf("row group %d, column %d: chunk of %d bytes at offset %d lies outside the file of %d bytes", i, j, length, start, size)
			}
		}
	}
	return nil
}

// dropArrowSchema removes the Arrow schema that Arrow writers store in the
// file's key-value metadata, so that the Arrow types are derived from the
// Parquet schema alone. The reader needs nothing from that hint (dictionary
// columns simply come back as strings), and arrow-go trusts the lengths inside
// it: a corrupt one made it allocate hundreds of gigabytes, a fatal error no
// recover can catch (found by FuzzClaimsParquet).
func dropArrowSchema(pf *file.Reader) {
	md := pf.MetaData().FileMetaData
	kept := md.KeyValueMetadata[:0:0]
	for _, kv := range md.KeyValueMetadata {
		if kv != nil && kv.Key != "ARROW:schema" {
			kept = append(kept, kv)
		}
	}
	md.KeyValueMetadata = kept
}

// accepted says which Parquet types a column of this kind may have, and how
// to get one, for the message that refuses another.
func (k kind) accepted() string {
	switch k {
	case kindInt:
		return "write INT32, INT64 or a string"
	case kindDate:
		return "write DATE or ISO YYYY-MM-DD strings: a timestamp column becomes one with CAST(col AS DATE) in SQL, to_date(col) in Spark, df[col].dt.date in pandas"
	case kindMoney, kindDecimal:
		return "write DECIMAL, a string, an integer, or a float whose value has at most the decimals allowed"
	case kindFlag:
		return "write BOOLEAN or Y/N strings"
	default:
		return "write a string"
	}
}

func (k kind) String() string {
	switch k {
	case kindString:
		return "a string"
	case kindInt:
		return "an integer"
	case kindDate:
		return "a date"
	case kindMoney:
		return "an amount"
	case kindDecimal:
		return "a decimal"
	case kindFlag:
		return "a Y/N flag"
	case kindAny:
		return "text"
	}
	return "an unused column"
}

// accepts reports whether a column of Arrow type t can be read as k.
func accepts(t arrow.DataType, k kind) bool {
	if k == kindAny {
		return accepts(t, kindString) || accepts(t, kindDate) || accepts(t, kindMoney) || accepts(t, kindFlag)
	}
	if d, ok := t.(*arrow.DictionaryType); ok {
		return accepts(d.ValueType, k)
	}
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW, arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW:
		return true
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return k == kindString || k == kindInt || k == kindMoney || k == kindDecimal
	case arrow.DATE32:
		return k == kindDate
	case arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256, arrow.FLOAT32, arrow.FLOAT64:
		return k == kindMoney || k == kindDecimal
	case arrow.BOOL:
		return k == kindFlag
	}
	return false
}

func (s *parquetSource) next() (rec []string, p problem, err error) {
	if s.ahead != nil {
		return s.ahead.next(s.rec)
	}
	defer func() {
		if r := recover(); r != nil { // see newParquetSource
			err = decoderPanic("Parquet decoder", r)
		}
	}()
	if s.rr == nil && s.rrErr == nil {
		// Made here, not at the open: it reads the first row group's
		// column chunks, which the typed claims reader reads its own way.
		if s.rr, s.rrErr = s.fr.GetRecordReader(context.Background(), s.leaves, nil); s.rrErr != nil {
			s.rrErr = fmt.Errorf("opening the Parquet columns: %w: %w", ErrCorrupt, s.rrErr)
		}
	}
	if s.rrErr != nil {
		return nil, problem{}, s.rrErr
	}
	for s.batch == nil || s.row >= int(s.batch.NumRows()) {
		if !s.rr.Next() {
			s.batch = nil
			if err := s.rr.Err(); err != nil {
				if e, ok := asExpansion(err); ok {
					err = e
				}
				return nil, problem{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
			}
			return nil, problem{}, io.EOF
		}
		s.batch = s.rr.RecordBatch()
		s.row = 0
	}
	i := s.row
	s.row++
	s.buf = s.buf[:0]
	for j, k := range s.kinds {
		if k != 0 {
			if col := s.batch.Column(j); !col.IsNull(i) {
				s.buf = appendValue(s.buf, col, i, k)
			}
		}
		s.ends[j] = len(s.buf)
	}
	text := s.textOf(s.buf)
	start := 0
	for j, end := range s.ends {
		s.rec[j] = text[start:end]
		start = end
	}
	if !utf8.ValidString(text) {
		return s.rec, invalidUTF8(s.rec), nil
	}
	return s.rec, problem{}, nil
}

// raw joins the current row's values as a CSV line, in the file's column
// order: the used columns as the row checks saw them, the others in Arrow's
// text form.
func (s *parquetSource) raw() string {
	if s.ahead != nil {
		return s.ahead.raw()
	}
	if s.batch == nil || s.row == 0 {
		return ""
	}
	i := s.row - 1
	b := s.rawBuf[:0]
	for j, k := range s.kinds {
		if j > 0 {
			b = append(b, ',')
		}
		col := s.batch.Column(j)
		if col.IsNull(i) {
			continue
		}
		if k != 0 {
			b = appendCSVField(b, s.rec[j])
		} else {
			b = appendCSVField(b, col.ValueStr(i))
		}
	}
	s.rawBuf = b
	return s.textOf(b)
}

func (s *parquetSource) close() error {
	if s.in == nil {
		return nil
	}
	if s.ahead != nil {
		s.ahead.close()
		s.ahead = nil
	}
	if s.rr != nil {
		s.rr.Release()
	}
	err := s.in.Close()
	s.in = nil
	return err
}

// csvSpecial marks the bytes that make encoding/csv quote a field.
var csvSpecial = [256]bool{',': true, '"': true, '\r': true, '\n': true}

// appendCSVField appends f quoted as encoding/csv would write it.
func appendCSVField(b []byte, f string) []byte {
	needs := f != "" && (f[0] == ' ' || f[0] == '\t')
	for i := 0; i < len(f) && !needs; i++ {
		needs = csvSpecial[f[i]]
	}
	if !needs {
		return append(b, f...)
	}
	b = append(b, '"')
	for i := 0; i < len(f); i++ {
		if f[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, f[i])
	}
	return append(b, '"')
}

// Date32 values outside years 1-9999 have no YYYY-MM-DD form; they are
// written as the day number, which the date check then rejects.
var (
	minDate = claim.FromCivil(1, 1, 1)
	maxDate = claim.FromCivil(9999, 12, 31)
)

// appendValue appends the text of non-null value i of a, a column read as
// k (accepts(a.DataType(), k) holds).
func appendValue(b []byte, a arrow.Array, i int, k kind) []byte {
	switch a := a.(type) {
	case *array.String:
		return append(b, a.Value(i)...)
	case *array.LargeString:
		return append(b, a.Value(i)...)
	case *array.StringView:
		return append(b, a.Value(i)...)
	case *array.Binary:
		return append(b, a.Value(i)...)
	case *array.LargeBinary:
		return append(b, a.Value(i)...)
	case *array.BinaryView:
		return append(b, a.Value(i)...)
	case *array.Dictionary:
		return appendValue(b, a.Dictionary(), a.GetValueIndex(i), k)
	case *array.Int8:
		return strconv.AppendInt(b, int64(a.Value(i)), 10)
	case *array.Int16:
		return strconv.AppendInt(b, int64(a.Value(i)), 10)
	case *array.Int32:
		return strconv.AppendInt(b, int64(a.Value(i)), 10)
	case *array.Int64:
		return strconv.AppendInt(b, a.Value(i), 10)
	case *array.Uint8:
		return strconv.AppendUint(b, uint64(a.Value(i)), 10)
	case *array.Uint16:
		return strconv.AppendUint(b, uint64(a.Value(i)), 10)
	case *array.Uint32:
		return strconv.AppendUint(b, uint64(a.Value(i)), 10)
	case *array.Uint64:
		return strconv.AppendUint(b, a.Value(i), 10)
	case *array.Date32:
		d := claim.Date(a.Value(i))
		if d < minDate || d > maxDate {
			return strconv.AppendInt(b, int64(d), 10)
		}
		return d.AppendTo(b)
	case *array.Boolean:
		if a.Value(i) {
			return append(b, 'Y')
		}
		return append(b, 'N')
	case *array.Float32:
		// The shortest form that reads back as the same float32: 0.1f is
		// "0.1", and 0.125 keeps its three decimals (then INVALID_VALUE).
		return strconv.AppendFloat(b, float64(a.Value(i)), 'f', -1, 32)
	case *array.Float64:
		return strconv.AppendFloat(b, a.Value(i), 'f', -1, 64)
	case *array.Decimal32:
		return appendScaled(b, strconv.AppendInt(nil, int64(a.Value(i)), 10), a.DataType().(arrow.DecimalType).GetScale())
	case *array.Decimal64:
		return appendScaled(b, strconv.AppendInt(nil, int64(a.Value(i)), 10), a.DataType().(arrow.DecimalType).GetScale())
	case *array.Decimal128:
		return appendDecimal128(b, a.Value(i), a.DataType().(arrow.DecimalType).GetScale())
	case *array.Decimal256:
		return appendScaled(b, a.Value(i).BigInt().Append(nil, 10), a.DataType().(arrow.DecimalType).GetScale())
	}
	// accepts and appendValue list the same types; anything else is a bug.
	panic(fmt.Sprintf("readers: no text form for %s", a.DataType()))
}

// appendDecimal128 appends the text of a DECIMAL value.
func appendDecimal128(b []byte, v decimal128.Num, scale int32) []byte {
	var digits []byte
	if hi, lo := v.HighBits(), v.LowBits(); (hi == 0 && lo < 1<<63) || (hi == -1 && lo >= 1<<63) {
		digits = strconv.AppendInt(b[len(b):], int64(lo), 10)
	} else {
		digits = v.BigInt().Append(b[len(b):], 10)
	}
	return appendScaled(b, digits, scale)
}

// appendScaled appends the unscaled integer digits (with an optional '-')
// divided by 10^scale, as a plain decimal: digits "-12345", scale 3 →
// "-12.345". digits may alias the free capacity of b.
func appendScaled(b []byte, digits []byte, scale int32) []byte {
	var tmp [80]byte
	d := append(tmp[:0], digits...) // digits may alias b's tail, which we overwrite
	if len(d) > 0 && d[0] == '-' {
		b = append(b, '-')
		d = d[1:]
	}
	switch {
	case scale <= 0:
		b = append(b, d...)
		if !(len(d) == 1 && d[0] == '0') {
			for ; scale < 0; scale++ {
				b = append(b, '0')
			}
		}
	case len(d) <= int(scale):
		b = append(b, '0', '.')
		for n := len(d); n < int(scale); n++ {
			b = append(b, '0')
		}
		b = append(b, d...)
	default:
		cut := len(d) - int(scale)
		b = append(b, d[:cut]...)
		b = append(b, '.')
		b = append(b, d[cut:]...)
	}
	return b
}

// GuardParquet prepares a Parquet file opened elsewhere (claimsbatch verify
// reads the outputs) with the same defences the readers use: every column
// chunk must lie inside the file, and the stored Arrow schema, whose lengths
// arrow-go trusts, is dropped so the types come from the Parquet schema.
func GuardParquet(pf *file.Reader) error {
	if err := checkChunks(pf); err != nil {
		return err
	}
	dropArrowSchema(pf)
	return nil
}
