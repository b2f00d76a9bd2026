package main

// Nightly chaining: run day 1, then day 2 with --state-in day 1's state, and
// so on. The contract (SPEC section 7, state): the state is "enough for a
// next run given --state-in to continue exactly as if both runs' claims had
// come in one run in that order", i.e. adjudicating A, then B on A's state,
// gives for B's lines what one engine session fed A's lines and then B's
// lines gives.
//
// A single run sorts each member's lines by (service_date, received_date,
// claim_id, line_no) across all its files, so a single run over A and B is
// that session only when no member has a line of B that sorts before one of
// A. Two tests cover the two cases:
//
//   - TestChainEqualsOneRun splits the claims by service_date ranges, where
//     the orders coincide, and compares the chain with one run over the same
//     files, all through the command line.
//   - TestChainMatchesEngineFedDayByDay splits by received_date, as nightly
//     extracts are (a line served before yesterday's lines can arrive today),
//     and compares the chain with an in-process engine session fed day by
//     day: the contract itself, without the state file in between.

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/engine"
	"claimsbatch/plan"
	"claimsbatch/readers"
	"claimsbatch/synth"
	"claimsbatch/writers"

	"github.com/shopspring/decimal"
)

// chainDays is how many nightly runs the chain tests make.
const chainDays = 4

type genInputs struct{ members, claims, fx string }

