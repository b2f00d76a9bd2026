package synth

import (
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/plan"
)

// This file holds an independent checker of generated CSV files: it applies
// the column rules of SPEC section 3 (and the checks of section 7 that make a
// row an exception) without using the generator's code, and gathers the
// figures the realism tests look at.

type spanRow struct {
	start, end   claim.Date // end = claim.OpenEnd when open
	dob          claim.Date
	residence    string
	origin       string
	usCover      string
	currency     string
	modules      string
	policyID     string
	optionsGiven int // options columns that are not empty
}

type claimRow struct {
	fields  []string // the record as read
	bad     string   // why the row would be an exception; "" for a valid row
	service claim.Date
	end     claim.Date
	recv    claim.Date
	billed  claim.Money
}

type report struct {
	header        []string
	members       map[string][]spanRow
	memberOrder   []string
	invalid       map[string]string // member id -> why its rows are invalid
	claims        []claimRow
	badByReason   map[string]int
	fx            map[[2]string][]claim.Date // (currency, plan currency) -> dates, ascending
	fxRows        int
	memberRows    int
	claimsPerUser map[string]int
}

func (r *report) bad() int {
	n := 0
	for _, c := range r.claims {
		if c.bad != "" {
			n++
		}
	}
	return n
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	var rows [][]string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, rec)
	}
	if len(rows) == 0 {
		t.Fatalf("%s: no header", path)
	}
	return rows
}

func wantHeader(t *testing.T, path string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: header %q, want %q", path, got, want)
	}
}

func parseOptDate(s string) (claim.Date, bool) {
	if s == "" {
		return claim.NoDate, true
	}
	d, err := claim.ParseDate(s)
	return d, err == nil
}

// checkDir checks members.csv, claims.csv and fx.csv in dir against plan p.
func checkDir(t *testing.T, dir string, p *plan.Plan) *report {
	t.Helper()
	r := &report{
		members:       map[string][]spanRow{},
		invalid:       map[string]string{},
		badByReason:   map[string]int{},
		fx:            map[[2]string][]claim.Date{},
		claimsPerUser: map[string]int{},
	}

	// FX.
	fxRows := readCSV(t, filepath.Join(dir, "fx.csv"))
	wantHeader(t, "fx.csv", fxRows[0], []string{"date", "currency", "plan_currency", "rate"})
	for i, rec := range fxRows[1:] {
		d, err := claim.ParseDate(rec[0])
		if err != nil || len(rec) != 4 || p.CurrencyIndex(rec[2]) < 0 || rec[1] == rec[2] {
			t.Fatalf("fx.csv row %d: bad row %q", i+1, rec)
		}
		if !validRate(rec[3]) {
			t.Fatalf("fx.csv row %d: bad rate %q", i+1, rec[3])
		}
		key := [2]string{rec[1], rec[2]}
		if dates := r.fx[key]; len(dates) > 0 && dates[len(dates)-1] >= d {
			t.Fatalf("fx.csv row %d: %v not after the pair's previous date", i+1, rec)
		}
		r.fx[key] = append(r.fx[key], d)
	}
	r.fxRows = len(fxRows) - 1

	// Members.
	memRows := readCSV(t, filepath.Join(dir, "members.csv"))
	wantHeader(t, "members.csv", memRows[0], memberColumns)
	for i, rec := range memRows[1:] {
		row := i + 1
		if len(rec) != len(memberColumns) {
			t.Fatalf("members.csv row %d: %d fields", row, len(rec))
		}
		var s spanRow
		var ok1, ok2, ok3 bool
		s.start, ok1 = parseOptDate(rec[2])
		s.end, ok2 = parseOptDate(rec[3])
		s.dob, ok3 = parseOptDate(rec[4])
		if !ok1 || !ok2 || !ok3 || s.start == claim.NoDate || s.dob == claim.NoDate {
			t.Fatalf("members.csv row %d: bad dates %q", row, rec)
		}
		if s.end == claim.NoDate {
			s.end = claim.OpenEnd
		}
		if s.end < s.start {
			t.Fatalf("members.csv row %d: coverage_end before coverage_start", row)
		}
		s.residence, s.origin, s.usCover, s.currency, s.modules, s.policyID = rec[5], rec[6], rec[7], rec[8], rec[9], rec[1]
		id := rec[0]
		if id == "" || s.policyID == "" || len(s.residence) != 2 || len(s.origin) != 2 {
			t.Fatalf("members.csv row %d: missing field %q", row, rec)
		}
		if s.usCover != "" && s.usCover != "Y" && s.usCover != "N" {
			t.Fatalf("members.csv row %d: us_cover %q", row, s.usCover)
		}
		cur := p.CurrencyIndex(s.currency)
		if cur < 0 {
			t.Fatalf("members.csv row %d: plan_currency %q", row, s.currency)
		}
		switch s.modules {
		case "core", "core;outpatient", "core;dental", "core;outpatient;dental":
		default:
			t.Fatalf("members.csv row %d: modules %q", row, s.modules)
		}
		core, op := &p.Modules[claim.Core], &p.Modules[claim.Outpatient]
		checks := []struct {
			col  int
			ok   func(string) bool
			name string
		}{
			{10, moneyIn(core.Deductibles, cur), "core_deductible"},
			{11, percentIn(core.Coinsurance), "core_coinsurance"},
			{12, moneyIn(core.OOPMaximums, cur), "core_oop_max"},
			{13, moneyIn(op.Deductibles, cur), "outpatient_deductible"},
			{14, percentIn(op.Coinsurance), "outpatient_coinsurance"},
			{15, moneyIn(op.OOPMaximums, cur), "outpatient_oop_max"},
		}
		for _, c := range checks {
			if rec[c.col] == "" {
				continue
			}
			s.optionsGiven++
			if !c.ok(rec[c.col]) {
				r.invalid[id] = c.name + " " + rec[c.col] + " not in the plan's options"
			}
		}
		if prev := r.members[id]; len(prev) > 0 {
			last := prev[len(prev)-1]
			if s.start <= last.end {
				r.invalid[id] = "overlapping spans"
			}
			if last.dob != s.dob || last.currency != s.currency {
				t.Fatalf("members.csv row %d: spans of %s disagree on date_of_birth or plan_currency", row, id)
			}
		} else {
			if n := len(r.memberOrder); n > 0 && r.memberOrder[n-1] >= id {
				t.Fatalf("members.csv row %d: member %s out of order", row, id)
			}
			r.memberOrder = append(r.memberOrder, id)
		}
		r.members[id] = append(r.members[id], s)
	}
	r.memberRows = len(memRows) - 1

	// Claims.
	rows := readCSV(t, filepath.Join(dir, "claims.csv"))
	wantHeader(t, "claims.csv", rows[0], claimColumns[:])
	r.header = rows[0]
	seen := map[[2]string]bool{}
	for _, rec := range rows[1:] {
		c := claimRow{fields: rec}
		c.bad = r.checkClaim(p, rec, &c, seen)
		if c.bad != "" {
			r.badByReason[c.bad]++
		} else {
			r.claimsPerUser[rec[colMemberID]]++
		}
		r.claims = append(r.claims, c)
	}
	return r
}

