package diff

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"claimsbatch/claim"
	"claimsbatch/internal/rundir"
	"claimsbatch/readers"
)

// Summary is what a diff found, in the order diff.json lists it. Every list
// is sorted (currencies, modules, benefits and exception codes by name,
// reason codes in the SPEC's adjustments order), so the same two runs give
// the same bytes.
type Summary struct {
	A         RunRef `json:"a"`
	B         RunRef `json:"b"`
	Identical bool   `json:"identical"`
	Lines     Lines  `json:"lines"`
	// Totals are the whole runs' totals per plan currency, A, B and delta
	// (B - A); ByModule and ByBenefit the same per module and per benefit.
	Totals      []CurrencyTotals `json:"totals"`
	ByModule    []ModuleTotals   `json:"by_module"`
	ByBenefit   []BenefitTotals  `json:"by_benefit"`
	ReasonCodes []ReasonCode     `json:"reason_codes"`
	Exceptions  Exceptions       `json:"exceptions"`
	Payments    Payments         `json:"payments"`
}

// RunRef names one of the two runs.
type RunRef struct {
	Dir        string `json:"dir"`
	RunID      string `json:"run_id"`
	Plan       string `json:"plan"`
	PlanSHA256 string `json:"plan_sha256"`
}

// Lines counts the remittance lines.
type Lines struct {
	A         int64 `json:"a"`
	B         int64 `json:"b"`
	Changed   int64 `json:"changed"`
	OnlyInA   int64 `json:"only_in_a"`
	OnlyInB   int64 `json:"only_in_b"`
	Unchanged int64 `json:"unchanged"`
}

// Amounts is one amount in both runs; its JSON adds the delta B - A.
// Amounts are JSON strings with two decimals, as in the manifest.
type Amounts struct{ A, B claim.Money }

// Delta is B - A.
func (x Amounts) Delta() claim.Money { return x.B - x.A }

// MarshalJSON writes {"a": "1.00", "b": "2.00", "delta": "1.00"}.
func (x Amounts) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		A     string `json:"a"`
		B     string `json:"b"`
		Delta string `json:"delta"`
	}{x.A.String(), x.B.String(), x.Delta().String()})
}

// Counts is one count in both runs; its JSON adds the delta B - A.
type Counts struct{ A, B int64 }

// Delta is B - A.
func (x Counts) Delta() int64 { return x.B - x.A }

// MarshalJSON writes {"a": 1, "b": 2, "delta": 1}.
func (x Counts) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		A     int64 `json:"a"`
		B     int64 `json:"b"`
		Delta int64 `json:"delta"`
	}{x.A, x.B, x.Delta()})
}

// Measures are the totals of a set of lines in both runs.
type Measures struct {
	Lines       Counts  `json:"lines"`
	Charge      Amounts `json:"charge"`
	PlanPaid    Amounts `json:"plan_paid"`
	Deductible  Amounts `json:"deductible"`
	Coinsurance Amounts `json:"coinsurance"`
	NotCovered  Amounts `json:"not_covered"`
}

// Amount returns the measure m.
func (x *Measures) Amount(m Measure) Amounts {
	return [NumMeasures]Amounts{x.Charge, x.PlanPaid, x.Deductible, x.Coinsurance, x.NotCovered}[m]
}

// Differs reports whether any count or amount differs.
func (x *Measures) Differs() bool {
	if x.Lines.Delta() != 0 {
		return true
	}
	for m := range NumMeasures {
		if x.Amount(m).Delta() != 0 {
			return true
		}
	}
	return false
}

// CurrencyTotals are the totals of one plan currency.
type CurrencyTotals struct {
	PlanCurrency string `json:"plan_currency"`
	Measures
}

// ModuleTotals are the totals of one module in one plan currency.
type ModuleTotals struct {
	PlanCurrency string `json:"plan_currency"`
	Module       string `json:"module"`
	Measures
}

// BenefitTotals are the totals of one benefit in one plan currency.
type BenefitTotals struct {
	PlanCurrency string `json:"plan_currency"`
	BenefitCode  string `json:"benefit_code"`
	Measures
}

