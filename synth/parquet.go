package synth

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"golang.org/x/sync/errgroup"

	"claimsbatch/claim"
)

// Parquet writers: dates are DATE, amounts DECIMAL(18,2), the FX rate
// DECIMAL(18,6), line_no and units INT32, everything else UTF8; every column
// is nullable and an empty value is written as null. Rows are gathered in
// Arrow builders and written as one row group per rowGroupRows rows.

const rowGroupRows = 1 << 16

var (
	amountType = &arrow.Decimal128Type{Precision: 18, Scale: 2}
	rateType   = &arrow.Decimal128Type{Precision: 18, Scale: 6}
)

func field(name string, t arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: t, Nullable: true}
}

var (
	str  = arrow.BinaryTypes.String
	date = arrow.FixedWidthTypes.Date32
	i32  = arrow.PrimitiveTypes.Int32
)

var claimsSchema = arrow.NewSchema([]arrow.Field{
	field("claim_id", str), field("line_no", i32), field("member_id", str),
	field("service_date", date), field("service_end_date", date), field("received_date", date),
	field("benefit_code", str), field("diagnosis_code", str), field("item_code", str),
	field("country", str), field("emergency", str), field("trip_id", str),
	field("provider_id", str), field("payee", str), field("currency", str),
	field("billed_amount", amountType), field("units", i32),
}, nil)

var membersSchema = arrow.NewSchema([]arrow.Field{
	field("member_id", str), field("policy_id", str), field("coverage_start", date),
	field("coverage_end", date), field("date_of_birth", date), field("residence_country", str),
	field("origin_country", str), field("us_cover", str), field("plan_currency", str),
	field("modules", str), field("core_deductible", amountType), field("core_coinsurance", str),
	field("core_oop_max", amountType), field("outpatient_deductible", amountType),
	field("outpatient_coinsurance", str), field("outpatient_oop_max", amountType),
}, nil)

var fxSchema = arrow.NewSchema([]arrow.Field{
	field("date", date), field("currency", str), field("plan_currency", str), field("rate", rateType),
}, nil)

// highCardinality are columns with (nearly) one value per row: dictionary
// encoding them costs time and saves nothing.
var highCardinality = []string{"claim_id", "member_id", "policy_id", "trip_id", "provider_id", "billed_amount", "rate", "date_of_birth"}

// pqTable is one Parquet file being written from Arrow record batches. The
// generator fills the builders; a background goroutine encodes each finished
// batch (Parquet encoding costs more than generating the rows, so the two
// overlap). The channel is unbuffered, so at most two batches exist at a
// time: the one being encoded and the one being built.
type pqTable struct {
	fw      *pqarrow.FileWriter
	rb      *array.RecordBuilder
	rows    int
	buf     []byte
	batches chan arrow.RecordBatch
	group   *errgroup.Group
	ctx     context.Context // cancelled when the encoder fails
	closed  bool
}

func newPQTable(ctx context.Context, schema *arrow.Schema, w io.Writer) (*pqTable, error) {
	opts := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithMaxRowGroupLength(rowGroupRows),
		parquet.WithCreatedBy("claimsbatch synth"),
	}
	for _, name := range highCardinality {
		if schema.HasField(name) {
			opts = append(opts, parquet.WithDictionaryFor(name, false))
		}
	}
	props := parquet.NewWriterProperties(opts...)
	fw, err := pqarrow.NewFileWriter(schema, w, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return nil, fmt.Errorf("synth: parquet: %w", err)
	}
	t := &pqTable{
		fw:      fw,
		rb:      array.NewRecordBuilder(memory.DefaultAllocator, schema),
		batches: make(chan arrow.RecordBatch),
	}
	t.group, t.ctx = errgroup.WithContext(ctx)
	t.group.Go(func() error {
		for rec := range t.batches {
			err := t.fw.Write(rec)
			rec.Release()
			if err != nil {
				for rest := range t.batches { // release what the producer still sends
					rest.Release()
				}
				return fmt.Errorf("synth: parquet: %w", err)
			}
		}
		return nil
	})
	return t, nil
}

func (t *pqTable) str(i int) *array.StringBuilder  { return t.rb.Field(i).(*array.StringBuilder) }
func (t *pqTable) date(i int) *array.Date32Builder { return t.rb.Field(i).(*array.Date32Builder) }
func (t *pqTable) dec(i int) *array.Decimal128Builder {
	return t.rb.Field(i).(*array.Decimal128Builder)
}
func (t *pqTable) i32(i int) *array.Int32Builder { return t.rb.Field(i).(*array.Int32Builder) }