// generateInputs writes seeded synthetic members, claims and FX CSV files
// without bad rows, so every claim row is adjudicated.
func generateInputs(t *testing.T, lines, seed int64) genInputs {
	t.Helper()
	res, err := synth.Generate(context.Background(), synth.Config{Dir: t.TempDir(), Lines: lines, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	if res.BadRows != 0 || res.BadMembers != 0 {
		t.Fatalf("generated %d bad rows and %d invalid members, want none", res.BadRows, res.BadMembers)
	}
	return genInputs{members: res.MembersPath, claims: res.ClaimsPath, fx: res.FXPath}
}

// readCSVTable reads a whole CSV file: its header and data records.
func readCSVTable(t *testing.T, path string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(recs) == 0 {
		t.Fatalf("%s: no header", path)
	}
	return recs[0], recs[1:]
}

// splitClaims splits a claims CSV into `days` files by the ISO date in
// column (an empty received_date counts as the service_date, its default):
// day i holds the rows whose date falls in the i-th of `days` date ranges of
// about equal row counts. Each file keeps the header and the rows' original
// order.
func splitClaims(t *testing.T, path, dir string, days int, column string) []string {
	t.Helper()
	header, rows := readCSVTable(t, path)
	col, service := slices.Index(header, column), slices.Index(header, "service_date")
	if col < 0 || service < 0 {
		t.Fatalf("%s: no column %s or service_date", path, column)
	}
	dateOf := func(row []string) string {
		if row[col] == "" {
			return row[service]
		}
		return row[col]
	}
	dates := make([]string, len(rows))
	for i, r := range rows {
		dates[i] = dateOf(r)
	}
	slices.Sort(dates)
	var cuts []string // day i holds dates in [cuts[i-1], cuts[i])
	for i := 1; i < days; i++ {
		cuts = append(cuts, dates[len(dates)*i/days])
	}
	files := make([][][]string, days)
	for _, r := range rows {
		day, _ := slices.BinarySearch(cuts, dateOf(r))
		if day < len(cuts) && cuts[day] == dateOf(r) {
			day++
		}
		files[day] = append(files[day], r)
	}
	var paths []string
	for i, recs := range files {
		if len(recs) == 0 {
			t.Fatalf("day %d of the %s split is empty", i+1, column)
		}
		p := filepath.Join(dir, fmt.Sprintf("claims-day%d.csv", i+1))
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write(header)
		w.WriteAll(recs)
		if err := w.Error(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// runExit0 runs the command line and fails the test unless it exits 0.
func runExit0(t *testing.T, args ...string) {
	t.Helper()
	if code, msg := runCLI(t, args...); code != 0 {
		t.Fatalf("claimsbatch %s: exit %d: %s", strings.Join(args, " "), code, msg)
	}
}

// remittanceRows reads a remittance CSV keyed by "claim_id/line_no"; a row's
// value is all its columns but run_id, as one string.
func remittanceRows(t *testing.T, path string) map[string]string {
	t.Helper()
	header, rows := readCSVTable(t, path)
	claimID, lineNo, runID := slices.Index(header, "claim_id"), slices.Index(header, "line_no"), slices.Index(header, "run_id")
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		key := r[claimID] + "/" + r[lineNo]
		if _, dup := out[key]; dup {
			t.Fatalf("%s: line %s twice", path, key)
		}
		out[key] = strings.Join(slices.Delete(slices.Clone(r), runID, runID+1), ",")
	}
	return out
}

// stateRows reads a state CSV without its META rows and its END trailer
// (which hashes the META rows: the run id), and without its LINE rows unless
// withLines, each row as one string, in file order.
func stateRows(t *testing.T, path string, withLines bool) []string {
	t.Helper()
	_, rows := readCSVTable(t, path)
	var out []string
	for _, r := range rows {
		if r[0] == "META" || r[0] == "END" || (r[0] == "LINE" && !withLines) {
			continue
		}
		out = append(out, strings.Join(r, ","))
	}
	return out
}

// stateAsOf returns the as_of date of a state CSV's META rows.
func stateAsOf(t *testing.T, path string) claim.Date {
	t.Helper()
	_, rows := readCSVTable(t, path)
	for _, r := range rows {
		if r[0] == "META" && r[3] == "as_of" {
			d, err := claim.ParseDate(r[2])
			if err != nil {
				t.Fatalf("%s: as_of %q: %v", path, r[2], err)
			}
			return d
		}
	}
	t.Fatalf("%s: no META as_of row", path)
	return claim.NoDate
}

// compareLines reports the lines of got that differ from or are missing in
// want (at most a few), naming what.
func compareLines(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	bad := 0
	for _, k := range keys {
		if w, ok := want[k]; !ok || w != got[k] {
			if bad++; bad <= 5 {
				t.Errorf("%s: line %s\n  chained:   %s\n  reference: %s", what, k, got[k], w)
			}
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d lines differ in all", what, bad)
	}
}

// compareSequences reports the first difference between two row sequences.
func compareSequences(t *testing.T, what string, got, want []string) {
	t.Helper()
	for i := 0; i < len(got) || i < len(want); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("%s: %d rows vs %d; first difference at row %d:\n  chained:   %s\n  reference: %s", what, len(got), len(want), i+1, g, w)
			return
		}
	}
}

// latestReceived returns the latest received_date (or, where it is empty,
// service_date) of the claims CSV files: the as-of date of a night that
// runs them.
func latestReceived(t *testing.T, paths ...string) string {
	t.Helper()
	latest := ""
	for _, path := range paths {
		header, rows := readCSVTable(t, path)
		received, service := slices.Index(header, "received_date"), slices.Index(header, "service_date")
		for _, r := range rows {
			d := r[received]
			if d == "" {
				d = r[service]
			}
			latest = max(latest, d)
		}
	}
	return latest
}

// runChain runs the days in order, each on the previous day's state, and
// returns each day's output directory. Each night's as-of date is the
// latest date received so far, as a nightly job run the day after its
// extract would have it.
func runChain(t *testing.T, in genInputs, days []string, dir string) []string {
	t.Helper()
	var outs []string
	for i, day := range days {
		out := filepath.Join(dir, fmt.Sprintf("day%d", i+1))
		asOf := latestReceived(t, days[:i+1]...)
		args := []string{"run", "--claims", day, "--members", in.members, "--fx", in.fx, "--out", out, "--quiet", "--as-of", asOf}
		if i > 0 {
			args = append(args, "--state-in", filepath.Join(outs[i-1], "state.csv"))
		}
		runExit0(t, args...)
		if code, msg := runCLI(t, "verify", out); code != 0 {
			t.Errorf("verify day %d: exit %d: %s", i+1, code, msg)
		}
		_, rows := readCSVTable(t, day)
		if got := len(remittanceRows(t, filepath.Join(out, "remittance.csv"))); got != len(rows) {
			t.Fatalf("day %d: %d remittance lines for %d claim rows (an exception where none was expected?)", i+1, got, len(rows))
		}
		outs = append(outs, out)
	}
	return outs
}

// TestChainEqualsOneRun: with the claims split by service_date ranges, every
// member's lines of day i sort before its lines of day i+1, so one run over
// all days' files is the same engine session as the chain. For each day's
// lines the remittance rows must be identical (run_id aside), and the
// chain's final state must be the single run's (META rows aside).
func TestChainEqualsOneRun(t *testing.T) {
	in := generateInputs(t, 20000, 20261127)
	dir := t.TempDir()
	days := splitClaims(t, in.claims, dir, chainDays, "service_date")
	outs := runChain(t, in, days, dir)

	single := filepath.Join(dir, "single")
	args := []string{"run", "--members", in.members, "--fx", in.fx, "--out", single, "--quiet", "--as-of", latestReceived(t, days...)}
	for _, day := range days {
		args = append(args, "--claims", day)
	}
	runExit0(t, args...)
	one := remittanceRows(t, filepath.Join(single, "remittance.csv"))
	total := 0
	for i, out := range outs {
		rem := remittanceRows(t, filepath.Join(out, "remittance.csv"))
		compareLines(t, fmt.Sprintf("day %d remittance", i+1), rem, one)
		total += len(rem)
	}
	if total != len(one) {
		t.Errorf("the chain adjudicated %d lines, the single run %d", total, len(one))
	}
	last := filepath.Join(outs[len(outs)-1], "state.csv")
	compareSequences(t, "final state", stateRows(t, last, true), stateRows(t, filepath.Join(single, "state.csv"), true))

	// The state must matter, or this test proves nothing: the last day run
	// on its own pays differently.
	alone := filepath.Join(dir, "alone")
	runExit0(t, "run", "--claims", days[len(days)-1], "--members", in.members, "--fx", in.fx, "--out", alone, "--quiet", "--as-of", latestReceived(t, days...))
	lastRem := remittanceRows(t, filepath.Join(outs[len(outs)-1], "remittance.csv"))
	differ := 0
	for k, row := range remittanceRows(t, filepath.Join(alone, "remittance.csv")) {
		if lastRem[k] != row {
			differ++
		}
	}
	if differ == 0 {
		t.Errorf("day %d run without --state-in adjudicates exactly as on the chain's state: the data does not exercise chaining", len(days))
	}
	t.Logf("%d days, %d lines; without the state, %d of the last day's %d lines would differ", len(days), total, differ, len(lastRem))
}

// TestChainMatchesEngineFedDayByDay: with the claims split by received_date
// (nightly extracts), a member's line served early can arrive on a later day
// than lines served after it. The chain must give for each day's lines what
// one engine session fed day 1's lines, then day 2's, ... gives (each day's
// lines in SPEC order), and its final state must be that session's.
func TestChainMatchesEngineFedDayByDay(t *testing.T) {
	in := generateInputs(t, 20000, 20261128)
	dir := t.TempDir()
	days := splitClaims(t, in.claims, dir, chainDays, "received_date")
	outs := runChain(t, in, days, dir)

	ref := newReferenceSession(t, in)
	for i, day := range days {
		rem := remittanceRows(t, filepath.Join(outs[i], "remittance.csv"))
		compareLines(t, fmt.Sprintf("day %d remittance", i+1), rem, ref.feed(t, day))
	}
	if len(ref.reordered) == 0 {
		t.Fatal("no member has a line that arrives after a line served later: the received_date split tests nothing TestChainEqualsOneRun does not")
	}
	t.Logf("%d members have a line that arrives on a later day than a line served after it", len(ref.reordered))

	last := filepath.Join(outs[len(outs)-1], "state.csv")
	keepFrom := stateAsOf(t, last).AddYears(-2) // --state-keep-years default
	wantState, wantDups := ref.state(t, keepFrom)
	compareSequences(t, "final state (engine records)", stateRows(t, last, false), wantState)

	// The duplicate-service keys the session keeps (its DUP records) are
	// in the LINE rows of the lines served since keepFrom.
	var gotDups []string
	_, stateTable := readCSVTable(t, last)
	for _, r := range stateTable {
		if r[0] == "LINE" && r[6] != "" {
			gotDups = append(gotDups, strings.Join([]string{r[1], r[2], r[3], r[4], r[6]}, ","))
		}
	}
	slices.Sort(gotDups)
	if len(wantDups) == 0 {
		t.Fatal("the session kept no duplicate-service key: nothing to compare")
	}
	compareSequences(t, "final state duplicate-service keys", gotDups, wantDups)

	// LINE rows: every adjudicated line, once. They are never pruned: they
	// are what makes a re-fed extract pay nothing twice, however old.
	var gotLines []string
	_, rows := readCSVTable(t, last)
	for _, r := range rows {
		if r[0] == "LINE" {
			gotLines = append(gotLines, r[3]+"/"+r[5])
		}
	}
	slices.Sort(gotLines)
	var wantLines []string
	for _, l := range ref.lines {
		wantLines = append(wantLines, fmt.Sprintf("%s/%d", l.ClaimID, l.LineNo))
	}
	slices.Sort(wantLines)
	compareSequences(t, "final state LINE keys", gotLines, wantLines)
}

// referenceSession is one engine session over several days' files, in
// process: the members' coverage spans resolved as SPEC 3.2 says, lines
// priced as SPEC 5 says, one engine.Member per member for the whole session.
type referenceSession struct {
	plan    *plan.Plan
	engine  *engine.Engine
	spans   map[string][]claim.Span
	fx      map[[2]string][]claim.FXRate // sorted by date
	members map[string]*engine.Member
	latest  map[string]claim.Line // per member, the last line in SPEC order fed so far
	lines   []*claim.Line         // every line fed

	reordered map[string]bool // members with a line that sorts before one fed on an earlier day
}

func newReferenceSession(t *testing.T, in genInputs) *referenceSession {
	t.Helper()
	p := plan.Default()
	r := &referenceSession{plan: p, engine: engine.New(p), spans: map[string][]claim.Span{}, fx: map[[2]string][]claim.FXRate{},
		members: map[string]*engine.Member{}, latest: map[string]claim.Line{}, reordered: map[string]bool{}}
	raw, ex, _, err := readers.ReadMembers(in.members)
	if err != nil || len(ex) > 0 {
		t.Fatalf("members: %v, %d exceptions", err, len(ex))
	}
	for _, rs := range raw {
		s := rs.Span
		ci := p.CurrencyIndex(s.PlanCurrency)
		core, op := &p.Modules[claim.Core], &p.Modules[claim.Outpatient]
		// An empty option column (-1) takes the plan's default: 0, or the
		// lowest out-of-pocket maximum.
		or := func(given, def claim.Money) claim.Money {
			if given < 0 {
				return def
			}
			return given
		}
		pct := func(given int64) int64 { return max(given, 0) }
		s.CoreDeductible = or(rs.CoreDeductibleGiven, 0)
		s.CoreCoinsurance = pct(rs.CoreCoinsGiven)
		s.CoreOOPMax = or(rs.CoreOOPMaxGiven, core.OOPMaximums[ci][0])
		s.OutpatientDeduct = or(rs.OutpatientDeductGiven, 0)
		s.OutpatientCoins = pct(rs.OutpatientCoinsGiven)
		s.OutpatientOOPMax = or(rs.OutpatientOOPMaxGiven, op.OOPMaximums[ci][0])
		r.spans[s.MemberID] = append(r.spans[s.MemberID], s)
	}
	for _, spans := range r.spans {
		slices.SortFunc(spans, func(a, b claim.Span) int { return int(a.Start - b.Start) })
	}
	rates, ex, _, err := readers.ReadFX(in.fx)
	if err != nil || len(ex) > 0 {
		t.Fatalf("fx: %v, %d exceptions", err, len(ex))
	}
	for _, rate := range rates {
		pair := [2]string{rate.Currency, rate.PlanCurrency}
		r.fx[pair] = append(r.fx[pair], rate)
	}
	for _, list := range r.fx {
		slices.SortFunc(list, func(a, b claim.FXRate) int { return int(a.Date - b.Date) })
	}
	return r
}

// price fills in a line's plan currency, charge and FX rate (SPEC 3.3, 5):
// the member's currency span, the latest rate on or before the service date,
// round(billed × rate, 2) half away from zero; cash benefits ignore billed.
func (r *referenceSession) price(l *claim.Line) (claim.ExceptionCode, string, string) {
	spans := r.spans[l.MemberID]
	if len(spans) == 0 {
		return claim.UnknownMember, "member_id", "not in the members file"
	}
	span := &spans[claim.CurrencySpan(spans, l.ServiceDate)]
	l.PlanCurrency = span.PlanCurrency
	switch {
	case r.plan.Benefit(l.Benefit).IsCash():
		l.Charge, l.FXRate = 0, ""
	case l.Currency == span.PlanCurrency:
		l.Charge, l.FXRate = l.Billed, "1"
	default:
		list := r.fx[[2]string{l.Currency, span.PlanCurrency}]
		i := sort.Search(len(list), func(i int) bool { return list[i].Date > l.ServiceDate }) - 1
		if i < 0 {
			return claim.NoFXRate, "currency", "no rate"
		}
		v := decimal.New(int64(l.Billed), -2).Mul(list[i].Rate).Round(2)
		l.Charge, l.FXRate = claim.Money(v.Shift(2).IntPart()), list[i].Text
	}
	return "", "", ""
}

// feed adjudicates one day's file on top of the session and returns the
// remittance rows it gives, keyed and formatted as remittanceRows does.
func (r *referenceSession) feed(t *testing.T, path string) map[string]string {
	t.Helper()
	cr, err := readers.OpenClaims(path, 0, r.plan, readers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cr.Close()
	byMember := map[string][]claim.Line{}
	for cr.Next() {
		if ex := cr.Exceptions(); len(ex) > 0 {
			t.Fatalf("%s row %d: %s %s", path, ex[0].Row, ex[0].Code, ex[0].Message)
		}
		for _, l := range cr.Lines() {
			if code, _, msg := r.price(&l); code != "" {
				t.Fatalf("%s row %d: %s %s", path, l.Row, code, msg)
			}
			byMember[l.MemberID] = append(byMember[l.MemberID], l)
		}
	}
	if err := cr.Err(); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(byMember))
	for id := range byMember {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var results []claim.Result
	for _, id := range ids {
		lines := byMember[id]
		slices.SortFunc(lines, func(a, b claim.Line) int {
			if claim.Less(&a, &b) {
				return -1
			}
			if claim.Less(&b, &a) {
				return 1
			}
			return 0
		})
		if prev, ok := r.latest[id]; ok && claim.Less(&lines[0], &prev) {
			r.reordered[id] = true
		}
		if prev, ok := r.latest[id]; !ok || claim.Less(&prev, &lines[len(lines)-1]) {
			r.latest[id] = lines[len(lines)-1]
		}
		m := r.members[id]
		if m == nil {
			m = r.engine.NewMember()
			r.members[id] = m
		}
		results = r.engine.Adjudicate(m, r.spans[id], lines, results)
		for i := range lines {
			r.lines = append(r.lines, &lines[i])
		}
	}
	var buf bytes.Buffer
	w, err := writers.NewRemittanceWriter(&buf, writers.CSV, "reference")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(results); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "reference-remittance.csv")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return remittanceRows(t, p)
}

// state returns the session's accumulators as state rows (the engine's
// records but DUP, in member order), pruned at keepFrom as the last run
// prunes, and its DUP records as sorted "member,date,claim,billed,detail".
func (r *referenceSession) state(t *testing.T, keepFrom claim.Date) (accumulators, dups []string) {
	t.Helper()
	ids := make([]string, 0, len(r.members))
	for id := range r.members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var all, recs []claim.StateRecord
	for _, id := range ids {
		all = r.engine.AppendState(r.members[id], id, keepFrom, all)
	}
	for _, rec := range all {
		if rec.Kind == claim.KindDup {
			dups = append(dups, strings.Join([]string{rec.MemberID, rec.Scope.String(), rec.Key, rec.Amount.String(), rec.Detail}, ","))
		} else {
			recs = append(recs, rec)
		}
	}
	slices.Sort(dups)
	var buf bytes.Buffer
	w, err := writers.NewStateWriter(&buf, writers.CSV)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "reference-state.csv")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return stateRows(t, p, false), dups
}

// TestSameExtractTwicePaysNothing: feeding the same claims file again on the
// state of its first run must pay nothing twice. Every row adjudicated the
// first time becomes a DUPLICATE_LINE exception, every row rejected the first
// time is rejected again with the same code, no line is adjudicated and the
// payments add up to 0.
func TestSameExtractTwicePaysNothing(t *testing.T) {
	gen := generateInputs(t, 20000, 20261129)
	for _, tc := range []struct {
		name  string
		in    genInputs
		extra []string
	}{
		{"sample", genInputs{members: sample + "/members.csv", claims: sample + "/claims.csv", fx: sample + "/fx.csv"}, nil},
		// Received dates 2021-2026, so many lines were served more than
		// --state-keep-years (default 2) before the last received_date, as
		// in a reprocessed backlog or a late resubmission.
		{"generated", gen, nil},
		{"generated, state kept whole", gen, []string{"--state-keep-years", "-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			first, second := filepath.Join(dir, "first"), filepath.Join(dir, "second")
			args := append([]string{"run", "--claims", tc.in.claims, "--members", tc.in.members, "--fx", tc.in.fx, "--quiet"}, tc.extra...)
			runExit0(t, append(slices.Clip(args), "--out", first)...)
			runExit0(t, append(slices.Clip(args), "--out", second, "--state-in", filepath.Join(first, "state.csv"))...)

			claimRows := manifestOf(t, first).ControlTotals.LinesRead
			firstEx := claimExceptions(t, filepath.Join(first, "exceptions.csv"), filepath.Base(tc.in.claims))
			secondEx := claimExceptions(t, filepath.Join(second, "exceptions.csv"), filepath.Base(tc.in.claims))
			firstLines := len(remittanceRows(t, filepath.Join(first, "remittance.csv")))
			if int64(firstLines+len(firstEx)) != claimRows {
				t.Fatalf("first run: %d lines + %d exceptions for %d rows", firstLines, len(firstEx), claimRows)
			}
			wrong := 0
			for row := 1; row <= int(claimRows); row++ {
				want, rejected := firstEx[row]
				if !rejected {
					want = string(claim.DuplicateLine)
				}
				if got := secondEx[row]; got != want {
					if wrong++; wrong <= 5 {
						t.Errorf("second run, claims row %d: exception %q, want %q", row, got, want)
					}
				}
			}
			if wrong > 5 {
				t.Errorf("second run: %d of %d claims rows are not rejected as they should be", wrong, claimRows)
			}
			if rem := readCSV(t, filepath.Join(second, "remittance.csv")); len(rem) != 0 {
				from, to := rem[0]["service_date"], rem[0]["service_date"]
				for _, r := range rem {
					from, to = min(from, r["service_date"]), max(to, r["service_date"])
				}
				t.Errorf("second run adjudicated %d lines again (served %s to %s; the first run's state has as_of %s), want 0",
					len(rem), from, to, stateAsOf(t, filepath.Join(first, "state.csv")))
			}
			var paid claim.Money
			for _, p := range readCSV(t, filepath.Join(second, "payments.csv")) {
				m, err := claim.ParseMoney(p["plan_paid"])
				if err != nil {
					t.Fatal(err)
				}
				paid += m
			}
			if paid != 0 {
				t.Errorf("second run pays %s again, want 0.00", paid)
			}
			if code, msg := runCLI(t, "verify", second); code != 0 {
				t.Errorf("verify second run: exit %d: %s", code, msg)
			}
		})
	}
}

// claimExceptions returns the code of each exception row of the claims file
// named source, by row.
func claimExceptions(t *testing.T, path, source string) map[int]string {
	t.Helper()
	out := map[int]string{}
	for _, e := range readCSV(t, path) {
		if e["source"] != source {
			continue
		}
		var row int
		if _, err := fmt.Sscan(e["row"], &row); err != nil {
			t.Fatal(err)
		}
		out[row] = e["code"]
	}
	return out
}

// manifestOf reads dir/manifest.json.
func manifestOf(t *testing.T, dir string) *writers.Manifest {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := writers.ReadManifest(f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
