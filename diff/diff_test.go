package diff

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"claimsbatch/internal/rundir"
	"claimsbatch/writers"
)

// line is a remittance row for the tests: the columns that matter here,
// the rest derived.
type line struct {
	claim, lineNo, member, currency, module, benefit  string
	charge, deductible, coinsurance, notCovered, paid string
	status, adjustments                               string
}

// paid is a fully paid core line.
func paid(claim, lineNo, member, amount string) line {
	return line{claim, lineNo, member, "USD", "core", "HOSPITAL_ACCOMMODATION", amount, "0.00", "0.00", "0.00", amount, "PAID", ""}
}

var remittanceHeader = append([]string{"run_id"}, Columns[:]...)

func (l line) record(runID string) []string {
	rec := make([]string, len(remittanceHeader))
	rec[0] = runID
	set := func(col int, v string) { rec[col+1] = v }
	set(ColClaimID, l.claim)
	set(ColLineNo, l.lineNo)
	set(ColMemberID, l.member)
	set(ColPolicyID, "P-"+l.member)
	set(ColPolicyYearStart, "2024-01-01")
	set(ColServiceDate, "2024-03-01")
	set(ColBenefitCode, l.benefit)
	set(ColModule, l.module)
	set(ColPayeeType, "provider")
	set(ColPayeeID, "PR-1")
	set(ColBilledCurrency, l.currency)
	set(ColBilledAmount, l.charge)
	set(ColPlanCurrency, l.currency)
	set(ColFXRate, "1")
	set(ColCharge, l.charge)
	set(ColDeductible, l.deductible)
	set(ColCoinsurance, l.coinsurance)
	set(ColNotCovered, l.notCovered)
	set(ColPlanPaid, l.paid)
	set(ColMemberResponsibility, "0.00") // not checked by diff's totals
	set(ColStatus, l.status)
	set(ColAdjustments, l.adjustments)
	return rec
}

// testRun is a run directory to write.
type testRun struct {
	lines      []line
	payments   [][]string // payee_type, payee_id, plan_currency, line_count, plan_paid
	exceptions []string   // codes
	noPayments bool
}