// ReasonCode is one adjustment reason code: on how many lines present in
// both runs it appeared, disappeared or changed its amount, and its total
// per plan currency over all lines of each run.
type ReasonCode struct {
	Code               string         `json:"code"`
	LinesAppeared      int64          `json:"lines_appeared"`
	LinesDisappeared   int64          `json:"lines_disappeared"`
	LinesAmountChanged int64          `json:"lines_amount_changed"`
	PerCurrency        []CodeCurrency `json:"per_currency"`
}

// CodeCurrency is a reason code's total in one plan currency.
type CodeCurrency struct {
	PlanCurrency string  `json:"plan_currency"`
	Amount       Amounts `json:"amount"`
}

// Exceptions counts the exceptions rows, in total and per code.
type Exceptions struct {
	Rows   Counts          `json:"rows"`
	ByCode []ExceptionCode `json:"by_code"`
}

// ExceptionCode is the count of one exception code.
type ExceptionCode struct {
	Code  string `json:"code"`
	Count Counts `json:"count"`
}

// Payments compares the payments files, payee by payee.
type Payments struct {
	Payees      Counts            `json:"payees"` // rows: (payee, currency) pairs
	Changed     int64             `json:"changed"`
	OnlyInA     int64             `json:"only_in_a"`
	OnlyInB     int64             `json:"only_in_b"`
	PerCurrency []PaymentCurrency `json:"per_currency"`
	// Largest are the payees whose plan_paid changed the most (by absolute
	// delta; then by payee type, id and currency), at most
	// Options.TopPayees of them, largest first.
	Largest []PayeeChange `json:"largest"`
}

// PaymentCurrency is the payments file's total of one plan currency.
type PaymentCurrency struct {
	PlanCurrency string  `json:"plan_currency"`
	LineCount    Counts  `json:"line_count"`
	PlanPaid     Amounts `json:"plan_paid"`
}

// PayeeChange is one payee whose payment differs.
type PayeeChange struct {
	PayeeType    string  `json:"payee_type"`
	PayeeID      string  `json:"payee_id"`
	PlanCurrency string  `json:"plan_currency"`
	Kind         string  `json:"change"` // changed, only_in_a or only_in_b
	LineCount    Counts  `json:"line_count"`
	PlanPaid     Amounts `json:"plan_paid"`
}

// bucket is the totals of a set of lines in one run.
type bucket struct {
	lines int64
	amt   [NumMeasures]claim.Money
}

func (b *bucket) add(r *Row) {
	b.lines++
	for m, v := range r.Amounts {
		b.amt[m] += v
	}
}

type groupKey struct{ currency, name string }

// sideTotals are one run's remittance totals.
type sideTotals struct {
	byCurrency map[string]*bucket
	byModule   map[groupKey]*bucket
	byBenefit  map[groupKey]*bucket
	byCode     map[groupKey]claim.Money // (currency, reason code)
	lines      int64
}

func (s *sideTotals) init() {
	s.byCurrency = map[string]*bucket{}
	s.byModule = map[groupKey]*bucket{}
	s.byBenefit = map[groupKey]*bucket{}
	s.byCode = map[groupKey]claim.Money{}
}

func (s *sideTotals) add(r *Row) {
	s.lines++
	cur := r.Fields[ColPlanCurrency]
	bucketOf(s.byCurrency, cur).add(r)
	bucketOf(s.byModule, groupKey{cur, r.Fields[ColModule]}).add(r)
	bucketOf(s.byBenefit, groupKey{cur, r.Fields[ColBenefitCode]}).add(r)
	for _, x := range r.Adjust {
		s.byCode[groupKey{cur, x.Code}] += x.Amount
	}
}

func bucketOf[K comparable](m map[K]*bucket, k K) *bucket {
	b := m[k]
	if b == nil {
		b = &bucket{}
		m[k] = b
	}
	return b
}

type codeCounts struct{ appeared, disappeared, changed int64 }

// totals is everything the remittance join adds up.
type totals struct {
	a, b    sideTotals
	matched int64
	kinds   [OnlyInB + 1]int64
	codes   map[string]*codeCounts
}

func (t *totals) init() {
	t.a.init()
	t.b.init()
	t.codes = map[string]*codeCounts{}
}

func (t *totals) code(code string) *codeCounts {
	c := t.codes[code]
	if c == nil {
		c = &codeCounts{}
		t.codes[code] = c
	}
	return c
}

