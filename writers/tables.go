package writers

import (
	"fmt"
	"io"

	"claimsbatch/claim"
)

// The tables' schemas: column names and order as in SPEC section 7. The CSV
// header is made from the same schema. codeColumn marks the text columns
// with few distinct values per row group (codes, currencies, the run id,
// the engine's remarks), which Parquet stores dictionary-encoded;
// opaqueColumn the text columns whose values are in no order within a row
// group (claim and provider ids, free text), which get no min and max
// statistics.
var (
	remittanceSchema = []colSpec{
		codeColumn("run_id"),
		opaqueColumn("claim_id"),
		int32Column("line_no"),
		textColumn("member_id"),
		textColumn("policy_id"),
		optionalDateColumn("policy_year_start"),
		dateColumn("service_date"),
		codeColumn("benefit_code"),
		codeColumn("module"),
		codeColumn("payee_type"),
		opaqueColumn("payee_id"),
		codeColumn("billed_currency"),
		amountColumn("billed_amount"),
		codeColumn("plan_currency"),
		rateColumn("fx_rate"),
		amountColumn("charge"),
		amountColumn("deductible"),
		amountColumn("coinsurance"),
		amountColumn("not_covered"),
		amountColumn("plan_paid"),
		amountColumn("member_responsibility"),
		codeColumn("status"),
		opaqueColumn("adjustments"),
		codeColumn("remark"),
		// Not in SPEC section 7's list: the line's procedure_code (SPEC 3.1,
		// version 2), which the X12 835's service lines need. Last, so
		// positional readers of the SPEC's columns are not disturbed.
		codeColumn("procedure_code"),
	}

	paymentsSchema = []colSpec{
		codeColumn("payee_type"),
		textColumn("payee_id"),
		codeColumn("plan_currency"),
		int64Column("line_count"),
		amountColumn("plan_paid"),
	}

	exceptionsSchema = []colSpec{
		codeColumn("source"),
		int64Column("row"),
		textColumn("claim_id"),
		textColumn("line_no"), // as read: it may be what failed to parse
		textColumn("member_id"),
		codeColumn("code"),
		codeColumn("field"),
		textColumn("message"),
		textColumn("raw"),
	}

	stateSchema = []colSpec{
		codeColumn("kind"),
		textColumn("member_id"),
		optionalDateColumn("scope"),
		opaqueColumn("key"),
		amountColumn("amount"),
		int64Column("count"),
		opaqueColumn("detail"),
	}
)

// RemittanceWriter writes remittance rows: one per adjudicated line.
type RemittanceWriter struct {
	t         *table[claim.Result]
	runID     string
	runIDCode bool // runID needs no CSV quoting: written as a code
}

// NewRemittanceWriter returns a writer of the remittance table to w in format
// f; every row's run_id is runID.
func NewRemittanceWriter(w io.Writer, f Format, runID string) (*RemittanceWriter, error) {
	rw := &RemittanceWriter{runID: runID, runIDCode: !csvNeedsQuotes(runID)}
	t, err := newTable(w, f, "remittance", remittanceSchema, rw.emit)
	if err != nil {
		return nil, err
	}
	rw.t = t
	return rw, nil
}

func (w *RemittanceWriter) emit(e encoder, r *claim.Result) { emitRemittance(e, r, w) }

// emitRemittance emits one remittance row. The enumerations' names, and
// the run id when it needs no quoting, are written as codes: no CSV
// field check for text whose every value is known.
func emitRemittance(e encoder, r *claim.Result, w *RemittanceWriter) {
	l := r.Line
	if w.runIDCode {
		e.code(w.runID)
	} else {
		e.str(w.runID)
	}
	e.str(l.ClaimID)
	e.integer(int64(l.LineNo))
	e.str(l.MemberID)
	e.str(r.PolicyID)
	e.date(r.PolicyYearStart)
	e.date(l.ServiceDate)
	e.str(l.BenefitCode)
	e.code(r.Module.String())
	e.code(l.Payee.String())
	e.str(r.PayeeID())
	e.str(l.Currency)
	e.money(l.Billed)
	e.str(l.PlanCurrency)
	e.rate(l.FXRate)
	e.money(r.Charge)
	e.money(r.Deductible)
	e.money(r.Coinsurance)
	e.money(r.NotCovered)
	e.money(r.PlanPaid)
	e.money(r.MemberResponsibility())
	e.code(r.Status.String())
	e.adjustments(&r.Adjustments)
	e.str(r.Remark)
	e.str(l.ProcedureCode)
}

