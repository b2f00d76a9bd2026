package diff

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopspring/decimal"
	"golang.org/x/sync/errgroup"

	"claimsbatch/claim"
	"claimsbatch/internal/rundir"
	"claimsbatch/readers"
)

// Sentinel errors; every error a Differ returns names the run and file.
var (
	// ErrOrder: a remittance or payments file is not in the order the SPEC
	// writes it, so the streaming join cannot be trusted.
	ErrOrder = errors.New("diff: file out of order")
	// ErrDuplicate: the same (claim_id, line_no) twice in one remittance,
	// found when both copies wait in the pending rows of a member. (A
	// remittance never has one; elsewhere a duplicate shows as a line of
	// one run only, since finding every duplicate would take a set of all
	// keys.)
	ErrDuplicate = errors.New("diff: duplicate line")
	// ErrValue: an amount or adjustments value does not parse.
	ErrValue = errors.New("diff: bad value")
	// ErrMissingTable: one run has a table the other has not (say a
	// validate run against a run).
	ErrMissingTable = errors.New("diff: table missing")
)

// Columns are the remittance columns a diff reads and compares, in SPEC
// order: every column but run_id.
var Columns = [...]string{
	"claim_id", "line_no", "member_id", "policy_id", "policy_year_start", "service_date",
	"benefit_code", "module", "payee_type", "payee_id", "billed_currency", "billed_amount",
	"plan_currency", "fx_rate", "charge", "deductible", "coinsurance", "not_covered",
	"plan_paid", "member_responsibility", "status", "adjustments", "remark",
}

// Indexes into Columns and Row.Fields.
const (
	ColClaimID = iota
	ColLineNo
	ColMemberID
	ColPolicyID
	ColPolicyYearStart
	ColServiceDate
	ColBenefitCode
	ColModule
	ColPayeeType
	ColPayeeID
	ColBilledCurrency
	ColBilledAmount
	ColPlanCurrency
	ColFXRate
	ColCharge
	ColDeductible
	ColCoinsurance
	ColNotCovered
	ColPlanPaid
	ColMemberResponsibility
	ColStatus
	ColAdjustments
	ColRemark
	NumColumns
)

// Measure is one of the amounts the totals add up.
type Measure int

// The measures, in the order the summary lists them.
const (
	Charge Measure = iota
	PlanPaid
	Deductible
	Coinsurance
	NotCovered
	NumMeasures
)

var measureColumn = [NumMeasures]int{ColCharge, ColPlanPaid, ColDeductible, ColCoinsurance, ColNotCovered}

// String returns the measure's column name.
func (m Measure) String() string { return Columns[measureColumn[m]] }

// Row is one remittance line as read.
type Row struct {
	Fields  [NumColumns]string       // as read, indexed by the Col constants
	Amounts [NumMeasures]claim.Money // parsed, indexed by Measure
	Adjust  []rundir.Adjustment      // the adjustments column, parsed
	RowNo   int64                    // data record number in its file, from 1
}

// Kind says how a line differs.
type Kind uint8

// Kinds of differing lines.
const (
	Changed Kind = iota + 1 // in both runs, some column differs
	OnlyInA
	OnlyInB
)

// String returns the kind as diff.csv writes it.
func (k Kind) String() string {
	switch k {
	case Changed:
		return "changed"
	case OnlyInA:
		return "only_in_a"
	case OnlyInB:
		return "only_in_b"
	}
	return ""
}

// Line is one line that differs between the runs.
type Line struct {
	Kind Kind
	A, B *Row // nil on the side that lacks the line
	// Columns lists the indexes (Col constants) of the columns that differ,
	// in column order; empty unless Kind is Changed.
	Columns []int
}

// Options tunes a Differ. The zero value is ready to use.
type Options struct {
	// TopPayees is how many payee changes, the largest by plan_paid, the
	// summary lists; 0 means 20.
	TopPayees int
	// Reader options for every table read; the zero value is fine.
	Reader readers.Options
}

// Differ joins two runs. Call Next until it returns false, then Err, then
// Summary:
//
//	d, err := diff.New(a, b, diff.Options{})
//	...
//	defer d.Close()
//	for d.Next() {
//		line := d.Line() // valid until the next call to Next
//	}
//	if err := d.Err(); err != nil { ... }
//	sum := d.Summary()
//
// Next reads the remittances; when they are done, it reads the exceptions
// and payments files before it returns false.
type Differ struct {
	runA, runB *rundir.Run
	opt        Options
	a, b       *side

	pendA, pendB pending
	pendMember   string // member_id of the pending rows

	group  *errgroup.Group // the two readers
	cancel context.CancelFunc

	queue []Line // lines found and not yet returned
	line  Line
	err   error
	done  bool // Next has returned false

	sums    totals
	sum     *Summary
	adjSeen map[string]int8 // scratch for compareAdjust: code -> which sides

	peakPending int // most rows ever pending at once (tests check it)
}