func writeCSV(t *testing.T, path string, header []string, rows [][]string) {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(header)
	w.WriteAll(rows)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (r testRun) write(t *testing.T, runID string) *rundir.Run {
	t.Helper()
	dir := t.TempDir()
	m := &writers.Manifest{RunID: runID, Plan: writers.PlanRef{Name: "test plan", SHA256: "0123456789abcdef0123"}}
	var rows [][]string
	for _, l := range r.lines {
		rows = append(rows, l.record(runID))
	}
	writeCSV(t, filepath.Join(dir, "remittance.csv"), remittanceHeader, rows)
	m.Outputs = append(m.Outputs, writers.Output{Name: "remittance.csv"})
	if !r.noPayments {
		writeCSV(t, filepath.Join(dir, "payments.csv"), []string{"payee_type", "payee_id", "plan_currency", "line_count", "plan_paid"}, r.payments)
		m.Outputs = append(m.Outputs, writers.Output{Name: "payments.csv"})
	}
	var ex [][]string
	for i, code := range r.exceptions {
		ex = append(ex, []string{"claims.csv", fmt.Sprint(i + 1), "", "", "", code, "", "", ""})
	}
	writeCSV(t, filepath.Join(dir, "exceptions.csv"), []string{"source", "row", "claim_id", "line_no", "member_id", "code", "field", "message", "raw"}, ex)
	m.Outputs = append(m.Outputs, writers.Output{Name: "exceptions.csv"})
	var b bytes.Buffer
	if err := writers.WriteManifest(&b, m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	run, err := rundir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// result is what a diff yields, in a form easy to compare.
type result struct {
	lines   []string // "kind claim-line [columns]"
	summary *Summary
	peak    int
}

func runDiff(t *testing.T, a, b *rundir.Run) (result, error) {
	t.Helper()
	d, err := New(context.Background(), a, b, Options{})
	if err != nil {
		return result{}, err
	}
	defer d.Close()
	var res result
	for d.Next() {
		l := d.Line()
		id := l.A
		if id == nil {
			id = l.B
		}
		s := l.Kind.String() + " " + id.Fields[ColClaimID] + "-" + id.Fields[ColLineNo]
		for _, c := range l.Columns {
			s += " " + Columns[c]
		}
		res.lines = append(res.lines, s)
	}
	res.summary, res.peak = d.Summary(), d.peakPending
	return res, d.Err()
}

func TestJoin(t *testing.T) {
	changed := paid("C2", "1", "M1", "100.00")
	changed.paid, changed.notCovered, changed.status, changed.adjustments = "90.00", "10.00", "PARTIAL", "PR-119:10.00"
	tests := []struct {
		name      string
		a, b      []line
		want      []string
		wantPeak  int
		wantLines Lines
	}{
		{
			name:      "in step",
			a:         []line{paid("C1", "1", "M1", "50.00"), paid("C2", "1", "M1", "100.00"), paid("C3", "1", "M2", "70.00")},
			b:         []line{paid("C1", "1", "M1", "50.00"), changed, paid("C3", "1", "M2", "70.00")},
			want:      []string{"changed C2-1 not_covered plan_paid status adjustments"},
			wantLines: Lines{A: 3, B: 3, Changed: 1, Unchanged: 2},
		},
		{
			// A received_date that differs reorders a member's lines.
			name: "swapped within a member",
			a: []line{paid("C1", "1", "M1", "50.00"), paid("C1", "2", "M1", "60.00"), paid("C2", "1", "M1", "100.00"),
				paid("C3", "1", "M2", "70.00"), paid("C5", "1", "M3", "80.00")},
			b: []line{paid("C1", "2", "M1", "60.00"), paid("C1", "1", "M1", "50.00"), changed, paid("C9", "1", "M1", "5.00"),
				paid("C5", "1", "M3", "80.00"), paid("C6", "1", "M4", "90.00")},
			want:      []string{"changed C2-1 not_covered plan_paid status adjustments", "only_in_b C9-1", "only_in_a C3-1", "only_in_b C6-1"},
			wantPeak:  2,
			wantLines: Lines{A: 5, B: 6, Changed: 1, OnlyInA: 1, OnlyInB: 2, Unchanged: 3},
		},
		{
			name:      "pending rows left when both files pass the member",
			a:         []line{paid("K1", "1", "M1", "1.00"), paid("K2", "1", "M1", "2.00"), paid("K7", "1", "M2", "7.00")},
			b:         []line{paid("K3", "1", "M1", "3.00"), paid("K1", "1", "M1", "1.00"), paid("K7", "1", "M2", "7.00")},
			want:      []string{"only_in_a K2-1", "only_in_b K3-1"},
			wantPeak:  2,
			wantLines: Lines{A: 3, B: 3, OnlyInA: 1, OnlyInB: 1, Unchanged: 2},
		},
		{
			name:      "pending rows at the end of both files",
			a:         []line{paid("K1", "1", "M1", "1.00"), paid("K2", "1", "M1", "2.00")},
			b:         []line{paid("K3", "1", "M1", "3.00"), paid("K2", "1", "M1", "2.00")},
			want:      []string{"only_in_a K1-1", "only_in_b K3-1"},
			wantPeak:  2,
			wantLines: Lines{A: 2, B: 2, OnlyInA: 1, OnlyInB: 1, Unchanged: 1},
		},
		{
			name:      "B empty",
			a:         []line{paid("K1", "1", "M1", "1.00"), paid("K2", "1", "M2", "2.00")},
			want:      []string{"only_in_a K1-1", "only_in_a K2-1"},
			wantLines: Lines{A: 2, OnlyInA: 2},
		},
		{
			name:      "a line moved to another member",
			a:         []line{paid("K1", "1", "M1", "1.00")},
			b:         []line{paid("K1", "1", "M2", "1.00")},
			want:      []string{"only_in_a K1-1", "only_in_b K1-1"},
			wantLines: Lines{A: 1, B: 1, OnlyInA: 1, OnlyInB: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := runDiff(t, testRun{lines: tc.a}.write(t, "run-a"), testRun{lines: tc.b}.write(t, "run-b"))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.lines, tc.want) {
				t.Errorf("lines:\n got %q\nwant %q", res.lines, tc.want)
			}
			if res.peak != tc.wantPeak {
				t.Errorf("peak pending rows %d, want %d", res.peak, tc.wantPeak)
			}
			if res.summary.Lines != tc.wantLines {
				t.Errorf("line counts %+v, want %+v", res.summary.Lines, tc.wantLines)
			}
			if res.summary.Identical != (len(tc.want) == 0) {
				t.Errorf("identical = %v with %d differing lines", res.summary.Identical, len(tc.want))
			}
		})
	}
}

// TestInStepHoldsNothing: two long runs in step, with many changed lines,
// never hold a pending row.
func TestInStepHoldsNothing(t *testing.T) {
	var a, b []line
	for i := range 20000 {
		member := fmt.Sprintf("M%05d", i/7)
		l := paid(fmt.Sprintf("C%06d", i), "1", member, "100.00")
		a = append(a, l)
		if i%3 == 0 {
			l.paid, l.notCovered, l.status, l.adjustments = "40.00", "60.00", "PARTIAL", "PR-119:60.00"
		}
		b = append(b, l)
	}
	res, err := runDiff(t, testRun{lines: a}.write(t, "run-a"), testRun{lines: b}.write(t, "run-b"))
	if err != nil {
		t.Fatal(err)
	}
	if res.peak != 0 {
		t.Errorf("peak pending rows %d, want 0", res.peak)
	}
	if got, want := res.summary.Lines, (Lines{A: 20000, B: 20000, Changed: 6667, Unchanged: 13333}); got != want {
		t.Errorf("lines %+v, want %+v", got, want)
	}
	tot := res.summary.Totals[0]
	if got := fmt.Sprint(tot.PlanPaid.A, " ", tot.PlanPaid.B, " ", tot.PlanPaid.Delta()); got != "2000000.00 1599980.00 -400020.00" {
		t.Errorf("plan_paid A B delta = %s", got)
	}
}

func TestSummary(t *testing.T) {
	a := []line{
		{"C1", "1", "M1", "EUR", "outpatient", "OP_CONSULTATION", "200.00", "50.00", "15.00", "35.00", "100.00", "PARTIAL", "PR-1:50.00 PR-2:15.00 PR-119:35.00"},
		{"C2", "1", "M1", "USD", "core", "HOSPITAL_ACCOMMODATION", "1000.00", "0.00", "0.00", "0.00", "1000.00", "PAID", ""},
		{"C3", "1", "M2", "USD", "dental", "DENTAL_MAJOR", "300.00", "0.00", "90.00", "210.00", "0.00", "DENIED", "PR-2:90.00 PR-179:210.00"},
	}
	b := slices.Clone(a)
	b[0] = line{"C1", "1", "M1", "EUR", "outpatient", "OP_CONSULTATION", "200.00", "50.00", "15.00", "0.00", "135.00", "PAID", "PR-1:50.00 PR-2:15.00"}
	b[2] = line{"C3", "1", "M2", "USD", "dental", "DENTAL_MAJOR", "300.00", "0.00", "90.00", "0.00", "210.00", "PAID", "PR-2:90.00"}
	pay := [][]string{{"provider", "PR-1", "EUR", "1", "100.00"}, {"provider", "PR-1", "USD", "2", "1000.00"}, {"member", "M2", "USD", "1", "0.00"}}
	payB := [][]string{{"provider", "PR-1", "EUR", "1", "135.00"}, {"provider", "PR-1", "USD", "2", "1000.00"}, {"provider", "PR-9", "USD", "1", "0.00"}}
	res, err := runDiff(t,
		testRun{lines: a, payments: pay, exceptions: []string{"PARSE_ERROR", "NO_FX_RATE", "NO_FX_RATE"}}.write(t, "run-a"),
		testRun{lines: b, payments: payB, exceptions: []string{"NO_FX_RATE"}}.write(t, "run-b"))
	if err != nil {
		t.Fatal(err)
	}
	res.summary.A.Dir, res.summary.B.Dir = "runs/a", "runs/b" // not the temporary names
	var got bytes.Buffer
	if err := res.summary.WriteText(&got); err != nil {
		t.Fatal(err)
	}
	want := `A  runs/a  run run-a  plan test plan (0123456789ab)
B  runs/b  run run-b  plan test plan (0123456789ab)
the runs differ

Lines: A 3, B 3; changed 2, only in A 0, only in B 0, unchanged 1

Totals per plan currency
                          A        B    delta
  EUR  lines              1        1        0
       charge        200.00   200.00     0.00
       plan_paid     100.00   135.00   +35.00
       deductible     50.00    50.00     0.00
       coinsurance    15.00    15.00     0.00
       not_covered    35.00     0.00   -35.00
  USD  lines              2        2        0
       charge       1300.00  1300.00     0.00
       plan_paid    1000.00  1210.00  +210.00
       deductible      0.00     0.00     0.00
       coinsurance    90.00    90.00     0.00
       not_covered   210.00     0.00  -210.00

Per module (amounts that differ; all are in diff.json)
                                    A       B    delta
  EUR outpatient  plan_paid    100.00  135.00   +35.00
                  not_covered   35.00    0.00   -35.00
  USD dental      plan_paid      0.00  210.00  +210.00
                  not_covered  210.00    0.00  -210.00

Per benefit (amounts that differ)
                                         A       B    delta
  EUR OP_CONSULTATION  plan_paid    100.00  135.00   +35.00
                       not_covered   35.00    0.00   -35.00
  USD DENTAL_MAJOR     plan_paid      0.00  210.00  +210.00
                       not_covered  210.00    0.00  -210.00

Reason codes on the lines in both runs
  code    appeared on  disappeared from  amount changed on
  PR-119      0 lines            1 line            0 lines
  PR-179      0 lines            1 line            0 lines

Reason code totals (amounts that differ)
                    A     B    delta
  EUR  PR-119   35.00  0.00   -35.00
  USD  PR-179  210.00  0.00  -210.00

Exceptions by code
               A  B  delta
  NO_FX_RATE   2  1     -1
  PARSE_ERROR  1  0     -1
  total        3  1     -2

Payments: payees A 3, B 3; changed 1, only in A 1, only in B 1
       lines A  lines B  plan_paid A  plan_paid B   delta
  EUR        1        1       100.00       135.00  +35.00
  USD        3        3      1000.00      1000.00    0.00

Largest payee changes
       payee                      lines A  lines B  plan_paid A  plan_paid B   delta
  EUR  provider  PR-1  changed          1        1       100.00       135.00  +35.00
  USD  provider  PR-9  only in b        0        1         0.00         0.00    0.00
  USD  member    M2    only in a        1        0         0.00         0.00    0.00
`
	if got.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", got.String(), want)
	}
	s := res.summary
	if got, want := fmt.Sprint(s.ByBenefit), "[{EUR OP_CONSULTATION {{1 1} {200.00 200.00} {100.00 135.00} {50.00 50.00} {15.00 15.00} {35.00 0.00}}} "+
		"{USD DENTAL_MAJOR {{1 1} {300.00 300.00} {0.00 210.00} {0.00 0.00} {90.00 90.00} {210.00 0.00}}} "+
		"{USD HOSPITAL_ACCOMMODATION {{1 1} {1000.00 1000.00} {1000.00 1000.00} {0.00 0.00} {0.00 0.00} {0.00 0.00}}}]"; got != want {
		t.Errorf("by benefit\n got %s\nwant %s", got, want)
	}
	if got, want := fmt.Sprint(s.ReasonCodes), "[{PR-1 0 0 0 [{EUR {50.00 50.00}}]} {PR-2 0 0 0 [{EUR {15.00 15.00}} {USD {90.00 90.00}}]} "+
		"{PR-119 0 1 0 [{EUR {35.00 0.00}}]} {PR-179 0 1 0 [{USD {210.00 0.00}}]}]"; got != want {
		t.Errorf("reason codes\n got %s\nwant %s", got, want)
	}
	// Largest |delta| first, then in the payments file's order.
	if got, want := fmt.Sprint(s.Payments.Largest), "[{provider PR-1 EUR changed {1 1} {100.00 135.00}} "+
		"{provider PR-9 USD only_in_b {0 1} {0.00 0.00}} {member M2 USD only_in_a {1 0} {0.00 0.00}}]"; got != want {
		t.Errorf("largest payee changes\n got %s\nwant %s", got, want)
	}
	var js bytes.Buffer
	if err := s.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{
		`"plan_paid": {
        "a": "100.00",
        "b": "135.00",
        "delta": "35.00"
      }`,
		`"code": "NO_FX_RATE",
        "count": {
          "a": 2,
          "b": 1,
          "delta": -1
        }`,
	} {
		if !strings.Contains(js.String(), frag) {
			t.Errorf("diff.json lacks %s\n%s", frag, js.String())
		}
	}
}

func TestErrors(t *testing.T) {
	ok := []line{paid("C1", "1", "M1", "1.00"), paid("C2", "1", "M2", "2.00")}
	tests := []struct {
		name string
		a, b testRun
		want error
		msg  string
	}{
		{"member goes down", testRun{lines: ok}, testRun{lines: []line{paid("C2", "1", "M2", "2.00"), paid("C1", "1", "M1", "1.00")}},
			ErrOrder, "diff: file out of order: run B: "},
		{"duplicate line", testRun{lines: []line{paid("C1", "1", "M1", "1.00"), paid("C2", "1", "M1", "1.00"), paid("C3", "1", "M1", "1.00")}},
			testRun{lines: []line{paid("C9", "1", "M1", "1.00"), paid("C9", "1", "M1", "1.00"), paid("C1", "1", "M1", "1.00")}},
			ErrDuplicate, `run B: `},
		{"bad amount", testRun{lines: ok}, testRun{lines: []line{paid("C1", "1", "M1", "1.005")}},
			ErrValue, `row 1 column charge: "1.005"`},
		{"bad adjustments", testRun{lines: ok}, testRun{lines: []line{{"C1", "1", "M1", "USD", "core", "X", "1.00", "0.00", "0.00", "1.00", "0.00", "DENIED", "PR119=1.00"}}},
			ErrValue, `row 1 column adjustments`},
		{"payments out of order", testRun{lines: ok, payments: [][]string{{"member", "M1", "USD", "1", "1.00"}, {"provider", "P1", "USD", "1", "1.00"}}},
			testRun{lines: ok}, ErrOrder, "run A: payments row 2"},
		{"payments missing in B", testRun{lines: ok}, testRun{lines: ok, noPayments: true}, ErrMissingTable, "lists a payments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runDiff(t, tc.a.write(t, "run-a"), tc.b.write(t, "run-b"))
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want %v containing %q", err, tc.want, tc.msg)
			}
		})
	}
}