// Write writes one row per result, in the order given. Every result must
// have its Line.
func (w *RemittanceWriter) Write(results []claim.Result) error { return w.t.write(results) }

// Close flushes the table and returns the first error of the stream. It
// does not close the underlying io.Writer.
func (w *RemittanceWriter) Close() error { return w.t.close() }

// SetGroupTimer times the Parquet row groups the writer writes in the
// background (nothing for CSV). Set it before the first Write.
func (w *RemittanceWriter) SetGroupTimer(f GroupTimer) { w.t.setGroupTimer(f) }

// Rows returns the number of rows written so far, for the manifest.
func (w *RemittanceWriter) Rows() int64 { return w.t.rows }

// RemittanceBlock holds remittance rows encoded ahead of writing, so that
// the encoding of a CSV remittance runs on the goroutines that make the
// results, and the writer's own goroutine only writes bytes. A block is
// reused: each Encode replaces its rows. The zero value is ready.
type RemittanceBlock struct {
	enc  *csvEncoder // without a writer: its rows stay in its buffer
	rows int64
}

// Encode encodes results into b, replacing what it held, and reports
// whether it did: only a CSV remittance is encoded ahead (a Parquet one is
// columns, which Write fills). Encode may run on any goroutine, on distinct
// blocks at once; the bytes are those Write would write.
func (w *RemittanceWriter) Encode(b *RemittanceBlock, results []claim.Result) bool {
	if _, ok := w.t.enc.(*csvEncoder); !ok {
		return false
	}
	if b.enc == nil {
		b.enc = &csvEncoder{buf: make([]byte, 0, 256*len(results))}
	}
	b.enc.buf = b.enc.buf[:0]
	for i := range results {
		emitRemittance(b.enc, &results[i], w)
		_ = b.enc.endRow() // no writer: nothing to fail
	}
	b.rows = int64(len(results))
	return true
}

// WriteBlock writes the rows of a block Encode filled, after those written
// before, as Write would have written them.
func (w *RemittanceWriter) WriteBlock(b *RemittanceBlock) error {
	t := w.t
	if t.err != nil {
		return t.err
	}
	if t.closed {
		return fmt.Errorf("writers: %s: write: %w", t.name, ErrClosed)
	}
	enc, ok := t.enc.(*csvEncoder)
	if !ok || b.enc == nil {
		return fmt.Errorf("writers: %s: a block written that was not encoded for it", t.name)
	}
	if err := enc.writeEncoded(b.enc.buf); err != nil {
		t.err = fmt.Errorf("writers: %s row %d: %w", t.name, t.rows+1, err)
		return t.err
	}
	t.rows += b.rows
	return nil
}

// PaymentRow is one row of the payments table: what the plan pays one payee
// in one plan currency.
type PaymentRow struct {
	PayeeType    claim.PayeeType
	PayeeID      string
	PlanCurrency string
	LineCount    int64
	PlanPaid     claim.Money
}

// PaymentsWriter writes the payments table.
type PaymentsWriter struct{ t *table[PaymentRow] }

// NewPaymentsWriter returns a writer of the payments table to w in format f.
func NewPaymentsWriter(w io.Writer, f Format) (*PaymentsWriter, error) {
	t, err := newTable(w, f, "payments", paymentsSchema, emitPayment)
	if err != nil {
		return nil, err
	}
	return &PaymentsWriter{t: t}, nil
}

