package writers

// The Parquet encoder the writers used before the typed column writers
// (commit 878f8ab): rows appended to Arrow builders and written with
// pqarrow. The tests keep it as the reference that the new encoder's schema
// and values are compared with (oldwriter_test.go).

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"claimsbatch/claim"
	"claimsbatch/internal/arrowmem"

	"github.com/shopspring/decimal"
)

// refArrowSchema is the Arrow schema the old writers declared for specs.
func refArrowSchema(specs []colSpec) *arrow.Schema {
	fields := make([]arrow.Field, len(specs))
	for i, s := range specs {
		f := arrow.Field{Name: s.name, Nullable: s.optional}
		switch s.kind {
		case kindText:
			f.Type = arrow.BinaryTypes.String
		case kindDate:
			f.Type = arrow.FixedWidthTypes.Date32
		case kindAmount:
			f.Type = &arrow.Decimal128Type{Precision: 18, Scale: 2}
		case kindInt32:
			f.Type = arrow.PrimitiveTypes.Int32
		case kindInt64:
			f.Type = arrow.PrimitiveTypes.Int64
		case kindRate:
			f.Type = &arrow.Decimal128Type{Precision: rateIntDigits + claim.FXRateScale, Scale: claim.FXRateScale}
		}
		fields[i] = f
	}
	return arrow.NewSchema(fields, nil)
}

// refProperties are the old writer's properties.
func refProperties(mem memory.Allocator) *parquet.WriterProperties {
	return parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(1),
		parquet.WithDictionaryDefault(false),
		parquet.WithMaxRowGroupLength(rowGroupRows),
		parquet.WithDataPageSize(64<<10),
		parquet.WithStoreDecimalAsInteger(true),
		parquet.WithRootRepetition(parquet.Repetitions.Required),
		parquet.WithAllocator(mem),
	)
}

// refEncoder appends each row's values to arrow builders, which it reuses
// for the whole file, and writes a row group every groupRows rows.
type refEncoder struct {
	specs     []arrow.Field
	rb        *array.RecordBuilder
	fields    []array.Builder // rb's builders, in column order
	fw        *pqarrow.FileWriter
	bw        *bufio.Writer
	col       int
	pending   int // rows in the builders, not yet written
	groupRows int
	dataLen   []int // per column, the text bytes of the last full row group
	err       error // first bad value of the current row
}

func newRefEncoder(w io.Writer, specs []colSpec) (*refEncoder, error) {
	schema := refArrowSchema(specs)
	// pqarrow closes its io.Writer if it is an io.Closer; a bufio.Writer is
	// not one, so the caller's writer stays open as the contract says.
	bw := bufio.NewWriterSize(w, parquetBufferSize)
	// One pool per file: the builders, the encoders and the page buffers
	// take back the memory of the previous row group.
	mem := arrowmem.NewPool(poolLimit)
	fw, err := pqarrow.NewFileWriter(schema, bw, refProperties(mem), pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem)))
	if err != nil {
		return nil, err
	}
	rb := array.NewRecordBuilder(mem, schema)
	return &refEncoder{specs: schema.Fields(), rb: rb, fields: rb.Fields(), fw: fw, bw: bw, groupRows: rowGroupRows}, nil
}

// next returns the builder and field of the row's next column.
func (e *refEncoder) next() (array.Builder, *arrow.Field) {
	i := e.col
	e.col++
	return e.fields[i], &e.specs[i]
}

// fail records the first bad value of the row; the value's column still
// gets a placeholder so that the builders stay aligned.
func (e *refEncoder) fail(f *arrow.Field, format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf("column %s: %s", f.Name, fmt.Sprintf(format, args...))
	}
}

func (e *refEncoder) str(s string) {
	b, _ := e.next()
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	b.(*array.StringBuilder).Append(s)
}

func (e *refEncoder) strBytes(v []byte) {
	b, _ := e.next()
	if !utf8.Valid(v) {
		v = []byte(strings.ToValidUTF8(string(v), "\uFFFD"))
	}
	b.(*array.StringBuilder).BinaryBuilder.Append(v)
}

