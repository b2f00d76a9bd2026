package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"claimsbatch/claim"
	"claimsbatch/internal/rundir"
	"claimsbatch/writers"
)

// page is what the template writes: every figure already formatted, every
// list in page order.
type page struct {
	RunID, ToolVersion string
	PlanName, PlanSHA  string
	StateIn            *writers.StateRef
	Notes              []string
	Problems           []string
	KPIs               []kpi
	HasLines           bool
	Currencies         []string
	Totals             []totalRow
	Status             statusView
	ModuleCharts       []hchart
	ModuleTable        []totalRow
	BenefitCharts      []hchart
	BenefitTable       []benefitRow
	Reasons            []reasonRow
	ReasonCharts       []hchart
	ExceptionRows      int64
	ExceptionsByCode   []countRow
	ExceptionsBySource []sourceRow
	HasExceptionsFile  bool
	Turnaround         turnaroundView
	Inputs             []inputRow
	Outputs            []outputRow
	ManifestLines      string
}

type kpi struct {
	Label  string
	Values []string // one big figure per line
	Detail string
}

// totalRow is one row of a table with a column per plan currency; Key
// names the figure in data-total="CURRENCY/key" attributes.
type totalRow struct {
	Label  string
	Key    string
	Sub    bool // an indented breakdown of the row above
	Strong bool
	Cells  []cell
}

type cell struct {
	ID    string // data-total value
	Value string
}

type statusView struct {
	Total    string
	Segments []segment
	Rows     []statusRow
}

type segment struct {
	X, Width string
	Class    string
	Tooltip  string
}

type statusRow struct {
	Status, Meaning, Lines, Share, Class string
}

type benefitRow struct {
	Code, Module string
	Cells        []benefitCell // per currency
}

type benefitCell struct{ Lines, Paid string }

type reasonRow struct {
	Code, Meaning, Lines string
	Amounts              []string // per currency; "" when none
}

type countRow struct {
	Code, Meaning, Count, Share string
}

type sourceRow struct {
	Source, Count string
	Codes         []string // "CODE n"
}

type turnaroundView struct {
	Measured    bool
	AsOf        string
	Target      int
	WithinShare string
	Within      string
	Over        string
	Lines       string
	Histogram   *vchart
}

type inputRow struct {
	Role, Path, Rows, Adjudicated, Exceptions, SHA256 string
}

type outputRow struct {
	Name, Rows, SHA256 string
}

// Meanings of the codes, from the SPEC.
var reasonMeanings = map[string]string{
	"PR-1":   "deductible",
	"PR-2":   "coinsurance",
	"PR-6":   "age rule of the benefit not met",
	"OA-18":  "duplicate of a service already adjudicated",
	"PR-26":  "service before coverage start",
	"PR-27":  "service after coverage ended or in a gap",
	"PR-35":  "lifetime maximum reached",
	"PR-96":  "outside the area of cover",
	"PR-119": "benefit maximum reached (amount, days or count)",
	"PR-179": "waiting period not served",
	"PR-204": "benefit module not held",
}

var exceptionMeanings = map[string]string{
	string(claim.ParseError):     "the row itself is malformed",
	string(claim.MissingField):   "a required field is empty",
	string(claim.InvalidValue):   "a field does not parse or is out of range",
	string(claim.UnknownBenefit): "benefit code not in the plan",
	string(claim.UnknownMember):  "member not in the members file",
	string(claim.InvalidMember):  "the member's coverage is invalid",
	string(claim.NoFXRate):       "no FX rate for the claim's currency",
	string(claim.DuplicateLine):  "(claim_id, line_no) already adjudicated",
}

var statusMeanings = map[string]string{
	"PAID":        "paid; the member pays only the cost share",
	"PARTIAL":     "paid in part; some of the charge not covered",
	"MEMBER_PAID": "all cost share; the plan pays nothing",
	"DENIED":      "nothing paid; the charge is not covered",
}

