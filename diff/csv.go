package diff

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// CSVHeader is the header of diff.csv: the change, the line's identity
// (from B when the line is in B, else from A), then per amount the value in
// A, in B and the delta B - A, the status, adjustments and remark in A and
// B, and the names of the columns that differ. A side that lacks the line
// has empty values; a delta is empty when the two plan currencies differ.
var CSVHeader = []string{
	"change", "claim_id", "line_no", "member_id", "service_date", "benefit_code", "module", "plan_currency",
	"charge_a", "charge_b", "charge_delta",
	"plan_paid_a", "plan_paid_b", "plan_paid_delta",
	"deductible_a", "deductible_b", "deductible_delta",
	"coinsurance_a", "coinsurance_b", "coinsurance_delta",
	"not_covered_a", "not_covered_b", "not_covered_delta",
	"status_a", "status_b", "adjustments_a", "adjustments_b", "remark_a", "remark_b",
	"changed_columns",
}

// CSVWriter writes diff.csv, one row per line that differs.
type CSVWriter struct {
	w      *csv.Writer
	record []string
	header bool
}

// NewCSVWriter returns a CSVWriter on w; the header goes out with the first
// row or at Flush.
func NewCSVWriter(w io.Writer) *CSVWriter {
	return &CSVWriter{w: csv.NewWriter(w), record: make([]string, len(CSVHeader))}
}

func (c *CSVWriter) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	return c.w.Write(CSVHeader)
}

// Write writes one line.
func (c *CSVWriter) Write(l Line) error {
	if err := c.writeHeader(); err != nil {
		return fmt.Errorf("diff: diff.csv: %w", err)
	}
	id := l.B
	if id == nil {
		id = l.A
	}
	r := c.record[:0]
	r = append(r, l.Kind.String(), id.Fields[ColClaimID], id.Fields[ColLineNo], id.Fields[ColMemberID],
		id.Fields[ColServiceDate], id.Fields[ColBenefitCode], id.Fields[ColModule], id.Fields[ColPlanCurrency])
	sameCurrency := l.A != nil && l.B != nil && l.A.Fields[ColPlanCurrency] == l.B.Fields[ColPlanCurrency]
	for m := range NumMeasures {
		a, b, delta := "", "", ""
		if l.A != nil {
			a = l.A.Amounts[m].String()
		}
		if l.B != nil {
			b = l.B.Amounts[m].String()
		}
		if sameCurrency {
			delta = (l.B.Amounts[m] - l.A.Amounts[m]).String()
		}
		r = append(r, a, b, delta)
	}
	for _, col := range []int{ColStatus, ColAdjustments, ColRemark} {
		r = append(r, field(l.A, col), field(l.B, col))
	}
	names := make([]string, len(l.Columns))
	for i, col := range l.Columns {
		names[i] = Columns[col]
	}
	r = append(r, strings.Join(names, " "))
	if err := c.w.Write(r); err != nil {
		return fmt.Errorf("diff: diff.csv: %w", err)
	}
	return nil
}

func field(r *Row, col int) string {
	if r == nil {
		return ""
	}
	return r.Fields[col]
}

// Flush writes the header if no row was written, and flushes.
func (c *CSVWriter) Flush() error {
	if err := c.writeHeader(); err != nil {
		return fmt.Errorf("diff: diff.csv: %w", err)
	}
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("diff: diff.csv: %w", err)
	}
	return nil
}