func (e *refEncoder) code(s string) { e.str(s) }

func (e *refEncoder) adjustments(a *claim.Adjustments) { e.strBytes(a.AppendTo(nil)) }

func (e *refEncoder) date(d claim.Date) {
	b, f := e.next()
	db := b.(*array.Date32Builder)
	if d == claim.NoDate {
		if !f.Nullable {
			e.fail(f, "date is absent")
		}
		db.AppendNull()
		return
	}
	db.Append(arrow.Date32(d))
}

func (e *refEncoder) money(m claim.Money) {
	b, f := e.next()
	if m > maxDecimal18 || m < -maxDecimal18 {
		e.fail(f, "amount %v does not fit DECIMAL(18,2)", m)
		m = 0
	}
	b.(*array.Decimal128Builder).Append(decimal128.FromI64(int64(m)))
}

func (e *refEncoder) rate(s string) {
	b, f := e.next()
	db := b.(*array.Decimal128Builder)
	if s == "" {
		db.AppendNull()
		return
	}
	d, err := decimal.NewFromString(s)
	shifted := d.Shift(claim.FXRateScale)
	if err != nil || !shifted.Equal(shifted.Truncate(0)) {
		e.fail(f, "rate %q does not fit DECIMAL(38,18)", s)
		db.AppendNull()
		return
	}
	db.Append(decimal128.FromBigInt(shifted.BigInt()))
}

func (e *refEncoder) integer(n int64) {
	b, f := e.next()
	switch b := b.(type) {
	case *array.Int64Builder:
		b.Append(n)
	case *array.Int32Builder:
		if n > math.MaxInt32 || n < math.MinInt32 {
			e.fail(f, "%d does not fit INT32", n)
			n = 0
		}
		b.Append(int32(n))
	default:
		panic(fmt.Sprintf("writers: column %s is %s, not an integer", f.Name, f.Type))
	}
}

func (e *refEncoder) endRow() error {
	if e.col != len(e.fields) {
		panic(fmt.Sprintf("writers: row has %d values, schema %d columns", e.col, len(e.fields)))
	}
	e.col = 0
	if e.err != nil {
		err := e.err
		e.err = nil
		return err
	}
	e.pending++
	if e.pending >= e.groupRows {
		return e.flush()
	}
	return nil
}

// flush writes the builders' rows as one row group and resets the builders.
func (e *refEncoder) flush() error {
	if e.pending == 0 {
		return nil
	}
	full := e.pending >= e.groupRows
	if full && e.dataLen == nil {
		e.dataLen = make([]int, len(e.fields))
	}
	if full {
		for i, b := range e.fields {
			if sb, ok := b.(*array.StringBuilder); ok {
				e.dataLen[i] = sb.DataLen()
			}
		}
	}
	rec := e.rb.NewRecordBatch()
	defer rec.Release()
	e.pending = 0
	if full {
		// More row groups are likely to follow: size the builders for a
		// whole one at once rather than doubling them up to it again.
		e.rb.Reserve(e.groupRows)
		for i, b := range e.fields {
			if sb, ok := b.(*array.StringBuilder); ok {
				sb.ReserveData(e.dataLen[i] + e.dataLen[i]/8)
			}
		}
	}
	return e.fw.Write(rec)
}

func (e *refEncoder) close(failed bool) error {
	defer e.rb.Release()
	if failed {
		return nil
	}
	if err := e.flush(); err != nil {
		return err
	}
	if err := e.fw.Close(); err != nil {
		return err
	}
	return e.bw.Flush()
}

// useRefEncoder makes t, a table writer made for CSV into io.Discard (which
// has written nothing there that matters), write with the old Parquet
// encoder to w instead.
func useRefEncoder[T any](t *table[T], w io.Writer) error {
	enc, err := newRefEncoder(w, t.schema)
	if err != nil {
		return err
	}
	t.enc = enc
	return nil
}
