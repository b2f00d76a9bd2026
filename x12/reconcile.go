package x12

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"

	"claimsbatch/claim"
	"claimsbatch/readers"
)

// Reconcile checks the 835s of a run against its payments file (CSV or
// Parquet, SPEC section 7): every provider row (payee_type provider) must
// have exactly one file of its payee and currency whose BPR02 is its
// plan_paid and whose service lines number its line_count, and every file
// must have its row. It returns the mismatches (nil when everything ties
// out); the error is for a payments file that cannot be read.
func Reconcile(files []File, payments string) ([]string, error) {
	t, err := readers.OpenTable(payments, []readers.TableColumn{
		{Name: "payee_type"}, {Name: "payee_id"}, {Name: "plan_currency"}, {Name: "line_count"}, {Name: "plan_paid"},
	}, readers.Options{})
	if err != nil {
		return nil, fmt.Errorf("x12: payments: %w", err)
	}
	defer t.Close()
	type key struct{ payee, currency string }
	byKey := make(map[key]*File, len(files))
	var problems []string
	for i := range files {
		f := &files[i]
		k := key{f.PayeeID, f.Currency}
		if byKey[k] != nil {
			problems = append(problems, fmt.Sprintf("%s and %s are both for payee %s %s", byKey[k].Name, f.Name, f.PayeeID, f.Currency))
		}
		byKey[k] = f
	}
	seen := make(map[key]bool, len(files))
	for t.Next() {
		v := t.Record()
		if v[0] != "provider" {
			continue
		}
		k := key{v[1], v[2]}
		where := fmt.Sprintf("payments row %d (%s %s)", t.Row(), k.payee, k.currency)
		paid, err := claim.ParseMoney(v[4])
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: plan_paid %q is not an amount", where, v[4]))
			continue
		}
		lines, err := strconv.Atoi(v[3])
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: line_count %q is not an integer", where, v[3]))
			continue
		}
		seen[k] = true
		f := byKey[k]
		switch {
		case f == nil:
			problems = append(problems, fmt.Sprintf("%s: no 835 for this provider payee", where))
		case f.Paid != paid:
			problems = append(problems, fmt.Sprintf("%s: plan_paid %s, but %s pays %s (BPR02)", where, paid, f.Name, f.Paid))
		case f.Lines != lines:
			problems = append(problems, fmt.Sprintf("%s: line_count %d, but %s has %d service lines", where, lines, f.Name, f.Lines))
		}
	}
	if err := t.Err(); err != nil {
		return nil, fmt.Errorf("x12: payments: %w", err)
	}
	var orphans []*File
	for k, f := range byKey {
		if !seen[k] {
			orphans = append(orphans, f)
		}
	}
	slices.SortFunc(orphans, func(a, b *File) int { return cmp.Compare(a.Name, b.Name) })
	for _, f := range orphans {
		problems = append(problems, fmt.Sprintf("%s: payee %s %s has no provider row in %s", f.Name, f.PayeeID, f.Currency, payments))
	}
	return problems, nil
}

// VerifyFiles rechecks published 835 files, as verify does for a run: each
// must pass Check and hold one transaction set, and together they must tie
// out to the payments file (Reconcile, the payee being each file's REF*PQ).
// It returns every problem; the error is for a file that cannot be read.
func VerifyFiles(paths []string, payments string) ([]string, error) {
	reps := make([]*Report, 0, len(paths))
	for _, p := range paths {
		rep, err := InspectFile(p)
		if err != nil {
			return nil, fmt.Errorf("x12: %w", err)
		}
		reps = append(reps, rep)
	}
	return VerifyReports(reps, payments)
}

// VerifyReports is VerifyFiles on files already read with Inspect (for a
// caller that also wants their counts, or names them its own way): each
// report's problems, one transaction set per file, and the tie-out to the
// payments file, the files named by the base of Report.File.
func VerifyReports(reps []*Report, payments string) ([]string, error) {
	var problems []string
	files := make([]File, 0, len(reps))
	for _, rep := range reps {
		for _, pr := range rep.Problems {
			problems = append(problems, pr.String())
		}
		if len(rep.Sets) != 1 {
			problems = append(problems, fmt.Sprintf("%s: %d transaction sets, want 1", rep.File, len(rep.Sets)))
			continue
		}
		s := rep.Sets[0]
		files = append(files, File{
			Name: filepath.Base(rep.File), PayeeID: s.PayeeRef, Currency: s.Currency,
			Stats: Stats{Segments: rep.Segments, Claims: s.Claims, Lines: s.Lines, Paid: s.Amount},
		})
	}
	more, err := Reconcile(files, payments)
	if err != nil {
		return nil, err
	}
	return append(problems, more...), nil
}