func measuresOf(a, b *bucket) Measures {
	if a == nil {
		a = &bucket{}
	}
	if b == nil {
		b = &bucket{}
	}
	return Measures{
		Lines:       Counts{a.lines, b.lines},
		Charge:      Amounts{a.amt[Charge], b.amt[Charge]},
		PlanPaid:    Amounts{a.amt[PlanPaid], b.amt[PlanPaid]},
		Deductible:  Amounts{a.amt[Deductible], b.amt[Deductible]},
		Coinsurance: Amounts{a.amt[Coinsurance], b.amt[Coinsurance]},
		NotCovered:  Amounts{a.amt[NotCovered], b.amt[NotCovered]},
	}
}

// unionKeys returns the keys of both maps, sorted by cmpKey.
func unionKeys[K comparable, V any](a, b map[K]V, cmpKey func(x, y K) int) []K {
	keys := make([]K, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, cmpKey)
	return keys
}

func cmpGroup(x, y groupKey) int {
	return cmp.Or(cmp.Compare(x.currency, y.currency), cmp.Compare(x.name, y.name))
}

// finish reads the exceptions and payments files and builds the summary.
func (d *Differ) finish() error {
	s := &Summary{
		A: refOf(d.runA), B: refOf(d.runB),
		Totals: []CurrencyTotals{}, ByModule: []ModuleTotals{}, ByBenefit: []BenefitTotals{},
	}
	t := &d.sums
	s.Lines = Lines{
		A: t.a.lines, B: t.b.lines,
		Changed: t.kinds[Changed], OnlyInA: t.kinds[OnlyInA], OnlyInB: t.kinds[OnlyInB],
		Unchanged: t.matched - t.kinds[Changed],
	}
	for _, cur := range unionKeys(t.a.byCurrency, t.b.byCurrency, cmp.Compare[string]) {
		s.Totals = append(s.Totals, CurrencyTotals{cur, measuresOf(t.a.byCurrency[cur], t.b.byCurrency[cur])})
	}
	for _, k := range unionKeys(t.a.byModule, t.b.byModule, cmpGroup) {
		s.ByModule = append(s.ByModule, ModuleTotals{k.currency, k.name, measuresOf(t.a.byModule[k], t.b.byModule[k])})
	}
	for _, k := range unionKeys(t.a.byBenefit, t.b.byBenefit, cmpGroup) {
		s.ByBenefit = append(s.ByBenefit, BenefitTotals{k.currency, k.name, measuresOf(t.a.byBenefit[k], t.b.byBenefit[k])})
	}
	s.ReasonCodes = reasonCodes(t)

	var err error
	if s.Exceptions, err = d.exceptions(); err != nil {
		return err
	}
	if s.Payments, err = d.payments(); err != nil {
		return err
	}
	s.Identical = s.Lines.Changed == 0 && s.Lines.OnlyInA == 0 && s.Lines.OnlyInB == 0 &&
		s.Exceptions.Rows.Delta() == 0 && !slices.ContainsFunc(s.Exceptions.ByCode, func(e ExceptionCode) bool { return e.Count.Delta() != 0 }) &&
		s.Payments.Changed == 0 && s.Payments.OnlyInA == 0 && s.Payments.OnlyInB == 0
	d.sum = s
	return nil
}

func refOf(r *rundir.Run) RunRef {
	return RunRef{Dir: r.Dir, RunID: r.Manifest.RunID, Plan: r.Manifest.Plan.Name, PlanSHA256: r.Manifest.Plan.SHA256}
}

func reasonCodes(t *totals) []ReasonCode {
	// Every code seen: in either run's totals or in the per-line counts.
	seen := map[string]bool{}
	for k := range t.a.byCode {
		seen[k.name] = true
	}
	for k := range t.b.byCode {
		seen[k.name] = true
	}
	for c := range t.codes {
		seen[c] = true
	}
	codes := make([]string, 0, len(seen))
	for c := range seen {
		codes = append(codes, c)
	}
	slices.SortFunc(codes, rundir.CompareCodes)
	keys := unionKeys(t.a.byCode, t.b.byCode, cmpGroup)
	out := []ReasonCode{}
	for _, code := range codes {
		rc := ReasonCode{Code: code, PerCurrency: []CodeCurrency{}}
		if c := t.codes[code]; c != nil {
			rc.LinesAppeared, rc.LinesDisappeared, rc.LinesAmountChanged = c.appeared, c.disappeared, c.changed
		}
		for _, k := range keys {
			if k.name == code {
				rc.PerCurrency = append(rc.PerCurrency, CodeCurrency{k.currency, Amounts{t.a.byCode[k], t.b.byCode[k]}})
			}
		}
		out = append(out, rc)
	}
	return out
}