func emitPayment(e encoder, p *PaymentRow) {
	e.str(p.PayeeType.String())
	e.str(p.PayeeID)
	e.str(p.PlanCurrency)
	e.integer(p.LineCount)
	e.money(p.PlanPaid)
}

// Write writes one row per PaymentRow, in the order given.
func (w *PaymentsWriter) Write(rows []PaymentRow) error { return w.t.write(rows) }

// Close flushes the table and returns the first error of the stream. It
// does not close the underlying io.Writer.
func (w *PaymentsWriter) Close() error { return w.t.close() }

// Rows returns the number of rows written so far, for the manifest.
func (w *PaymentsWriter) Rows() int64 { return w.t.rows }

// ExceptionsWriter writes the exceptions table.
type ExceptionsWriter struct{ t *table[claim.Exception] }

// NewExceptionsWriter returns a writer of the exceptions table to w in format f.
func NewExceptionsWriter(w io.Writer, f Format) (*ExceptionsWriter, error) {
	t, err := newTable(w, f, "exceptions", exceptionsSchema, emitException)
	if err != nil {
		return nil, err
	}
	return &ExceptionsWriter{t: t}, nil
}

func emitException(e encoder, x *claim.Exception) {
	e.str(x.Source)
	e.integer(x.Row)
	e.str(x.ClaimID)
	e.str(x.LineNo)
	e.str(x.MemberID)
	e.str(string(x.Code))
	e.str(x.Field)
	e.str(x.Message)
	e.str(x.Raw)
}

// Write writes one row per exception, in the order given.
func (w *ExceptionsWriter) Write(ex []claim.Exception) error { return w.t.write(ex) }

// Close flushes the table and returns the first error of the stream. It
// does not close the underlying io.Writer.
func (w *ExceptionsWriter) Close() error { return w.t.close() }

// Rows returns the number of rows written so far, for the manifest.
func (w *ExceptionsWriter) Rows() int64 { return w.t.rows }

// StateWriter writes the state table and, at Close, its trailer: the END
// row of claim.StateDigest over every record written (state version 4).
type StateWriter struct {
	t      *table[claim.StateRecord]
	digest *claim.StateDigest
}

// NewStateWriter returns a writer of the state table to w in format f.
func NewStateWriter(w io.Writer, f Format) (*StateWriter, error) {
	t, err := newTable(w, f, "state", stateSchema, emitState)
	if err != nil {
		return nil, err
	}
	return &StateWriter{t: t, digest: claim.NewStateDigest()}, nil
}

func emitState(e encoder, s *claim.StateRecord) {
	e.str(s.Kind)
	e.str(s.MemberID)
	e.date(s.Scope)
	e.str(s.Key)
	e.money(s.Amount)
	e.integer(s.Count)
	e.str(s.Detail)
}

// Write writes one row per record, in the order given. A record of kind
// claim.KindEnd is refused: the writer writes the one trailer itself.
func (w *StateWriter) Write(recs []claim.StateRecord) error {
	for i := range recs {
		if recs[i].Kind == claim.KindEnd {
			return fmt.Errorf("writers: state: a record of kind %s is the writer's own trailer", claim.KindEnd)
		}
		w.digest.Add(&recs[i])
	}
	return w.t.write(recs)
}

// Close writes the END row, flushes the table and returns the first error
// of the stream. It does not close the underlying io.Writer.
func (w *StateWriter) Close() error {
	if w.t.err == nil && !w.t.closed {
		end := w.digest.Trailer()
		if err := w.t.write([]claim.StateRecord{end}); err != nil {
			w.t.close()
			return err
		}
	}
	return w.t.close()
}

// Rows returns the number of rows written so far, for the manifest; after
// Close it counts the END row too.
func (w *StateWriter) Rows() int64 { return w.t.rows }

// SetGroupTimer times the Parquet row groups the writer writes in the
// background (nothing for CSV). Set it before the first Write.
func (w *StateWriter) SetGroupTimer(f GroupTimer) { w.t.setGroupTimer(f) }
