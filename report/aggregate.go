package report

import (
	"cmp"
	"fmt"
	"slices"

	"claimsbatch/claim"
	"claimsbatch/internal/rundir"
	"claimsbatch/readers"
)

// Statuses in the order the page lists them.
var statuses = []string{"PAID", "PARTIAL", "MEMBER_PAID", "DENIED"}

// Modules in the order the page lists them.
var modules = []string{"core", "outpatient", "dental"}

// money is the totals of one plan currency.
type money struct {
	lines                int64
	charge               claim.Money
	planPaid             claim.Money
	paidProvider         claim.Money // plan_paid of lines whose payee is a provider
	paidMember           claim.Money // plan_paid of lines paid to the member
	deductible           claim.Money
	coinsurance          claim.Money
	notCovered           claim.Money
	memberResponsibility claim.Money
}

// group is the lines and plan_paid of a module or benefit in one currency.
type group struct {
	lines int64
	paid  claim.Money
}

type key struct{ currency, name string }

// reason is a not-covered reason code's lines and amount in one currency.
type reason struct {
	lines  int64
	amount claim.Money
}

// totals is everything the page shows that comes from the tables. Its size
// is bounded by currencies x (modules + benefits + reason codes + statuses)
// and by sources x exception codes, never by lines.
type totals struct {
	currencies []string // sorted
	byCurrency map[string]*money
	byStatus   map[key]int64 // (currency, status) -> lines
	byModule   map[key]*group
	byBenefit  map[key]*group
	byReason   map[key]*reason // (currency, code): not-covered codes only

	exceptions       int64
	exceptionsByCode map[string]int64
	bySource         map[string]map[string]int64 // source -> code -> rows
	sources          []string                    // in first-seen order (the exceptions file's input order)
}

func newTotals() *totals {
	return &totals{
		byCurrency: map[string]*money{}, byStatus: map[key]int64{},
		byModule: map[key]*group{}, byBenefit: map[key]*group{}, byReason: map[key]*reason{},
		exceptionsByCode: map[string]int64{}, bySource: map[string]map[string]int64{},
	}
}

// Remittance columns read, in this order.
const (
	colCurrency = iota
	colModule
	colBenefit
	colPayeeType
	colStatus
	colCharge
	colPlanPaid
	colDeductible
	colCoinsurance
	colNotCovered
	colMemberResponsibility
	colAdjustments
	numCols
)

var remittanceColumns = []readers.TableColumn{
	{Name: "plan_currency"}, {Name: "module"}, {Name: "benefit_code"}, {Name: "payee_type"}, {Name: "status"},
	{Name: "charge"}, {Name: "plan_paid"}, {Name: "deductible"}, {Name: "coinsurance"}, {Name: "not_covered"},
	{Name: "member_responsibility"}, {Name: "adjustments"},
}

// addRemittance streams the remittance table at path into t.
func (t *totals) addRemittance(path string, opt readers.Options) error {
	r, err := readers.OpenTable(path, remittanceColumns, opt)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer r.Close()
	var (
		amounts [numCols]claim.Money
		adjust  []rundir.Adjustment
	)
	for r.Next() {
		rec := r.Record()
		for c := colCharge; c <= colMemberResponsibility; c++ {
			v, err := claim.ParseMoney(rec[c])
			if err != nil {
				return fmt.Errorf("report: %s row %d column %s: %q: %w", path, r.Row(), remittanceColumns[c].Name, rec[c], err)
			}
			amounts[c] = v
		}
		if adjust, err = rundir.ParseAdjustments(adjust[:0], rec[colAdjustments]); err != nil {
			return fmt.Errorf("report: %s row %d column adjustments: %w", path, r.Row(), err)
		}
		cur := rec[colCurrency]
		m := t.byCurrency[cur]
		if m == nil {
			m = &money{}
			t.byCurrency[cur] = m
			t.currencies = append(t.currencies, cur)
			slices.Sort(t.currencies)
		}
		m.lines++
		m.charge += amounts[colCharge]
		m.planPaid += amounts[colPlanPaid]
		if rec[colPayeeType] == "member" {
			m.paidMember += amounts[colPlanPaid]
		} else {
			m.paidProvider += amounts[colPlanPaid]
		}
		m.deductible += amounts[colDeductible]
		m.coinsurance += amounts[colCoinsurance]
		m.notCovered += amounts[colNotCovered]
		m.memberResponsibility += amounts[colMemberResponsibility]
		t.byStatus[key{cur, rec[colStatus]}]++
		addGroup(t.byModule, key{cur, rec[colModule]}, amounts[colPlanPaid])
		addGroup(t.byBenefit, key{cur, rec[colBenefit]}, amounts[colPlanPaid])
		for _, a := range adjust {
			if a.Code == "PR-1" || a.Code == "PR-2" {
				continue // cost share, not "not covered"
			}
			rs := t.byReason[key{cur, a.Code}]
			if rs == nil {
				rs = &reason{}
				t.byReason[key{cur, a.Code}] = rs
			}
			rs.lines++
			rs.amount += a.Amount
		}
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

func addGroup(m map[key]*group, k key, paid claim.Money) {
	g := m[k]
	if g == nil {
		g = &group{}
		m[k] = g
	}
	g.lines++
	g.paid += paid
}

// addExceptions streams the exceptions table at path into t.
func (t *totals) addExceptions(path string, opt readers.Options) error {
	r, err := readers.OpenTable(path, []readers.TableColumn{{Name: "source"}, {Name: "code"}}, opt)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer r.Close()
	for r.Next() {
		source, code := r.Record()[0], r.Record()[1]
		t.exceptions++
		t.exceptionsByCode[code]++
		codes := t.bySource[source]
		if codes == nil {
			codes = map[string]int64{}
			t.bySource[source] = codes
			t.sources = append(t.sources, source)
		}
		codes[code]++
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// names returns the names used in m's keys, sorted by order (names not in
// order after them, alphabetically).
func names[V any](m map[key]V, order []string) []string {
	seen := map[string]bool{}
	var out []string
	for k := range m {
		if !seen[k.name] {
			seen[k.name] = true
			out = append(out, k.name)
		}
	}
	rank := func(s string) int {
		if i := slices.Index(order, s); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortFunc(out, func(a, b string) int { return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b)) })
	return out
}