// Chart widths (px): module charts sit three to a row on a laptop screen,
// benefit and reason charts two.
const (
	moduleChartWidth  = 380
	benefitChartWidth = 560
	benefitBars       = 12 // then a note for the others
	maxProblems       = 10 // mismatches with the manifest listed on the page
)

func buildPage(in Input, t *totals) *page {
	m := in.Manifest
	ct := &m.ControlTotals
	p := &page{
		RunID: m.RunID, ToolVersion: m.ToolVersion, PlanName: m.Plan.Name, PlanSHA: m.Plan.SHA256,
		StateIn: m.StateIn, Notes: m.Notes, HasLines: in.Remittance != "",
		Currencies: t.currencies, HasExceptionsFile: in.Exceptions != "",
	}
	if p.HasLines {
		p.Problems = compareTotals(ct, t)
		if n := len(p.Problems); n > maxProblems {
			p.Problems = append(p.Problems[:maxProblems-1], fmt.Sprintf("and %d more", n-maxProblems+1))
		}
	}
	p.KPIs = kpis(ct, t, in.Turnaround)
	p.Totals = totalRows(t)
	p.Status = statusMix(t)
	p.ModuleCharts, p.ModuleTable = moduleViews(t)
	p.BenefitCharts, p.BenefitTable = benefitViews(t)
	p.Reasons, p.ReasonCharts = reasonViews(t)
	p.ExceptionRows = t.exceptions
	for _, code := range sortedKeys(t.exceptionsByCode) {
		n := t.exceptionsByCode[code]
		p.ExceptionsByCode = append(p.ExceptionsByCode, countRow{code, exceptionMeanings[code], formatCount(n), fmt.Sprintf("%.1f %%", percent(n, t.exceptions))})
	}
	for _, src := range t.sources {
		codes := t.bySource[src]
		var n int64
		var parts []string
		for _, code := range sortedKeys(codes) {
			n += codes[code]
			parts = append(parts, fmt.Sprintf("%s %s", code, formatCount(codes[code])))
		}
		p.ExceptionsBySource = append(p.ExceptionsBySource, sourceRow{src, formatCount(n), parts})
	}
	p.Turnaround = turnaroundOf(in.Turnaround)
	for _, i := range m.Inputs {
		adj := ""
		if i.Role == writers.RoleClaims {
			adj = formatCount(i.Adjudicated)
		}
		p.Inputs = append(p.Inputs, inputRow{i.Role, i.Path, formatCount(i.Rows), adj, formatCount(i.Exceptions), i.SHA256})
	}
	p.Outputs = outputRows(m.Outputs)
	return p
}

// outputRows lists the run's outputs but the page itself (the manifest
// lists report.html, whose hash the page cannot hold), so that the page
// built again from the published manifest has the same bytes. The X12 835
// files, one per provider payee and currency (thousands in a large run),
// take one row: their count, their segments and where their hashes are.
func outputRows(outputs []writers.Output) []outputRow {
	var rows []outputRow
	var x12Files, x12Segments int64
	for _, o := range outputs {
		switch {
		case o.Name == writers.ReportName:
		case strings.HasPrefix(o.Name, writers.X12Dir+"/"):
			x12Files++
			x12Segments += o.Rows
		default:
			rows = append(rows, outputRow{o.Name, formatCount(o.Rows), o.SHA256})
		}
	}
	if x12Files > 0 {
		files := "files"
		if x12Files == 1 {
			files = "file"
		}
		rows = append(rows, outputRow{
			Name:   fmt.Sprintf("%s/ (%s X12 835 %s)", writers.X12Dir, formatCount(x12Files), files),
			Rows:   formatCount(x12Segments) + " segments",
			SHA256: "each file's in manifest.json",
		})
	}
	return rows
}

