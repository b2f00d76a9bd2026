package plan_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/engine"
	"claimsbatch/plan"
)

// FuzzPlanParse: any bytes give an error wrapping ErrInvalid, or a plan that
// holds what the engine relies on (and that the engine accepts). Never a
// panic, never a hang. To fuzz:
//
//	go test -run '^$' -fuzz '^FuzzPlanParse$' -fuzztime 5m -fuzzminimizetime 100x ./plan/
//
// testdata/fuzz/FuzzPlanParse keeps the inputs that once failed.
func FuzzPlanParse(f *testing.F) {
	base := plan.DefaultYAML()
	f.Add(base)
	f.Add([]byte{})
	f.Add(base[:len(base)/2])                                                       // truncated
	f.Add(bytes.Replace(base, []byte("\n  "), []byte("\n\t"), 1))                   // a tab in the indentation
	f.Add(bytes.Replace(base, []byte("days:"), []byte("dayz:"), 1))                 // unknown key
	f.Add(bytes.Replace(base, []byte("module: core"), []byte("module: [core]"), 1)) // wrong kind
	f.Add(bytes.Replace(base, []byte("currencies:"), []byte("currencies: [USD, usd, USD]\nx_currencies:"), 1))
	f.Add(bytes.Replace(base, []byte("coinsurance_options: ["), []byte("coinsurance_options: [1e100000000, -1e-100000000, "), 1))
	f.Add(bytes.Replace(base, []byte("limit: {USD: 5000"), []byte("limit: {USD: 99999999999999999999"), 1))
	f.Add([]byte("name: x\ncurrencies: [USD]\nmodules:\n  core: {}\nbenefits:\n  - {code: A, module: core}\n"))
	f.Add([]byte("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"))
	f.Add([]byte(strings.Repeat("[", 10_000)))
	f.Add([]byte("name: \xff\xfe\ncurrencies: [USD]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := plan.Parse("fuzz.yaml", data)
		if err != nil {
			if !errors.Is(err, plan.ErrInvalid) || !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("error %v does not wrap ErrInvalid or name the file", err)
			}
			return
		}
		checkPlan(t, p)
		engine.New(p)
	})
}

// checkPlan asserts the invariants of a plan that Parse accepted.
func checkPlan(t *testing.T, p *plan.Plan) {
	t.Helper()
	n := len(p.Currencies)
	if p.Name == "" || n == 0 || len(p.Benefits) == 0 || !p.Modules[claim.Core].Present {
		t.Fatalf("plan without a name, currencies, benefits or core: %+v", p)
	}
	for i, c := range p.Currencies {
		if p.CurrencyIndex(c) != i {
			t.Fatalf("currency %s listed twice", c)
		}
	}
	amounts := func(what string, a plan.Amounts) {
		if a == nil {
			return
		}
		if len(a) != n {
			t.Fatalf("%s: %d amounts for %d currencies", what, len(a), n)
		}
		for _, m := range a {
			if m < 0 {
				t.Fatalf("%s: negative amount %s", what, m)
			}
		}
	}
	options := func(what string, o [][]claim.Money) {
		if o == nil {
			return
		}
		if len(o) != n {
			t.Fatalf("%s: options for %d of %d currencies", what, len(o), n)
		}
		for _, list := range o {
			if len(list) == 0 {
				t.Fatalf("%s: no options for a currency", what)
			}
			for i, m := range list {
				if m < 0 || i > 0 && m < list[i-1] {
					t.Fatalf("%s: options %v not ascending and non-negative", what, list)
				}
			}
		}
	}
	for m := range p.Modules {
		mod := &p.Modules[m]
		amounts("annual maximum", mod.AnnualMaximum)
		options("deductibles", mod.Deductibles)
		options("out-of-pocket maximums", mod.OOPMaximums)
		for _, c := range mod.Coinsurance {
			if c < 0 || c > 10000 {
				t.Fatalf("coinsurance %d basis points", c)
			}
		}
	}
	amounts("per-condition cap", p.ConditionCap)
	amounts("out-of-area limit", p.OutOfAreaLimit)
	if p.OutOfAreaDaysPerTrip < 0 || p.OutOfAreaDaysPerYear < 0 || p.TripGapDays < 0 || p.OriginDaysPerYear < 0 {
		t.Fatalf("negative day limit")
	}
	for _, g := range p.Groups {
		amounts("group "+g.Name, g.Limit)
		if g.Days < 0 {
			t.Fatalf("group %s: %d days", g.Name, g.Days)
		}
	}
	for i := range p.Benefits {
		b := &p.Benefits[i]
		id, needsItem, ok := p.Lookup(b.Code)
		if !ok || int(id) != i || needsItem != b.LimitPerItem || p.Benefit(id) != b {
			t.Fatalf("benefit %d (%s) does not look itself up", i, b.Code)
		}
		if !p.Modules[b.Module].Present || b.Group < -1 || b.Group >= len(p.Groups) {
			t.Fatalf("benefit %s: module %v, group %d", b.Code, b.Module, b.Group)
		}
		amounts(b.Code+" limit", b.Limit)
		amounts(b.Code+" per-line limit", b.PerLineLimit)
		amounts(b.Code+" cash per unit", b.CashPerUnit)
		if (b.LimitPerItem || b.Period == plan.Lifetime) && b.Limit == nil {
			t.Fatalf("benefit %s: per-item or lifetime without a limit", b.Code)
		}
		if b.Days < 0 || b.LinesPerYear < 0 || b.WaitingMonths < 0 || b.Reimbursement < 0 || b.Reimbursement > 10000 ||
			b.MinAge < -1 || b.MaxAge < -1 {
			t.Fatalf("benefit %s: out of range %+v", b.Code, b)
		}
		if b.Module != claim.Dental && b.Reimbursement != 0 {
			t.Fatalf("benefit %s: reimbursement %d in module %v", b.Code, b.Reimbursement, b.Module)
		}
	}
}

// TestParsePercentOutOfRange: a percentage too large for int64 basis points
// is rejected, not wrapped (184467440737095517 % once read as 0.84 %).
func TestParsePercentOutOfRange(t *testing.T) {
	base := plan.DefaultYAML()
	for _, pct := range []string{"184467440737095517", "-184467440737095516.16", "1e30"} {
		data := bytes.Replace(base, []byte("coinsurance_options: ["), []byte("coinsurance_options: ["+pct+", "), 1)
		if bytes.Equal(data, base) {
			t.Fatal("no coinsurance_options in the plan")
		}
		_, err := plan.Parse("altered.yaml", data)
		if !errors.Is(err, plan.ErrInvalid) || !strings.Contains(err.Error(), "coinsurance_options[0]: must be between 0 and 100") {
			t.Errorf("%s: err = %v", pct, err)
		}
	}
}