// tables opens the table base of both runs; nil readers when neither has
// it.
func (d *Differ) tables(base string, cols []readers.TableColumn) (ra, rb *readers.TableReader, err error) {
	pathA, okA := d.runA.Table(base)
	pathB, okB := d.runB.Table(base)
	if okA != okB {
		return nil, nil, missingTable(base, d.runA, d.runB, okA)
	}
	if !okA {
		return nil, nil, nil
	}
	if ra, err = readers.OpenTable(pathA, cols, d.opt.Reader); err != nil {
		return nil, nil, fmt.Errorf("diff: run A: %w", err)
	}
	if rb, err = readers.OpenTable(pathB, cols, d.opt.Reader); err != nil {
		ra.Close()
		return nil, nil, fmt.Errorf("diff: run B: %w", err)
	}
	return ra, rb, nil
}

func (d *Differ) exceptions() (Exceptions, error) {
	ex := Exceptions{ByCode: []ExceptionCode{}}
	ra, rb, err := d.tables(rundir.Exceptions, []readers.TableColumn{{Name: "code"}})
	if err != nil || ra == nil {
		return ex, err
	}
	defer ra.Close()
	defer rb.Close()
	counts := map[string]*Counts{}
	for i, r := range []*readers.TableReader{ra, rb} {
		for r.Next() {
			code := r.Record()[0]
			c := counts[code]
			if c == nil {
				c = &Counts{}
				counts[code] = c
			}
			if i == 0 {
				c.A++
				ex.Rows.A++
			} else {
				c.B++
				ex.Rows.B++
			}
		}
		if err := r.Err(); err != nil {
			return ex, fmt.Errorf("diff: run %c: %w", 'A'+i, err)
		}
	}
	for _, code := range unionKeys(counts, nil, cmp.Compare[string]) {
		ex.ByCode = append(ex.ByCode, ExceptionCode{code, *counts[code]})
	}
	return ex, nil
}

// payee is one row of a payments file.
type payee struct {
	typ, id, currency string
	lines             int64
	paid              claim.Money
}

// cmpPayee is the payments file's order: payee type (provider before
// member, the order of claim.PayeeType), payee id, plan currency.
func cmpPayee(x, y *payee) int {
	return cmp.Or(cmpPayeeType(x.typ, y.typ), cmp.Compare(x.id, y.id), cmp.Compare(x.currency, y.currency))
}

func cmpPayeeType(x, y string) int {
	rank := func(t string) int {
		switch t {
		case "provider":
			return 0
		case "member":
			return 1
		}
		return 2
	}
	return cmp.Or(cmp.Compare(rank(x), rank(y)), cmp.Compare(x, y))
}

// payeeReader reads a payments file in its sort order.
type payeeReader struct {
	name string // "A" or "B"
	r    *readers.TableReader
	cur  *payee
	last *payee
}

func (p *payeeReader) advance() error {
	p.cur = nil
	if !p.r.Next() {
		if err := p.r.Err(); err != nil {
			return fmt.Errorf("diff: run %s: %w", p.name, err)
		}
		return nil
	}
	rec := p.r.Record()
	row := p.r.Row()
	x := &payee{typ: rec[0], id: rec[1], currency: rec[2]}
	var err error
	if x.lines, err = strconv.ParseInt(rec[3], 10, 64); err != nil {
		return fmt.Errorf("%w: run %s: payments row %d column line_count: %q is not an integer", ErrValue, p.name, row, rec[3])
	}
	if x.paid, err = claim.ParseMoney(rec[4]); err != nil {
		return fmt.Errorf("%w: run %s: payments row %d column plan_paid: %q: %w", ErrValue, p.name, row, rec[4], err)
	}
	if p.last != nil && cmpPayee(p.last, x) >= 0 {
		return fmt.Errorf("%w: run %s: payments row %d: not after the row before in (payee_type, payee_id, plan_currency) order", ErrOrder, p.name, row)
	}
	p.last, p.cur = x, x
	return nil
}