// compareTotals lists where the tables disagree with the manifest's
// control totals (a run directory that was tampered with or mixed up).
func compareTotals(ct *writers.ControlTotals, t *totals) []string {
	var out []string
	var lines int64
	for _, cur := range t.currencies {
		lines += t.byCurrency[cur].lines
	}
	if lines != ct.LinesAdjudicated {
		out = append(out, fmt.Sprintf("the remittance has %s lines, the manifest says %s were adjudicated", formatCount(lines), formatCount(ct.LinesAdjudicated)))
	}
	seen := map[string]bool{}
	for _, c := range ct.PerCurrency {
		seen[c.PlanCurrency] = true
		got := t.byCurrency[c.PlanCurrency]
		if got == nil {
			out = append(out, fmt.Sprintf("%s: in the manifest, not in the remittance", c.PlanCurrency))
			continue
		}
		mods := map[string]claim.Money{}
		for k, g := range t.byModule {
			if k.currency == c.PlanCurrency {
				mods[k.name] = g.paid
			}
		}
		for _, f := range []struct {
			name      string
			got, want claim.Money
		}{
			{"charge", got.charge, c.Charge}, {"plan_paid", got.planPaid, c.PlanPaid},
			{"deductible", got.deductible, c.Deductible}, {"coinsurance", got.coinsurance, c.Coinsurance},
			{"not_covered", got.notCovered, c.NotCovered}, {"member_responsibility", got.memberResponsibility, c.MemberResponsibility},
			{"plan_paid core", mods["core"], c.PaidByModule.Core}, {"plan_paid outpatient", mods["outpatient"], c.PaidByModule.Outpatient},
			{"plan_paid dental", mods["dental"], c.PaidByModule.Dental},
		} {
			if f.got != f.want {
				out = append(out, fmt.Sprintf("%s %s: the remittance adds up to %s, the manifest says %s", c.PlanCurrency, f.name, formatMoney(f.got), formatMoney(f.want)))
			}
		}
		if got.lines != c.Lines {
			out = append(out, fmt.Sprintf("%s lines: the remittance has %s, the manifest says %s", c.PlanCurrency, formatCount(got.lines), formatCount(c.Lines)))
		}
	}
	for _, cur := range t.currencies {
		if !seen[cur] {
			out = append(out, fmt.Sprintf("%s: in the remittance, not in the manifest", cur))
		}
	}
	return out
}

func kpis(ct *writers.ControlTotals, t *totals, ta Turnaround) []kpi {
	var paid []string
	for _, cur := range t.currencies {
		paid = append(paid, cur+" "+formatMoney(t.byCurrency[cur].planPaid))
	}
	if len(paid) == 0 {
		paid = []string{"—"}
	}
	var adjudicated, fully int64
	for k, n := range t.byStatus {
		adjudicated += n
		if k.name == "PAID" {
			fully += n
		}
	}
	out := []kpi{
		{Label: "Claim lines read", Values: []string{formatCount(ct.LinesRead)},
			Detail: fmt.Sprintf("%s adjudicated · %s exceptions", formatCount(ct.LinesAdjudicated), formatCount(ct.Exceptions))},
		{Label: "Plan paid", Values: paid, Detail: "per plan currency"},
		{Label: "Paid in full", Values: []string{fmt.Sprintf("%.1f %%", percent(fully, adjudicated))},
			Detail: fmt.Sprintf("%s of %s adjudicated lines", formatCount(fully), formatCount(adjudicated))},
	}
	if ta.Lines == 0 {
		out = append(out, kpi{Label: "Turnaround", Values: []string{"not measured"}, Detail: "this run adjudicated no line"})
	} else {
		out = append(out, kpi{Label: fmt.Sprintf("Within %d business days", ta.target()),
			Values: []string{fmt.Sprintf("%.1f %%", percent(ta.Within, ta.Lines))},
			Detail: fmt.Sprintf("%s lines over, as of %s", formatCount(ta.Lines-ta.Within), ta.AsOf)})
	}
	return out
}

func (t Turnaround) target() int {
	if t.Target == 0 {
		return 5
	}
	return t.Target
}