// rowDone counts a finished row and hands a batch to the encoder when enough
// rows are held.
func (t *pqTable) rowDone() error {
	t.rows++
	if t.rows >= rowGroupRows {
		return t.sendBatch()
	}
	return nil
}

func (t *pqTable) sendBatch() error {
	if t.rows == 0 {
		return nil
	}
	rec := t.rb.NewRecordBatch()
	t.rows = 0
	select {
	case t.batches <- rec:
		return nil
	case <-t.ctx.Done():
		rec.Release()
		return t.ctx.Err()
	}
}

// close writes the last batch, waits for the encoder and writes the footer.
// It is safe to call twice (the second call does nothing), so that an
// aborted run can stop the encoder goroutine.
func (t *pqTable) close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	err := t.sendBatch()
	close(t.batches)
	if werr := t.group.Wait(); werr != nil {
		err = werr // the encoder's error explains a failed send
	}
	t.rb.Release()
	if cerr := t.fw.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("synth: parquet: %w", cerr)
	}
	return err
}

func appendBytesOrNull(b *array.StringBuilder, v []byte) {
	if len(v) == 0 {
		b.AppendNull()
		return
	}
	b.BinaryBuilder.Append(v)
}

func appendStringOrNull(b *array.StringBuilder, v string) {
	if v == "" {
		b.AppendNull()
		return
	}
	b.Append(v)
}

func appendDateOrNull(b *array.Date32Builder, d claim.Date) {
	if d == claim.NoDate || d == claim.OpenEnd {
		b.AppendNull()
		return
	}
	b.Append(arrow.Date32(d))
}

func appendMoneyOrNull(b *array.Decimal128Builder, v claim.Money) {
	if v == notGiven {
		b.AppendNull()
		return
	}
	b.Append(decimal128.FromI64(int64(v)))
}

type pqMembers struct{ *pqTable }

func newParquetMembers(ctx context.Context, w io.Writer) (*pqMembers, error) {
	t, err := newPQTable(ctx, membersSchema, w)
	if err != nil {
		return nil, err
	}
	return &pqMembers{t}, nil
}

func (p *pqMembers) member(g *gen, m *member) error {
	for i := 0; i < m.nSpans; i++ {
		s := &m.spans[i]
		p.str(0).BinaryBuilder.Append(g.appendMemberID(p.buf[:0], m.num))
		p.str(1).BinaryBuilder.Append(g.appendPolicyID(p.buf[:0], m.num, i+1))
		p.date(2).Append(arrow.Date32(s.start))
		appendDateOrNull(p.date(3), s.end)
		p.date(4).Append(arrow.Date32(m.dob))
		p.str(5).Append(countries[m.residence].code)
		p.str(6).Append(countries[m.origin].code)
		if m.usCover != 0 {
			p.str(7).BinaryBuilder.Append([]byte{m.usCover})
		} else {
			p.str(7).AppendNull()
		}
		p.str(8).Append(g.plan.Currencies[m.planCur])
		p.str(9).Append(m.moduleText)
		appendMoneyOrNull(p.dec(10), s.coreDed)
		appendBytesOrNull(p.str(11), appendOptPercent(p.buf[:0], s.coreCoins))
		appendMoneyOrNull(p.dec(12), s.coreOOP)
		appendMoneyOrNull(p.dec(13), s.opDed)
		appendBytesOrNull(p.str(14), appendOptPercent(p.buf[:0], s.opCoins))
		appendMoneyOrNull(p.dec(15), s.opOOP)
		if err := p.rowDone(); err != nil {
			return err
		}
	}
	return nil
}

// pqClaims keeps typed handles on its builders: the hot loop does no type
// assertions.
type pqClaims struct {
	*pqTable
	strs          [numClaimCols]*array.StringBuilder
	dates         [numClaimCols]*array.Date32Builder
	lineNo, units *array.Int32Builder
	billed        *array.Decimal128Builder
}

func newParquetClaims(ctx context.Context, w io.Writer) (*pqClaims, error) {
	t, err := newPQTable(ctx, claimsSchema, w)
	if err != nil {
		return nil, err
	}
	p := &pqClaims{pqTable: t}
	for col := 0; col < numClaimCols; col++ {
		switch b := t.rb.Field(col).(type) {
		case *array.StringBuilder:
			p.strs[col] = b
		case *array.Date32Builder:
			p.dates[col] = b
		}
	}
	p.lineNo, p.units, p.billed = t.i32(colLineNo), t.i32(colUnits), t.dec(colBilledAmount)
	return p, nil
}