// New opens both runs' remittances and starts reading them, each in its own
// goroutine, until Close or ctx's end. A run without a remittance (a
// validate run) has no lines; both must have one or neither
// (ErrMissingTable).
func New(ctx context.Context, a, b *rundir.Run, opt Options) (*Differ, error) {
	if opt.TopPayees <= 0 {
		opt.TopPayees = 20
	}
	d := &Differ{runA: a, runB: b, opt: opt, adjSeen: map[string]int8{}}
	d.sums.init()
	pathA, okA := a.Table(rundir.Remittance)
	pathB, okB := b.Table(rundir.Remittance)
	if okA != okB {
		return nil, missingTable(rundir.Remittance, a, b, okA)
	}
	d.a = &side{name: "A", path: pathA, sums: &d.sums.a}
	d.b = &side{name: "B", path: pathB, sums: &d.sums.b}
	if !okA {
		return d, nil
	}
	cols := make([]readers.TableColumn, NumColumns)
	for i, c := range Columns {
		cols[i] = readers.TableColumn{Name: c}
	}
	for _, s := range []*side{d.a, d.b} {
		r, err := readers.OpenTable(s.path, cols, opt.Reader)
		if err != nil {
			if d.a.r != nil {
				d.a.r.Close()
			}
			return nil, fmt.Errorf("diff: run %s: %w", s.name, err)
		}
		s.r = r
	}
	ctx, d.cancel = context.WithCancel(ctx)
	d.group, ctx = errgroup.WithContext(ctx)
	for _, s := range []*side{d.a, d.b} {
		s.rows = make(chan []*Row, 2)
		d.group.Go(func() error { return s.read(ctx) })
	}
	for _, s := range []*side{d.a, d.b} {
		if err := d.advance(s); err != nil {
			d.Close()
			return nil, err
		}
	}
	return d, nil
}

func missingTable(name string, a, b *rundir.Run, inA bool) error {
	has, lacks := a, b
	if !inA {
		has, lacks = b, a
	}
	return fmt.Errorf("%w: %s lists a %s, %s does not", ErrMissingTable, has.Dir, name, lacks.Dir)
}

// Close stops the reads and releases the files. It may be called more
// than once.
func (d *Differ) Close() error {
	if d.group == nil {
		return nil
	}
	d.cancel()
	err := d.group.Wait()
	d.group = nil
	if errors.Is(err, context.Canceled) {
		return nil // Close stopped the reads
	}
	return err
}

// Next finds the next line that differs; false when there are no more, or
// on an error (see Err).
func (d *Differ) Next() bool {
	for len(d.queue) == 0 {
		if d.err != nil || d.done {
			return false
		}
		if d.a.cur == nil && d.b.cur == nil {
			d.flush()
			if len(d.queue) == 0 {
				d.done = true
				d.err = d.finish()
				return false
			}
			break
		}
		d.err = d.step()
	}
	d.line = d.queue[0]
	d.queue[0] = Line{}
	d.queue = d.queue[1:]
	if len(d.queue) == 0 {
		d.queue = d.queue[:0:0] // let the backing array go once drained
	}
	return true
}

// Line returns the line Next found. Its rows are valid until the next call
// to Next.
func (d *Differ) Line() Line { return d.line }

// Err returns the error that stopped Next, or nil.
func (d *Differ) Err() error { return d.err }

// Summary returns the summary once Next has returned false with no error;
// nil before.
func (d *Differ) Summary() *Summary { return d.sum }

// step joins the current rows of both sides.
func (d *Differ) step() error {
	a, b := d.a.cur, d.b.cur
	lo := ""
	switch {
	case a == nil:
		lo = b.Fields[ColMemberID]
	case b == nil:
		lo = a.Fields[ColMemberID]
	default:
		lo = min(a.Fields[ColMemberID], b.Fields[ColMemberID])
	}
	if d.pending() && d.pendMember < lo {
		d.flush() // both files have passed the pending rows' member
	}
	switch {
	case b == nil || (a != nil && a.Fields[ColMemberID] < b.Fields[ColMemberID]):
		// B has no more rows of a's member: a matches a pending B row or
		// is A's only.
		if pb := d.pendB.take(a, d.pendMember); pb != nil {
			d.match(a, pb)
		} else {
			d.emit(Line{Kind: OnlyInA, A: a})
		}
		return d.advance(d.a)
	case a == nil || b.Fields[ColMemberID] < a.Fields[ColMemberID]:
		if pa := d.pendA.take(b, d.pendMember); pa != nil {
			d.match(pa, b)
		} else {
			d.emit(Line{Kind: OnlyInB, B: b})
		}
		return d.advance(d.b)
	}
	// The same member on both sides.
	if sameKey(a, b) {
		d.match(a, b)
	} else {
		d.pendMember = a.Fields[ColMemberID]
		if pb := d.pendB.take(a, d.pendMember); pb != nil {
			d.match(a, pb)
		} else if err := d.pendA.add(a, d.a); err != nil {
			return err
		}
		if pa := d.pendA.take(b, d.pendMember); pa != nil {
			d.match(pa, b)
		} else if err := d.pendB.add(b, d.b); err != nil {
			return err
		}
		d.peakPending = max(d.peakPending, d.pendA.n+d.pendB.n)
	}
	if err := d.advance(d.a); err != nil {
		return err
	}
	return d.advance(d.b)
}