func moneyIn(lists [][]claim.Money, cur int) func(string) bool {
	return func(s string) bool {
		m, err := claim.ParseMoney(s)
		return err == nil && cur < len(lists) && slices.Contains(lists[cur], m)
	}
}

func percentIn(list []int64) func(string) bool {
	return func(s string) bool {
		v, err := strconv.Atoi(s)
		return err == nil && slices.Contains(list, int64(v)*100)
	}
}

func validRate(s string) bool {
	dot := -1
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '.' && dot < 0:
			dot = i
		case s[i] < '0' || s[i] > '9':
			return false
		}
	}
	if s == "" || dot == 0 || dot == len(s)-1 || (dot > 0 && len(s)-dot-1 > 6) {
		return false
	}
	return s != "0" && s != "0.0"
}

// checkClaim returns the first reason row rec would become an exception, in
// the order of SPEC section 7, or "".
func (r *report) checkClaim(p *plan.Plan, rec []string, c *claimRow, seen map[[2]string]bool) string {
	if len(rec) != numClaimCols {
		return "PARSE_ERROR"
	}
	for _, col := range []int{colClaimID, colLineNo, colMemberID, colServiceDate, colBenefitCode, colCountry, colCurrency, colBilledAmount} {
		if rec[col] == "" {
			return "MISSING_FIELD " + claimColumns[col]
		}
	}
	if n, err := strconv.Atoi(rec[colLineNo]); err != nil || n < 1 {
		return "INVALID_VALUE line_no"
	}
	var ok bool
	if c.service, ok = parseOptDate(rec[colServiceDate]); !ok {
		return "INVALID_VALUE service_date"
	}
	if c.end, ok = parseOptDate(rec[colServiceEndDate]); !ok {
		return "INVALID_VALUE service_end_date"
	}
	if c.end != claim.NoDate && c.end < c.service {
		return "INVALID_VALUE service_end_date before service_date"
	}
	if c.recv, ok = parseOptDate(rec[colReceivedDate]); !ok {
		return "INVALID_VALUE received_date"
	}
	switch rec[colEmergency] {
	case "", "Y", "N":
	default:
		return "INVALID_VALUE emergency"
	}
	switch rec[colPayee] {
	case "", "provider", "member":
	default:
		return "INVALID_VALUE payee"
	}
	if u := rec[colUnits]; u != "" {
		if n, err := strconv.Atoi(u); err != nil || n < 1 {
			return "INVALID_VALUE units"
		}
	}
	var err error
	if c.billed, err = claim.ParseMoney(rec[colBilledAmount]); err != nil {
		return "INVALID_VALUE billed_amount"
	}
	if c.billed < 0 {
		return "INVALID_VALUE billed_amount negative"
	}
	if len(rec[colCountry]) != 2 || len(rec[colCurrency]) != 3 {
		return "INVALID_VALUE country or currency"
	}
	_, needsItem, known := p.Lookup(rec[colBenefitCode])
	if !known {
		return "UNKNOWN_BENEFIT"
	}
	if needsItem && rec[colItemCode] == "" {
		return "MISSING_FIELD item_code"
	}
	spans := r.members[rec[colMemberID]]
	if len(spans) == 0 {
		return "UNKNOWN_MEMBER"
	}
	if cur := rec[colCurrency]; cur != spans[0].currency {
		dates := r.fx[[2]string{cur, spans[0].currency}]
		if len(dates) == 0 || dates[0] > c.service {
			return "NO_FX_RATE"
		}
	}
	key := [2]string{rec[colClaimID], rec[colLineNo]}
	if seen[key] {
		return "DUPLICATE_LINE"
	}
	seen[key] = true
	return ""
}