func (d *Differ) payments() (Payments, error) {
	pay := Payments{PerCurrency: []PaymentCurrency{}, Largest: []PayeeChange{}}
	ra, rb, err := d.tables(rundir.Payments, []readers.TableColumn{
		{Name: "payee_type"}, {Name: "payee_id"}, {Name: "plan_currency"}, {Name: "line_count"}, {Name: "plan_paid"},
	})
	if err != nil || ra == nil {
		return pay, err
	}
	defer ra.Close()
	defer rb.Close()
	a, b := &payeeReader{name: "A", r: ra}, &payeeReader{name: "B", r: rb}
	if err := errors.Join(a.advance(), b.advance()); err != nil {
		return pay, err
	}
	perCurrency := map[string]*PaymentCurrency{}
	currency := func(cur string) *PaymentCurrency {
		pc := perCurrency[cur]
		if pc == nil {
			pc = &PaymentCurrency{PlanCurrency: cur}
			perCurrency[cur] = pc
		}
		return pc
	}
	top := topPayees{max: d.opt.TopPayees}
	for a.cur != nil || b.cur != nil {
		c := 0
		switch {
		case a.cur == nil:
			c = 1
		case b.cur == nil:
			c = -1
		default:
			c = cmpPayee(a.cur, b.cur)
		}
		ch := PayeeChange{}
		var key *payee
		if c <= 0 {
			key = a.cur
			pay.Payees.A++
			ch.LineCount.A, ch.PlanPaid.A = a.cur.lines, a.cur.paid
			pc := currency(a.cur.currency)
			pc.LineCount.A += a.cur.lines
			pc.PlanPaid.A += a.cur.paid
		}
		if c >= 0 {
			key = b.cur
			pay.Payees.B++
			ch.LineCount.B, ch.PlanPaid.B = b.cur.lines, b.cur.paid
			pc := currency(b.cur.currency)
			pc.LineCount.B += b.cur.lines
			pc.PlanPaid.B += b.cur.paid
		}
		ch.PayeeType, ch.PayeeID, ch.PlanCurrency = key.typ, key.id, key.currency
		switch {
		case c < 0:
			pay.OnlyInA++
			ch.Kind = OnlyInA.String()
			top.add(ch)
		case c > 0:
			pay.OnlyInB++
			ch.Kind = OnlyInB.String()
			top.add(ch)
		case ch.LineCount.Delta() != 0 || ch.PlanPaid.Delta() != 0:
			pay.Changed++
			ch.Kind = Changed.String()
			top.add(ch)
		}
		var errA, errB error
		if c <= 0 {
			errA = a.advance()
		}
		if c >= 0 {
			errB = b.advance()
		}
		if err := errors.Join(errA, errB); err != nil {
			return pay, err
		}
	}
	for _, cur := range unionKeys(perCurrency, nil, cmp.Compare[string]) {
		pay.PerCurrency = append(pay.PerCurrency, *perCurrency[cur])
	}
	pay.Largest = top.list
	return pay, nil
}

// topPayees keeps the max largest changes, sorted largest first.
type topPayees struct {
	max  int
	list []PayeeChange
}

func absMoney(m claim.Money) claim.Money { return max(m, -m) }

func cmpChange(x, y *PayeeChange) int {
	return cmp.Or(
		cmp.Compare(absMoney(y.PlanPaid.Delta()), absMoney(x.PlanPaid.Delta())), // larger first
		cmpPayeeType(x.PayeeType, y.PayeeType), cmp.Compare(x.PayeeID, y.PayeeID), cmp.Compare(x.PlanCurrency, y.PlanCurrency))
}

func (t *topPayees) add(c PayeeChange) {
	i, _ := slices.BinarySearchFunc(t.list, &c, func(e PayeeChange, c *PayeeChange) int { return cmpChange(&e, c) })
	if i >= t.max {
		return
	}
	t.list = slices.Insert(t.list, i, c)
	if len(t.list) > t.max {
		t.list = t.list[:t.max]
	}
}