func (p *pqClaims) line(g *gen, l *line, claimNo int64) error {
	empty := -1
	if l.bad == badEmptyField {
		empty = requiredClaimFields[int(l.badArg)%len(requiredClaimFields)]
	}
	b := p.buf[:0]
	put := func(col int, v []byte) { appendBytesOrNull(p.strs[col], v) }

	if empty == colClaimID {
		put(colClaimID, nil)
	} else {
		put(colClaimID, g.appendClaimID(b, claimNo))
	}
	if empty == colLineNo {
		p.lineNo.AppendNull()
	} else {
		p.lineNo.Append(int32(l.lineNo))
	}
	switch {
	case empty == colMemberID:
		put(colMemberID, nil)
	case l.bad == badMember:
		put(colMemberID, g.appendUnknownMemberID(b, l.member))
	default:
		put(colMemberID, g.appendMemberID(b, l.member))
	}
	if empty == colServiceDate {
		p.dates[colServiceDate].AppendNull()
	} else {
		p.dates[colServiceDate].Append(arrow.Date32(l.service))
	}
	if l.bad == badEndBeforeStart {
		p.dates[colServiceEndDate].Append(arrow.Date32(l.service - 1 - claim.Date(l.badArg%5)))
	} else {
		appendDateOrNull(p.dates[colServiceEndDate], l.end)
	}
	appendDateOrNull(p.dates[colReceivedDate], l.received)
	switch {
	case empty == colBenefitCode:
		put(colBenefitCode, nil)
	case l.bad == badBenefit:
		p.strs[colBenefitCode].Append(unknownBenefits[int(l.badArg)%len(unknownBenefits)])
	default:
		p.strs[colBenefitCode].Append(g.plan.Benefits[l.benefit].Code)
	}
	if l.diag >= 0 {
		p.strs[colDiagnosisCode].Append(diagnoses[l.diag])
	} else {
		put(colDiagnosisCode, nil)
	}
	if l.item > 0 {
		p.strs[colItemCode].Append(g.profiles[l.benefit].items[l.item-1])
	} else {
		put(colItemCode, nil)
	}
	if empty == colCountry {
		put(colCountry, nil)
	} else {
		p.strs[colCountry].Append(countries[l.country].code)
	}
	switch {
	case l.bad == badEmergency:
		p.strs[colEmergency].Append("X")
	case l.emergency == 'Y':
		p.strs[colEmergency].Append("Y")
	case l.emergency == 'N':
		p.strs[colEmergency].Append("N")
	default:
		put(colEmergency, nil)
	}
	if l.trip > 0 {
		put(colTripID, g.appendTripID(b, l))
	} else {
		put(colTripID, nil)
	}
	if l.provider > 0 {
		put(colProviderID, appendProviderID(b, l.provider))
	} else {
		put(colProviderID, nil)
	}
	switch l.payee {
	case payeeProvider:
		p.strs[colPayee].Append("provider")
	case payeeMember:
		p.strs[colPayee].Append("member")
	default:
		put(colPayee, nil)
	}
	switch {
	case empty == colCurrency:
		put(colCurrency, nil)
	case l.bad == badCurrency:
		p.strs[colCurrency].Append(noRateCurrencies[int(l.badArg)%len(noRateCurrencies)])
	default:
		p.strs[colCurrency].Append(g.currencies[l.currency].code)
	}
	switch {
	case empty == colBilledAmount:
		p.billed.AppendNull()
	case l.bad == badNegative:
		amt := l.billed
		if amt == 0 {
			amt = 1234
		}
		p.billed.Append(decimal128.FromI64(-int64(amt)))
	default:
		p.billed.Append(decimal128.FromI64(int64(l.billed)))
	}
	if l.units > 0 {
		p.units.Append(l.units)
	} else {
		p.units.AppendNull()
	}
	p.buf = b
	return p.rowDone()
}

type pqFX struct{ *pqTable }

func newParquetFX(ctx context.Context, w io.Writer) (*pqFX, error) {
	t, err := newPQTable(ctx, fxSchema, w)
	if err != nil {
		return nil, err
	}
	return &pqFX{t}, nil
}

func (p *pqFX) rate(d claim.Date, currency, planCurrency string, micro int64) error {
	p.date(0).Append(arrow.Date32(d))
	p.str(1).Append(currency)
	p.str(2).Append(planCurrency)
	p.dec(3).Append(decimal128.FromI64(micro))
	return p.rowDone()
}