func TestEqualField(t *testing.T) {
	tests := []struct {
		col  int
		a, b string
		want bool
	}{
		{ColFXRate, "1", "1.000000", true},
		{ColFXRate, "1.1", "1.10", true},
		{ColFXRate, "1.1", "1.01", false},
		{ColFXRate, "", "1", false},
		{ColCharge, "100.0", "100.00", true},
		{ColCharge, "100.01", "100.00", false},
		{ColBilledAmount, "7", "7.00", true},
		{ColStatus, "PAID", "PAID", true},
		{ColStatus, "PAID", "paid", false},
		{ColRemark, "", " ", false},
	}
	for _, tc := range tests {
		if got := equalField(tc.col, tc.a, tc.b); got != tc.want {
			t.Errorf("equalField(%s, %q, %q) = %v, want %v", Columns[tc.col], tc.a, tc.b, got, tc.want)
		}
	}
}

func TestCSV(t *testing.T) {
	changed := paid("C2", "1", "M1", "100.00")
	changed.paid, changed.notCovered, changed.status, changed.adjustments = "90.00", "10.00", "PARTIAL", "PR-119:10.00"
	d, err := New(context.Background(), testRun{lines: []line{paid("C1", "1", "M1", "5.00"), paid("C2", "1", "M1", "100.00")}}.write(t, "a"),
		testRun{lines: []line{changed, paid("C3", "1", "M2", "7.50")}}.write(t, "b"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var b bytes.Buffer
	w := NewCSVWriter(&b)
	for d.Next() {
		if err := w.Write(d.Line()); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(d.Err(), w.Flush()); err != nil {
		t.Fatal(err)
	}
	want := strings.Join(CSVHeader, ",") + "\n" +
		"changed,C2,1,M1,2024-03-01,HOSPITAL_ACCOMMODATION,core,USD,100.00,100.00,0.00,100.00,90.00,-10.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00,10.00,10.00,PAID,PARTIAL,,PR-119:10.00,,,not_covered plan_paid status adjustments\n" +
		// C1 waited for its partner until B had passed member M1.
		"only_in_a,C1,1,M1,2024-03-01,HOSPITAL_ACCOMMODATION,core,USD,5.00,,,5.00,,,0.00,,,0.00,,,0.00,,,PAID,,,,,,\n" +
		"only_in_b,C3,1,M2,2024-03-01,HOSPITAL_ACCOMMODATION,core,USD,,7.50,,,7.50,,,0.00,,,0.00,,,0.00,,,PAID,,,,,\n"
	if b.String() != want {
		t.Errorf("diff.csv\n got %s\nwant %s", b.String(), want)
	}
}
