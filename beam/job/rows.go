package job

import (
	"bytes"
	"fmt"
	"reflect"

	"claimsbatch/claim"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

// ResultRow is a claim.Result flattened for Beam: claim.Result cannot cross
// a shuffle (its Adjustments is a fixed-size array, which Beam's schema
// coder refuses) and its *Line would copy the whole line anyway.
type ResultRow struct {
	Line            claim.Line
	PolicyID        string
	PolicyYearStart claim.Date
	Module          claim.Module
	Charge          claim.Money
	Deductible      claim.Money
	Coinsurance     claim.Money
	NotCovered      claim.Money
	PlanPaid        claim.Money
	Status          claim.Status
	Adjustments     []claim.Money // claim.NumReasons entries
	Remark          string
}

// FromResult flattens r.
func FromResult(r *claim.Result) ResultRow {
	row := ResultRow{
		PolicyID: r.PolicyID, PolicyYearStart: r.PolicyYearStart, Module: r.Module,
		Charge: r.Charge, Deductible: r.Deductible, Coinsurance: r.Coinsurance, NotCovered: r.NotCovered,
		PlanPaid: r.PlanPaid, Status: r.Status, Adjustments: r.Adjustments[:], Remark: r.Remark,
	}
	if r.Line != nil {
		row.Line = *r.Line
	}
	return row
}

// Result rebuilds the claim.Result; it points at the row's own copy of the
// line.
func (row *ResultRow) Result() (claim.Result, error) {
	r := claim.Result{
		Line: &row.Line, PolicyID: row.PolicyID, PolicyYearStart: row.PolicyYearStart, Module: row.Module,
		Charge: row.Charge, Deductible: row.Deductible, Coinsurance: row.Coinsurance, NotCovered: row.NotCovered,
		PlanPaid: row.PlanPaid, Status: row.Status, Remark: row.Remark,
	}
	if len(row.Adjustments) != len(r.Adjustments) {
		return r, fmt.Errorf("job: result row of %s/%d has %d adjustments, want %d", row.Line.ClaimID, row.Line.LineNo, len(row.Adjustments), len(r.Adjustments))
	}
	copy(r.Adjustments[:], row.Adjustments)
	return r, nil
}

func init() {
	for _, t := range []reflect.Type{
		reflect.TypeFor[ResultRow](), reflect.TypeFor[claim.Line](), reflect.TypeFor[claim.Span](),
		reflect.TypeFor[claim.RawSpan](), reflect.TypeFor[claim.Exception](), reflect.TypeFor[claim.StateRecord](),
	} {
		beam.RegisterType(t)
	}
}

// Codec encodes values of T with the coder Beam uses for T in a shuffle, so
// that shard records (Record.Value) need no second format.
type Codec[T any] struct {
	enc beam.ElementEncoder
	dec beam.ElementDecoder
}

// NewCodec returns the Codec of T; T must be a type Beam can encode.
func NewCodec[T any]() *Codec[T] {
	t := reflect.TypeFor[T]()
	return &Codec[T]{enc: beam.NewElementEncoder(t), dec: beam.NewElementDecoder(t)}
}

// Encode appends nothing: it returns the encoding of v.
func (c *Codec[T]) Encode(v T) ([]byte, error) {
	var b bytes.Buffer
	if err := c.enc.Encode(v, &b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Decode decodes one value.
func (c *Codec[T]) Decode(b []byte) (T, error) {
	v, err := c.dec.Decode(bytes.NewReader(b))
	if err != nil {
		var zero T
		return zero, err
	}
	return v.(T), nil
}
