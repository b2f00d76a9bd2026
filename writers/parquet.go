package writers

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
	"github.com/shopspring/decimal"

	"claimsbatch/claim"
	"claimsbatch/internal/arrowmem"
)

const (
	// rowGroupRows bounds a Parquet writer's memory: rows are collected in
	// arrow builders and written as one row group every rowGroupRows rows,
	// whatever the sizes of the batches passed to Write, so the row groups
	// (and the bytes) do not depend on how the caller batches.
	rowGroupRows = 32 << 10

	// maxDecimal18 is the largest unscaled value of a DECIMAL(18,2).
	maxDecimal18 = 999_999_999_999_999_999

	parquetBufferSize = 256 << 10

	// poolLimit bounds the freed buffers one Parquet file's allocator keeps:
	// a row group's builders and pages (about 10 MiB for the remittance's
	// 32 Ki rows) with room to spare.
	poolLimit = 24 << 20
)

// Arrow types of the columns. Amounts are decimal128(18, 2), which pqarrow
// stores as Parquet INT64 with the DECIMAL(18,2) logical type
// (WithStoreDecimalAsInteger); the unscaled value is claim.Money's cents.
var (
	amountType = &arrow.Decimal128Type{Precision: 18, Scale: 2}
	// rateType holds every FX rate the FX reader accepts exactly: up to
	// claim.FXRateIntDigits digits before the point and claim.FXRateScale
	// after. A fixed scale, rather than one picked from the run's FX file,
	// keeps the column's type the same in every run, so that a year of
	// nightly files reads as one table.
	rateType = &arrow.Decimal128Type{Precision: claim.FXRateIntDigits + claim.FXRateScale, Scale: claim.FXRateScale}

	textColumn   = func(name string) arrow.Field { return arrow.Field{Name: name, Type: arrow.BinaryTypes.String} }
	dateColumn   = func(name string) arrow.Field { return arrow.Field{Name: name, Type: arrow.FixedWidthTypes.Date32} }
	amountColumn = func(name string) arrow.Field { return arrow.Field{Name: name, Type: amountType} }
	int64Column  = func(name string) arrow.Field { return arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Int64} }
	// rateColumn is an FX rate, null when there is none (a cash benefit).
	rateColumn  = func(name string) arrow.Field { return arrow.Field{Name: name, Type: rateType, Nullable: true} }
	int32Column = func(name string) arrow.Field { return arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Int32} }
	// optionalDateColumn is a date that may be absent (claim.NoDate), null
	// in Parquet.
	optionalDateColumn = func(name string) arrow.Field {
		return arrow.Field{Name: name, Type: arrow.FixedWidthTypes.Date32, Nullable: true}
	}
)

// parquetProperties are the same for every table. The created_by string is
// the library's fixed default (no timestamp), so the bytes are reproducible.
//
// Zstd without dictionary encoding: on a synthetic remittance of 512 Ki rows
// zstd gave a file several times smaller than snappy's at the same speed,
// and dictionary encoding (whose string hashing also allocates per value)
// made the file larger after zstd and the writing up to twice as slow.
func parquetProperties(mem memory.Allocator) *parquet.WriterProperties {
	return parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(1), // the fastest: the encoder's history per column stays small
		parquet.WithDictionaryDefault(false),
		parquet.WithMaxRowGroupLength(rowGroupRows),
		parquet.WithDataPageSize(64<<10),
		parquet.WithStoreDecimalAsInteger(true),
		parquet.WithRootRepetition(parquet.Repetitions.Required),
		parquet.WithAllocator(mem),
	)
}

// parquetEncoder appends each row's values to arrow builders, which it reuses
// for the whole file, and writes a row group every groupRows rows.
type parquetEncoder struct {
	specs     []arrow.Field
	rb        *array.RecordBuilder
	fields    []array.Builder // rb's builders, in column order
	fw        *pqarrow.FileWriter
	bw        *bufio.Writer
	col       int
	pending   int // rows in the builders, not yet written
	groupRows int
	dataLen   []int                     // per column, the text bytes of the last full row group
	err       error                     // first bad value of the current row
	rates     map[string]decimal128.Num // rate text → value: a run has few distinct rates
}

func newParquetEncoder(w io.Writer, schema *arrow.Schema) (*parquetEncoder, error) {
	// pqarrow closes its io.Writer if it is an io.Closer; a bufio.Writer is
	// not one, so the caller's writer stays open as the contract says.
	bw := bufio.NewWriterSize(w, parquetBufferSize)
	// One pool per file: the builders, the encoders and the page buffers
	// take back the memory of the previous row group.
	mem := arrowmem.NewPool(poolLimit)
	fw, err := pqarrow.NewFileWriter(schema, bw, parquetProperties(mem), pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem)))
	if err != nil {
		return nil, err
	}
	rb := array.NewRecordBuilder(mem, schema)
	return &parquetEncoder{specs: schema.Fields(), rb: rb, fields: rb.Fields(), fw: fw, bw: bw, groupRows: rowGroupRows}, nil
}

// next returns the builder and field of the row's next column.
func (e *parquetEncoder) next() (array.Builder, *arrow.Field) {
	i := e.col
	e.col++
	return e.fields[i], &e.specs[i]
}

// fail records the first bad value of the row; the value's column still
// gets a placeholder so that the builders stay aligned.
func (e *parquetEncoder) fail(f *arrow.Field, format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf("column %s: %s", f.Name, fmt.Sprintf(format, args...))
	}
}

func (e *parquetEncoder) str(s string) {
	b, _ := e.next()
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	b.(*array.StringBuilder).Append(s)
}

func (e *parquetEncoder) strBytes(v []byte) {
	b, _ := e.next()
	if !utf8.Valid(v) {
		v = []byte(strings.ToValidUTF8(string(v), "\uFFFD"))
	}
	b.(*array.StringBuilder).BinaryBuilder.Append(v)
}

func (e *parquetEncoder) date(d claim.Date) {
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

func (e *parquetEncoder) money(m claim.Money) {
	b, f := e.next()
	if m > maxDecimal18 || m < -maxDecimal18 {
		e.fail(f, "amount %v does not fit DECIMAL(18,2)", m)
		m = 0
	}
	b.(*array.Decimal128Builder).Append(decimal128.FromI64(int64(m)))
}

func (e *parquetEncoder) rate(s string) {
	b, f := e.next()
	db := b.(*array.Decimal128Builder)
	if s == "" {
		db.AppendNull()
		return
	}
	v, ok := e.rates[s]
	if !ok {
		d, err := decimal.NewFromString(s)
		shifted := d.Shift(claim.FXRateScale)
		if err != nil || !shifted.Equal(shifted.Truncate(0)) || d.Abs().GreaterThanOrEqual(decimal.New(1, claim.FXRateIntDigits)) {
			e.fail(f, "rate %q does not fit DECIMAL(%d,%d)", s, rateType.Precision, rateType.Scale)
			db.AppendNull()
			return
		}
		v = decimal128.FromBigInt(shifted.BigInt())
		if e.rates == nil || len(e.rates) >= 4096 {
			e.rates = make(map[string]decimal128.Num)
		}
		e.rates[strings.Clone(s)] = v
	}
	db.Append(v)
}

func (e *parquetEncoder) integer(n int64) {
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

func (e *parquetEncoder) endRow() error {
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
func (e *parquetEncoder) flush() error {
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

func (e *parquetEncoder) close(failed bool) error {
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