func totalRows(t *totals) []totalRow {
	type fig struct {
		label, key  string
		sub, strong bool
		value       func(m *money) string
	}
	figs := []fig{
		{"Lines adjudicated", "lines", false, false, func(m *money) string { return formatCount(m.lines) }},
		{"Charge", "charge", false, true, func(m *money) string { return formatMoney(m.charge) }},
		{"Plan paid", "plan_paid", false, true, func(m *money) string { return formatMoney(m.planPaid) }},
		{"to providers", "plan_paid_provider", true, false, func(m *money) string { return formatMoney(m.paidProvider) }},
		{"to members", "plan_paid_member", true, false, func(m *money) string { return formatMoney(m.paidMember) }},
		{"Member responsibility", "member_responsibility", false, true, func(m *money) string { return formatMoney(m.memberResponsibility) }},
		{"deductible", "deductible", true, false, func(m *money) string { return formatMoney(m.deductible) }},
		{"coinsurance", "coinsurance", true, false, func(m *money) string { return formatMoney(m.coinsurance) }},
		{"not covered", "not_covered", true, false, func(m *money) string { return formatMoney(m.notCovered) }},
	}
	var rows []totalRow
	for _, f := range figs {
		r := totalRow{Label: f.label, Key: f.key, Sub: f.sub, Strong: f.strong}
		for _, cur := range t.currencies {
			r.Cells = append(r.Cells, cell{cur + "/" + f.key, f.value(t.byCurrency[cur])})
		}
		rows = append(rows, r)
	}
	return rows
}

func statusMix(t *totals) statusView {
	counts := map[string]int64{}
	var total int64
	for k, n := range t.byStatus {
		counts[k.name] += n
		total += n
	}
	v := statusView{Total: formatCount(total)}
	order := slices.Clone(statuses)
	for _, s := range sortedKeys(counts) {
		if !slices.Contains(order, s) {
			order = append(order, s)
		}
	}
	const width = 1000.0
	x := 0.0
	for _, s := range order {
		n := counts[s]
		class := "st-" + strings.ToLower(strings.ReplaceAll(s, "_", "-"))
		v.Rows = append(v.Rows, statusRow{s, statusMeanings[s], formatCount(n), fmt.Sprintf("%.1f %%", percent(n, total)), class})
		if n == 0 {
			continue
		}
		w := width * float64(n) / float64(total)
		v.Segments = append(v.Segments, segment{px(x), px(w), class, fmt.Sprintf("%s: %s lines", s, formatCount(n))})
		x += w
	}
	return v
}

func moduleViews(t *totals) ([]hchart, []totalRow) {
	mods := names(t.byModule, modules)
	for _, m := range modules {
		if !slices.Contains(mods, m) {
			mods = append(mods, m)
		}
	}
	slices.SortFunc(mods, func(a, b string) int {
		ia, ib := slices.Index(modules, a), slices.Index(modules, b)
		if ia < 0 {
			ia = len(modules)
		}
		if ib < 0 {
			ib = len(modules)
		}
		return cmp.Or(cmp.Compare(ia, ib), cmp.Compare(a, b))
	})
	var charts []hchart
	for _, cur := range t.currencies {
		var items []barItem
		for _, mod := range mods {
			g := t.byModule[key{cur, mod}]
			if g == nil {
				g = &group{}
			}
			items = append(items, barItem{label: mod, amount: g.paid, value: formatMoney(g.paid),
				tooltip: fmt.Sprintf("%s %s: %s paid on %s lines", cur, mod, formatMoney(g.paid), formatCount(g.lines))})
		}
		charts = append(charts, newHChart(cur, moduleChartWidth, items))
	}
	var rows []totalRow
	for _, mod := range mods {
		r := totalRow{Label: mod, Key: "paid_" + mod}
		for _, cur := range t.currencies {
			var paid claim.Money
			if g := t.byModule[key{cur, mod}]; g != nil {
				paid = g.paid
			}
			r.Cells = append(r.Cells, cell{cur + "/paid_" + mod, formatMoney(paid)})
		}
		rows = append(rows, r)
	}
	return charts, rows
}