// advance moves side s to its next row. When s's reader stopped on an
// error, the error returned is the first of the two readers' (the other
// one stops with context.Canceled once the first fails).
func (d *Differ) advance(s *side) error {
	err := s.advance()
	if err != nil && d.group != nil {
		d.cancel()
		if first := d.group.Wait(); first != nil {
			err = first
		}
	}
	return err
}

func sameKey(a, b *Row) bool {
	return a.Fields[ColClaimID] == b.Fields[ColClaimID] && a.Fields[ColLineNo] == b.Fields[ColLineNo]
}

func (d *Differ) pending() bool { return d.pendA.n > 0 || d.pendB.n > 0 }

// flush turns what is pending into lines of one run only: A's first, then
// B's, each in file order.
func (d *Differ) flush() {
	for _, r := range d.pendA.drain() {
		d.emit(Line{Kind: OnlyInA, A: r})
	}
	for _, r := range d.pendB.drain() {
		d.emit(Line{Kind: OnlyInB, B: r})
	}
	d.pendMember = ""
}

// emit queues a differing line and counts it.
func (d *Differ) emit(l Line) {
	d.sums.kinds[l.Kind]++
	d.queue = append(d.queue, l)
}

// match compares a line present in both runs.
func (d *Differ) match(a, b *Row) {
	d.sums.matched++
	d.compareAdjust(a, b)
	var cols []int
	for c := range NumColumns {
		if !equalField(c, a.Fields[c], b.Fields[c]) {
			cols = append(cols, c)
		}
	}
	if cols != nil {
		d.emit(Line{Kind: Changed, A: a, B: b, Columns: cols})
	}
}

// equalField compares one column's values: amounts and fx_rate by value,
// the rest as text.
func equalField(col int, a, b string) bool {
	if a == b {
		return true
	}
	switch col {
	case ColBilledAmount, ColCharge, ColDeductible, ColCoinsurance, ColNotCovered, ColPlanPaid, ColMemberResponsibility:
		ma, errA := claim.ParseMoney(a)
		mb, errB := claim.ParseMoney(b)
		return errA == nil && errB == nil && ma == mb
	case ColFXRate:
		da, errA := decimal.NewFromString(a)
		db, errB := decimal.NewFromString(b)
		return errA == nil && errB == nil && da.Equal(db)
	}
	return false
}

// compareAdjust counts, per reason code, the matched lines on which the
// code appeared, disappeared or changed its amount.
func (d *Differ) compareAdjust(a, b *Row) {
	if len(a.Adjust) == 0 && len(b.Adjust) == 0 {
		return
	}
	clear(d.adjSeen)
	for _, x := range a.Adjust {
		d.adjSeen[x.Code] |= 1
	}
	for _, y := range b.Adjust {
		d.adjSeen[y.Code] |= 2
	}
	for code, sides := range d.adjSeen {
		c := d.sums.code(code)
		switch sides {
		case 1:
			c.disappeared++
		case 2:
			c.appeared++
		default:
			if amountOf(a.Adjust, code) != amountOf(b.Adjust, code) {
				c.changed++
			}
		}
	}
}

func amountOf(adj []rundir.Adjustment, code string) claim.Money {
	var sum claim.Money
	for _, x := range adj {
		if x.Code == code {
			sum += x.Amount
		}
	}
	return sum
}

// pending holds rows of one member waiting for their partner, in file
// order; rows already taken are nil.
type pending struct {
	index map[string]int // "claim_id\x1fline_no" -> position in rows
	rows  []*Row
	n     int // rows not yet taken
}

func keyOf(r *Row) string { return r.Fields[ColClaimID] + "\x1f" + r.Fields[ColLineNo] }

// add holds r; a key already held is the same line twice in one file.
func (p *pending) add(r *Row, s *side) error {
	if p.index == nil {
		p.index = map[string]int{}
	}
	k := keyOf(r)
	if _, dup := p.index[k]; dup {
		return fmt.Errorf("%w: run %s: %s row %d: claim_id %q line_no %s appears twice", ErrDuplicate, s.name, s.path, r.RowNo, r.Fields[ColClaimID], r.Fields[ColLineNo])
	}
	p.index[k] = len(p.rows)
	p.rows = append(p.rows, r)
	p.n++
	return nil
}

// take removes and returns the held row with r's key, or nil. Rows are held
// only for member; another member's row has no partner here.
func (p *pending) take(r *Row, member string) *Row {
	if p.n == 0 || r.Fields[ColMemberID] != member {
		return nil
	}
	k := keyOf(r)
	i, ok := p.index[k]
	if !ok {
		return nil
	}
	delete(p.index, k)
	held := p.rows[i]
	p.rows[i] = nil
	p.n--
	return held
}

// drain returns the rows not taken, in file order, and empties p (keeping
// its storage for the next member).
func (p *pending) drain() []*Row {
	var out []*Row
	for _, r := range p.rows {
		if r != nil {
			out = append(out, r)
		}
	}
	clear(p.index)
	clear(p.rows)
	p.rows = p.rows[:0]
	p.n = 0
	return out
}