func benefitViews(t *totals) ([]hchart, []benefitRow) {
	var charts []hchart
	for _, cur := range t.currencies {
		type b struct {
			code string
			g    *group
		}
		var list []b
		for k, g := range t.byBenefit {
			if k.currency == cur {
				list = append(list, b{k.name, g})
			}
		}
		slices.SortFunc(list, func(x, y b) int { return cmp.Or(cmp.Compare(y.g.paid, x.g.paid), cmp.Compare(x.code, y.code)) })
		var items []barItem
		note := ""
		for i, x := range list {
			if i == benefitBars && len(list) > benefitBars+1 {
				// The rest go in a note: a bar of their sum would dwarf
				// the benefits it is there to compare.
				var rest claim.Money
				var lines int64
				for _, y := range list[i:] {
					rest += y.g.paid
					lines += y.g.lines
				}
				note = fmt.Sprintf("%d other benefits: %s paid on %s lines (see the table)", len(list)-i, formatMoney(rest), formatCount(lines))
				break
			}
			items = append(items, barItem{label: x.code, amount: x.g.paid, value: formatMoney(x.g.paid),
				tooltip: fmt.Sprintf("%s %s: %s paid on %s lines", cur, x.code, formatMoney(x.g.paid), formatCount(x.g.lines))})
		}
		c := newHChart(cur, benefitChartWidth, items)
		c.Note = note
		charts = append(charts, c)
	}
	var rows []benefitRow
	for _, code := range names(t.byBenefit, nil) {
		r := benefitRow{Code: code}
		for _, cur := range t.currencies {
			if g := t.byBenefit[key{cur, code}]; g != nil {
				r.Cells = append(r.Cells, benefitCell{formatCount(g.lines), formatMoney(g.paid)})
			} else {
				r.Cells = append(r.Cells, benefitCell{})
			}
		}
		rows = append(rows, r)
	}
	return charts, rows
}

func reasonViews(t *totals) ([]reasonRow, []hchart) {
	lines := map[string]int64{}
	for k, r := range t.byReason {
		lines[k.name] += r.lines
	}
	codes := sortedKeys(lines)
	slices.SortFunc(codes, func(a, b string) int { return cmp.Or(cmp.Compare(lines[b], lines[a]), rundir.CompareCodes(a, b)) })
	var rows []reasonRow
	for _, code := range codes {
		r := reasonRow{Code: code, Meaning: reasonMeanings[code], Lines: formatCount(lines[code])}
		for _, cur := range t.currencies {
			if x := t.byReason[key{cur, code}]; x != nil {
				r.Amounts = append(r.Amounts, formatMoney(x.amount))
			} else {
				r.Amounts = append(r.Amounts, "")
			}
		}
		rows = append(rows, r)
	}
	var charts []hchart
	for _, cur := range t.currencies {
		var items []barItem
		for _, code := range codes {
			if x := t.byReason[key{cur, code}]; x != nil {
				items = append(items, barItem{label: code, amount: x.amount, value: formatMoney(x.amount), class: "notcovered",
					tooltip: fmt.Sprintf("%s %s (%s): %s not covered on %s lines", cur, code, reasonMeanings[code], formatMoney(x.amount), formatCount(x.lines))})
			}
		}
		slices.SortStableFunc(items, func(a, b barItem) int { return cmp.Compare(b.amount, a.amount) })
		charts = append(charts, newHChart(cur, benefitChartWidth, items))
	}
	return rows, charts
}

func turnaroundOf(ta Turnaround) turnaroundView {
	if ta.Lines == 0 {
		return turnaroundView{}
	}
	v := turnaroundView{
		Measured: true, AsOf: ta.AsOf, Target: ta.target(),
		WithinShare: fmt.Sprintf("%.1f %%", percent(ta.Within, ta.Lines)),
		Within:      formatCount(ta.Within), Over: formatCount(ta.Lines - ta.Within), Lines: formatCount(ta.Lines),
	}
	if len(ta.Histogram) > 0 {
		h := newHistogram(ta.Histogram, ta.target())
		v.Histogram = &h
	}
	return v
}
