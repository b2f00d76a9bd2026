// Package verify rechecks a published run directory against its manifest:
// the files are the ones the run wrote, and their numbers tie out (see
// Verify). It reads the outputs with package readers, as any user's tool
// would, and the X12 835 files with package x12; it may import only claim,
// readers, writers and x12.
//
// Its problems name files, rows, columns, codes and currencies, never a
// member id, a claim id or a member's payee id: a verify report goes into
// logs and tickets. The one exception is a provider's id, which an 835's
// file name and its tie-out to the payments file carry (providers are
// businesses; members get no 835).
package verify

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"claimsbatch/claim"
	"claimsbatch/readers"
	"claimsbatch/writers"
	"claimsbatch/x12"
)

// ErrNoRun is wrapped by the errors that stop a check before it starts: the
// directory is missing or holds no manifest (the command line exits 2).
var ErrNoRun = errors.New("verify: not a published run")

// maxLineProblems bounds how many per-row mismatches Verify lists for one
// file; the rest are counted in one closing problem, so a file garbled
// throughout gives a readable report instead of millions of lines.
const maxLineProblems = 20

// Options tune Verify. The zero value checks everything but a signature.
type Options struct {
	// Key is the public key the manifest must be signed with: when set, a
	// missing signature file (writers.SignatureName), one made with another
	// key, or one that does not match the manifest's bytes is a problem.
	// nil: a signature, if any, is not checked.
	Key ed25519.PublicKey
}

// Verify rechecks a published run directory against its manifest.json, so
// that a nightly job (or an auditor) can tell that the files in dir are the
// ones the run wrote and that their numbers tie out. It checks:
//
//   - with Options.Key, the manifest's signature;
//   - every output the manifest lists exists, and its SHA-256 and row count
//     (CSV: records minus the header; Parquet: the footer's row count) are
//     the manifest's; nothing else is in dir (a file no manifest lists is
//     not part of the run: a leftover of another, or something added);
//   - the manifest's control totals hold (writers.ControlTotals.Check) and
//     agree with its per-input counts;
//   - remittance: on every line charge = plan_paid + deductible + coinsurance
//   - not_covered and member_responsibility = deductible + coinsurance +
//     not_covered, run_id is the manifest's; the rows are in order of
//     member_id, then service_date (the file has no received_date, the
//     next key of the order); the per-currency sums (lines, charge,
//     plan_paid, deductible, coinsurance, not_covered, member_responsibility,
//     plan_paid per module and per payee type), the billed amounts per
//     billed currency and the service dates' range are the manifest's;
//   - payments: sorted by payee type, payee id and currency, one row each;
//     every row's line_count and plan_paid are those of the payee's lines in
//     the remittance, and every payee of the remittance has its row;
//   - exceptions: in input order (the manifest's inputs, then rows), and the
//     rows match the manifest's exception counts (in total per input, per
//     code for the claims files' rows and per input where source names are
//     unique);
//   - state: its META rows name the manifest's run id and plan, and it
//     passes the state reader's checks: its END trailer (counts and SHA-256
//     of every row), no negative value;
//   - the turnaround section, when there is one: its counts add up
//     (writers.Turnaround.Check) and it measured every adjudicated line;
//   - X12 835 files (835/*.835): each passes x12's checks (envelopes,
//     counts, control numbers, balancing) with one transaction set, has the
//     manifest's number of segments as rows, and together they tie out to
//     the payments file (x12.VerifyReports);
//   - any other output (report.html): its SHA-256 only.
//
// Outputs are read as CSV or Parquet by extension, streaming. problems lists
// every mismatch, each naming its file (at most maxLineProblems per-row
// mismatches per file, then their count); it is empty when the run checks
// out. err is for what stops the check before it starts: dir missing or not a
// directory, no manifest.json in it or one that cannot be opened; it wraps
// ErrNoRun. A manifest that does not decode is a problem, not an error: the
// directory does not hold what a run published.
func Verify(dir string, opt Options) (problems []string, err error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoRun, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%w: %s is not a directory", ErrNoRun, dir)
	}
	raw, err := os.ReadFile(filepath.Join(dir, writers.ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s has no %s (a failed or killed run publishes none)", ErrNoRun, dir, writers.ManifestName)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoRun, err)
	}
	v := &verifier{dir: dir, unreadable: map[string]bool{}}
	if opt.Key != nil {
		v.checkSignature(opt.Key, raw)
	}
	man, err := writers.ReadManifest(bytes.NewReader(raw))
	if err != nil {
		v.addf("%s: not a valid manifest: %v", writers.ManifestName, err)
		return v.problems, nil
	}
	v.man = man
	v.checkManifest()
	v.checkListed()
	for _, o := range man.Outputs {
		v.checkOutput(o)
	}
	v.crossCheck()
	v.check835s()
	return v.problems, nil
}

// checkSignature checks the manifest's detached signature with key.
func (v *verifier) checkSignature(key ed25519.PublicKey, manifest []byte) {
	sig, err := os.ReadFile(filepath.Join(v.dir, writers.SignatureName))
	if errors.Is(err, fs.ErrNotExist) {
		v.addf("%s: missing: the run is not signed", writers.SignatureName)
		return
	}
	if err != nil {
		v.addf("%s: %v", writers.SignatureName, err)
		return
	}
	if err := writers.VerifyManifest(key, manifest, sig); err != nil {
		v.addf("%s: %v", writers.SignatureName, err)
	}
}

// checkListed reports what dir holds beyond the manifest, its signature
// and the outputs the manifest lists: files of another run (an earlier run
// of another format, say) or added later are not part of this one.
func (v *verifier) checkListed() {
	listed := map[string]bool{writers.ManifestName: true, writers.SignatureName: true}
	dirs := map[string]bool{}
	for _, o := range v.man.Outputs {
		name := filepath.ToSlash(o.Name)
		listed[name] = true
		for d := path.Dir(name); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	root := v.dir
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if err != nil {
			v.addf("%s: %v", rel, err)
			return nil
		}
		if d.IsDir() {
			if dirs[rel] {
				return nil
			}
			v.addf("%s/: not listed in %s: not part of this run", rel, writers.ManifestName)
			return fs.SkipDir
		}
		if !listed[rel] {
			v.addf("%s: not listed in %s: not part of this run", rel, writers.ManifestName)
		}
		return nil
	})
}

type verifier struct {
	dir      string
	man      *writers.Manifest
	problems []string

	// What the content checks found, for the cross-file checks.
	remittance *currencySums               // nil when the manifest lists no remittance
	remName    string                      // its file name
	payments   map[string]*paymentSums     // per plan currency; nil when no payments file
	payRows    map[payeeKey]*payeeSums     // per payee and plan currency, from the payments file
	payName    string                      // its file name
	exceptions map[string]map[string]int64 // per source, per code; nil when no exceptions file
	exName     string
	// unreadable holds the tables whose content could not be read to the
	// end; their partial sums are left out of the cross-file checks.
	unreadable map[string]bool
	// x12 are the X12 835 outputs, checked together once the payments
	// file is known.
	x12 []writers.Output
}

// currencySums are the remittance's totals, recomputed line by line.
type currencySums struct {
	rows   int64
	byCur  map[string]*writers.CurrencyTotals
	billed map[string]*writers.BilledTotals // per billed currency
	first  claim.Date                       // service dates' range; claim.NoDate until a line is read
	last   claim.Date
	payees map[payeeKey]*payeeSums
}

type paymentSums struct {
	lines int64
	paid  claim.Money
}

// payeeKey is a payments row's key; its text stays inside verify.
type payeeKey struct {
	payeeType, payeeID, currency string
}

// payeeSums is one payee's lines and plan_paid, and the first row (from 1)
// that names the payee in the file they come from.
type payeeSums struct {
	lines int64
	paid  claim.Money
	row   int64
}

func (v *verifier) addf(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

// checkManifest checks the manifest's own arithmetic: the control totals'
// identities and their agreement with the per-input counts.
func (v *verifier) checkManifest() {
	ct := &v.man.ControlTotals
	if err := ct.Check(); err != nil {
		v.addf("%s: %v", writers.ManifestName, err)
	}
	var rows, adjudicated, exceptions int64
	for _, in := range v.man.Inputs {
		if in.Role != writers.RoleClaims {
			continue
		}
		rows += in.Rows
		adjudicated += in.Adjudicated
		exceptions += in.Exceptions
		if in.Rows != in.Adjudicated+in.Exceptions {
			v.addf("%s: input %s: rows %d != adjudicated %d + exceptions %d", writers.ManifestName, in.Path, in.Rows, in.Adjudicated, in.Exceptions)
		}
	}
	if rows != ct.LinesRead || adjudicated != ct.LinesAdjudicated || exceptions != ct.Exceptions {
		v.addf("%s: the claims inputs add up to %d rows, %d adjudicated, %d exceptions; control_totals say %d, %d, %d",
			writers.ManifestName, rows, adjudicated, exceptions, ct.LinesRead, ct.LinesAdjudicated, ct.Exceptions)
	}
	if ta := v.man.Turnaround; ta != nil {
		if err := ta.Check(); err != nil {
			v.addf("%s: %v", writers.ManifestName, err)
		}
		if ta.Lines != ct.LinesAdjudicated {
			v.addf("%s: turnaround measured %d lines, control_totals say %d adjudicated", writers.ManifestName, ta.Lines, ct.LinesAdjudicated)
		}
	}
}

// outputKind is the table an output name holds: "remittance", "payments",
// "exceptions", "state", or "" for a name Verify has no content check for
// (only its bytes are checked).
func outputKind(name string) string {
	base, parquet := strings.CutSuffix(name, ".parquet")
	if !parquet {
		var ok bool
		if base, ok = strings.CutSuffix(name, ".csv"); !ok {
			return ""
		}
	}
	switch base {
	case writers.RemittanceName, writers.PaymentsName, writers.ExceptionsName, writers.StateName:
		return base
	}
	return ""
}

// checkOutput checks one output's bytes, row count and content.
func (v *verifier) checkOutput(o writers.Output) {
	if !validOutputName(o.Name) {
		v.addf("%s: output name %q is not a relative path of an output", writers.ManifestName, o.Name)
		return
	}
	path := filepath.Join(v.dir, filepath.FromSlash(o.Name))
	kind := outputKind(o.Name)
	t := &tableCheck{v: v, name: o.Name}
	switch kind {
	case writers.RemittanceName:
		t.columns, t.row = v.remittanceRow(o.Name)
	case writers.PaymentsName:
		t.columns, t.row = v.paymentsRow(o.Name)
	case writers.ExceptionsName:
		t.columns, t.row = v.exceptionsRow(o.Name)
	case writers.StateName:
		t.columns, t.row = v.stateRow(o.Name)
	}
	if is835(o.Name) {
		v.x12 = append(v.x12, o)
	}
	sum, rows, err := t.read(path)
	if errors.Is(err, fs.ErrNotExist) {
		v.addf("%s: listed in %s but missing from %s", o.Name, writers.ManifestName, v.dir)
		return
	}
	if err != nil {
		v.addf("%s: %v", o.Name, err)
		if kind != "" {
			v.unreadable[kind] = true
		}
	}
	if sum != "" && sum != o.SHA256 {
		v.addf("%s: sha256 %s, %s says %s (the file was changed after the run published it)", o.Name, sum, writers.ManifestName, o.SHA256)
	}
	if rows >= 0 && rows != o.Rows {
		v.addf("%s: %d rows, %s says %d", o.Name, rows, writers.ManifestName, o.Rows)
	}
	v.problems = append(v.problems, t.rowProblems...)
	if t.lineProblems > maxLineProblems {
		v.addf("%s: %d more row-level mismatches (the first %d are listed)", o.Name, t.lineProblems-maxLineProblems, maxLineProblems)
	}
	if kind == writers.StateName && err == nil {
		v.checkState(o.Name)
	}
}

// is835 reports whether an output is one of the run's X12 835 files.
func is835(name string) bool {
	return strings.HasPrefix(name, writers.X12Dir+"/") && strings.HasSuffix(name, ".835")
}

// check835s rechecks the run's X12 835 files (x12.VerifyReports): each
// passes the 835 checks (envelopes, counts, balancing) and holds one
// transaction set, its segments number the manifest's rows, and together
// they tie out to the payments file: one per provider payee and currency,
// paying its plan_paid for its line_count. Their hashes are checked with
// the other outputs. A problem names the file (whose name carries the
// provider's id, a business id: members get no 835) and the segment, not
// the claim.
func (v *verifier) check835s() {
	if len(v.x12) == 0 {
		return
	}
	if v.payName == "" || v.unreadable[writers.PaymentsName] {
		v.addf("%s: lists %d X12 835 files but no readable payments output to tie them out to", writers.ManifestName, len(v.x12))
		return
	}
	reps := make([]*x12.Report, 0, len(v.x12))
	for _, o := range v.x12 {
		f, err := os.Open(filepath.Join(v.dir, filepath.FromSlash(o.Name)))
		if err != nil {
			continue // checkOutput has reported it
		}
		rep := x12.Inspect(f, o.Name)
		f.Close()
		if int64(rep.Segments) != o.Rows {
			v.addf("%s: %d segments, %s says %d", o.Name, rep.Segments, writers.ManifestName, o.Rows)
		}
		for i := range rep.Problems {
			rep.Problems[i].Claim = ""
		}
		reps = append(reps, rep)
	}
	problems, err := x12.VerifyReports(reps, filepath.Join(v.dir, v.payName))
	if err != nil {
		v.addf("%s: %v", v.payName, err)
		return
	}
	v.problems = append(v.problems, problems...)
}

// validOutputName accepts a clean relative path below the run directory
// ("remittance.csv", "835/P1.835"), other than the manifest and its
// signature.
func validOutputName(name string) bool {
	if name == "" || name == writers.ManifestName || name == writers.SignatureName || strings.ContainsAny(name, "\\\x00") {
		return false
	}
	for part := range strings.SplitSeq(name, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
	}
	return true
}

// tableCheck reads one output table: it hashes the bytes, counts the rows
// and hands the wanted columns of each row, as text, to row (nil: count and
// hash only).
type tableCheck struct {
	v            *verifier
	name         string
	columns      []string
	row          func(t *tableCheck, n int64, rec []string)
	lineProblems int      // row-level mismatches
	rowProblems  []string // the first maxLineProblems of them, listed after the file-level ones
}

// lineProblem records a mismatch of data row n (counted from 1, header
// excluded, as the exceptions file counts rows).
func (t *tableCheck) lineProblem(n int64, format string, args ...any) {
	t.lineProblems++
	if t.lineProblems <= maxLineProblems {
		t.rowProblems = append(t.rowProblems, fmt.Sprintf("%s row %d: %s", t.name, n, fmt.Sprintf(format, args...)))
	}
}

// money parses an amount column of row n; a bad one is a line problem.
func (t *tableCheck) money(n int64, column, s string) (claim.Money, bool) {
	m, err := claim.ParseMoney(s)
	if err != nil {
		t.lineProblem(n, "%s %q is not an amount", column, s)
		return 0, false
	}
	return m, true
}

// read hashes the file, then reads it as a table (for a CSV or Parquet
// output) and hands the wanted columns of each row to t.row. rows is the
// number of data rows, -1 when the file is not a table or does not read to
// the end (err says where).
func (t *tableCheck) read(path string) (sum string, rows int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", -1, err
	}
	h := sha256.New()
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		return "", -1, err
	}
	sum = hex.EncodeToString(h.Sum(nil))
	if !strings.HasSuffix(path, ".csv") && !strings.HasSuffix(path, ".parquet") {
		return sum, -1, nil
	}
	columns := make([]readers.TableColumn, len(t.columns))
	for i, c := range t.columns {
		columns[i] = readers.TableColumn{Name: c}
	}
	// Outputs are ours and compress well: the readers' decompression-bomb
	// bound is for inputs.
	r, err := readers.OpenTable(path, columns, readers.Options{MaxExpansion: 1 << 16})
	if err != nil {
		return sum, -1, withoutPath(path, err)
	}
	defer r.Close()
	var n int64
	for r.Next() {
		n++
		if t.row != nil {
			t.row(t, n, r.Record())
		}
	}
	if err := r.Err(); err != nil {
		return sum, -1, fmt.Errorf("not readable after %d data rows: %w", n, withoutPath(path, err))
	}
	return sum, n, nil
}

// withoutPath drops the path the readers put first in their messages:
// verify's problems name the file themselves.
func withoutPath(path string, err error) error {
	if msg, ok := strings.CutPrefix(err.Error(), path+": "); ok {
		return pathless{msg, err}
	}
	return err
}

// pathless is an error with a shorter message and the same chain.
type pathless struct {
	msg string
	err error
}

func (p pathless) Error() string { return p.msg }
func (p pathless) Unwrap() error { return p.err }

// The content checks, one per table. Each returns the columns it reads and
// the function that checks a row of them.

func (v *verifier) remittanceRow(name string) ([]string, func(*tableCheck, int64, []string)) {
	if v.remittance != nil {
		v.addf("%s: lists a second remittance output %s", writers.ManifestName, name)
		return nil, nil
	}
	sums := &currencySums{byCur: map[string]*writers.CurrencyTotals{}, billed: map[string]*writers.BilledTotals{},
		first: claim.NoDate, last: claim.NoDate, payees: map[payeeKey]*payeeSums{}}
	v.remittance, v.remName = sums, name
	const (
		runID = iota
		memberID
		serviceDate
		planCurrency
		module
		payeeType
		payeeID
		billedCurrency
		billedAmount
		charge
		deductible
		coinsurance
		notCovered
		planPaid
		memberResp
	)
	columns := []string{"run_id", "member_id", "service_date", "plan_currency", "module", "payee_type", "payee_id",
		"billed_currency", "billed_amount", "charge", "deductible", "coinsurance", "not_covered", "plan_paid", "member_responsibility"}
	var prevMember, prevDate []byte
	return columns, func(t *tableCheck, n int64, rec []string) {
		sums.rows = n
		if rec[runID] != v.man.RunID {
			t.lineProblem(n, "run_id %q, %s says %q", rec[runID], writers.ManifestName, v.man.RunID)
		}
		if n > 1 && cmp.Or(strings.Compare(rec[memberID], string(prevMember)), strings.Compare(rec[serviceDate], string(prevDate))) < 0 {
			t.lineProblem(n, "out of order: its (member_id, service_date) sorts before row %d's", n-1)
		}
		prevMember, prevDate = append(prevMember[:0], rec[memberID]...), append(prevDate[:0], rec[serviceDate]...)
		if d, err := claim.ParseDate(rec[serviceDate]); err != nil {
			t.lineProblem(n, "service_date is not a YYYY-MM-DD date")
		} else {
			if sums.first == claim.NoDate || d < sums.first {
				sums.first = d
			}
			if sums.last == claim.NoDate || d > sums.last {
				sums.last = d
			}
		}
		var amounts [7]claim.Money
		for i := range amounts {
			m, ok := t.money(n, columns[billedAmount+i], rec[billedAmount+i])
			if !ok {
				return
			}
			amounts[i] = m
		}
		b, c, d, co, nc, pp, mr := amounts[0], amounts[1], amounts[2], amounts[3], amounts[4], amounts[5], amounts[6]
		if sum := pp + d + co + nc; c != sum {
			t.lineProblem(n, "charge %s != plan_paid + deductible + coinsurance + not_covered = %s", c, sum)
		}
		if sum := d + co + nc; mr != sum {
			t.lineProblem(n, "member_responsibility %s != deductible + coinsurance + not_covered = %s", mr, sum)
		}
		bt := sums.billed[rec[billedCurrency]]
		if bt == nil {
			bt = &writers.BilledTotals{Currency: strings.Clone(rec[billedCurrency])}
			sums.billed[bt.Currency] = bt
		}
		bt.Lines++
		bt.Billed += b
		key := payeeKey{rec[payeeType], rec[payeeID], rec[planCurrency]}
		ps := sums.payees[key]
		if ps == nil {
			ps = &payeeSums{row: n}
			sums.payees[payeeKey{strings.Clone(key.payeeType), strings.Clone(key.payeeID), strings.Clone(key.currency)}] = ps
		}
		ps.lines++
		ps.paid += pp
		cur := sums.byCur[rec[planCurrency]]
		if cur == nil {
			cur = &writers.CurrencyTotals{PlanCurrency: strings.Clone(rec[planCurrency])}
			sums.byCur[cur.PlanCurrency] = cur
		}
		cur.Lines++
		cur.Charge += c
		cur.Deductible += d
		cur.Coinsurance += co
		cur.NotCovered += nc
		cur.PlanPaid += pp
		cur.MemberResponsibility += mr
		switch rec[module] {
		case claim.Core.String():
			cur.PaidByModule.Core += pp
		case claim.Outpatient.String():
			cur.PaidByModule.Outpatient += pp
		case claim.Dental.String():
			cur.PaidByModule.Dental += pp
		default:
			t.lineProblem(n, "module %q is not core, outpatient or dental", rec[module])
		}
		switch rec[payeeType] {
		case claim.PayeeProvider.String():
			cur.PaidByPayee.Provider += pp
		case claim.PayeeMember.String():
			cur.PaidByPayee.Member += pp
		default:
			t.lineProblem(n, "payee_type %q is not provider or member", rec[payeeType])
		}
	}
}

func (v *verifier) paymentsRow(name string) ([]string, func(*tableCheck, int64, []string)) {
	if v.payments != nil {
		v.addf("%s: lists a second payments output %s", writers.ManifestName, name)
		return nil, nil
	}
	sums := map[string]*paymentSums{}
	rows := map[payeeKey]*payeeSums{}
	v.payments, v.payRows, v.payName = sums, rows, name
	var prev payeeKey
	return []string{"payee_type", "payee_id", "plan_currency", "line_count", "plan_paid"}, func(t *tableCheck, n int64, rec []string) {
		// Payments rows are few (one per payee): their strings are kept.
		key := payeeKey{strings.Clone(rec[0]), strings.Clone(rec[1]), strings.Clone(rec[2])}
		if n > 1 {
			switch c := comparePayees(prev, key); {
			case c == 0:
				t.lineProblem(n, "the same payee and plan currency as row %d", n-1)
			case c > 0:
				t.lineProblem(n, "out of order: its (payee_type, payee_id, plan_currency) sorts before row %d's", n-1)
			}
		}
		prev = key
		lines, err := strconv.ParseInt(rec[3], 10, 64)
		if err != nil {
			t.lineProblem(n, "line_count %q is not an integer", rec[3])
			return
		}
		paid, ok := t.money(n, "plan_paid", rec[4])
		if !ok {
			return
		}
		s := sums[key.currency]
		if s == nil {
			s = &paymentSums{}
			sums[key.currency] = s
		}
		s.lines += lines
		s.paid += paid
		if rows[key] == nil {
			rows[key] = &payeeSums{lines: lines, paid: paid, row: n}
		}
	}
}

// comparePayees orders payments rows as the run writes them: providers
// before members, then by payee id and plan currency (byte order).
func comparePayees(a, b payeeKey) int {
	rank := func(t string) int {
		switch t {
		case claim.PayeeProvider.String():
			return 1
		case claim.PayeeMember.String():
			return 2
		}
		return 3
	}
	return cmp.Or(cmp.Compare(rank(a.payeeType), rank(b.payeeType)), strings.Compare(a.payeeID, b.payeeID), strings.Compare(a.currency, b.currency))
}

func (v *verifier) exceptionsRow(name string) ([]string, func(*tableCheck, int64, []string)) {
	if v.exceptions != nil {
		v.addf("%s: lists a second exceptions output %s", writers.ManifestName, name)
		return nil, nil
	}
	counts := map[string]map[string]int64{}
	v.exceptions, v.exName = counts, name
	// The order: the manifest's inputs in turn, each one's rows ascending.
	var sources []string
	for _, in := range v.man.Inputs {
		sources = append(sources, filepath.Base(in.Path))
	}
	at, prevRow := 0, int64(0)
	return []string{"source", "code", "row"}, func(t *tableCheck, n int64, rec []string) {
		bySource := counts[rec[0]]
		if bySource == nil {
			bySource = map[string]int64{}
			counts[strings.Clone(rec[0])] = bySource
		}
		if _, ok := bySource[rec[1]]; ok {
			bySource[rec[1]]++
		} else {
			bySource[strings.Clone(rec[1])] = 1
		}
		row, err := strconv.ParseInt(rec[2], 10, 64)
		if err != nil || row < 1 {
			t.lineProblem(n, "row %q is not a row number", rec[2])
			return
		}
		if at < len(sources) && rec[0] == sources[at] {
			if row < prevRow {
				t.lineProblem(n, "out of order: row %d of %s comes after its row %d", row, rec[0], prevRow)
			}
			prevRow = row
			return
		}
		next := slices.Index(sources[min(at+1, len(sources)):], rec[0])
		if next < 0 {
			if slices.Contains(sources, rec[0]) {
				t.lineProblem(n, "out of order: a row of %s after the rows of a later input", rec[0])
			} else {
				t.lineProblem(n, "source %q is not an input in %s", rec[0], writers.ManifestName)
			}
			return
		}
		at += 1 + next
		prevRow = row
	}
}

// checkState reads the state file with the state reader, which checks its
// trailer and values.
func (v *verifier) checkState(name string) {
	path := filepath.Join(v.dir, name)
	r, err := readers.OpenState(path, readers.Options{})
	if err != nil {
		v.addf("%s: %v", name, withoutPath(path, err))
		return
	}
	defer r.Close()
	for r.Next() {
	}
	if err := r.Err(); err != nil {
		v.addf("%s: %v", name, withoutPath(path, err))
	}
}

func (v *verifier) stateRow(name string) ([]string, func(*tableCheck, int64, []string)) {
	return []string{"kind", "key", "detail"}, func(t *tableCheck, n int64, rec []string) {
		if rec[0] != claim.KindMeta {
			return
		}
		var want string
		switch rec[1] {
		case claim.MetaRunID:
			want = v.man.RunID
		case claim.MetaPlan:
			want = v.man.Plan.SHA256
		default:
			return
		}
		if rec[2] != want {
			t.lineProblem(n, "META %s %q, %s says %q", rec[1], rec[2], writers.ManifestName, want)
		}
	}
}

// crossCheck compares what the files add up to with the manifest and with
// each other. A table whose content could not be read to the end is left
// out: its partial sums would only add noise to the error already listed.
func (v *verifier) crossCheck() {
	remOK := v.remittance != nil && !v.unreadable[writers.RemittanceName]
	if remOK {
		v.checkRemittanceTotals()
	} else if v.remittance == nil && len(v.man.ControlTotals.PerCurrency) > 0 {
		v.addf("%s: has per-currency totals but lists no remittance output", writers.ManifestName)
	}
	if remOK && v.payments != nil && !v.unreadable[writers.PaymentsName] {
		v.checkPayments()
		v.checkPayees()
	}
	if v.exceptions != nil && !v.unreadable[writers.ExceptionsName] {
		v.checkExceptions()
	}
}

// checkRemittanceTotals compares the remittance's sums with the manifest.
// The service dates and billed totals are checked when the manifest has
// them (releases before they were recorded wrote none).
func (v *verifier) checkRemittanceTotals() {
	ct, rem := &v.man.ControlTotals, v.remittance
	if rem.rows != ct.LinesAdjudicated {
		v.addf("%s: %d lines, %s control_totals say %d adjudicated", v.remName, rem.rows, writers.ManifestName, ct.LinesAdjudicated)
	}
	if r := ct.ServiceDates; r != nil && (r.From != rem.first || r.To != rem.last) {
		v.addf("%s: service dates from %s to %s, %s service_dates says %s to %s", v.remName, rem.first, rem.last, writers.ManifestName, r.From, r.To)
	}
	if ct.ServiceDates != nil || ct.BilledPerCurrency != nil {
		for _, c := range sortedUnion(rem.billed, ct.BilledPerCurrency, func(b writers.BilledTotals) string { return b.Currency }) {
			got := writers.BilledTotals{Currency: c}
			if b := rem.billed[c]; b != nil {
				got = *b
			}
			want := writers.BilledTotals{Currency: c}
			if i := slices.IndexFunc(ct.BilledPerCurrency, func(b writers.BilledTotals) bool { return b.Currency == c }); i >= 0 {
				want = ct.BilledPerCurrency[i]
			}
			if got.Lines != want.Lines || got.Billed != want.Billed {
				v.addf("%s: billed in %s: %d lines, %s; %s billed_per_currency says %d lines, %s",
					v.remName, c, got.Lines, got.Billed, writers.ManifestName, want.Lines, want.Billed)
			}
		}
	}
	for _, c := range sortedUnion(rem.byCur, ct.PerCurrency, func(t writers.CurrencyTotals) string { return t.PlanCurrency }) {
		got := writers.CurrencyTotals{PlanCurrency: c}
		if s := rem.byCur[c]; s != nil {
			got = *s
		}
		want := writers.CurrencyTotals{PlanCurrency: c}
		if i := slices.IndexFunc(ct.PerCurrency, func(t writers.CurrencyTotals) bool { return t.PlanCurrency == c }); i >= 0 {
			want = ct.PerCurrency[i]
		}
		v.compareTotals(got, want)
	}
}

// sortedUnion returns the keys of m and the names of list's items, sorted,
// each once: the currencies (or codes) that either side of a comparison has.
func sortedUnion[V, T any](m map[string]V, list []T, name func(T) string) []string {
	keys := make([]string, 0, len(m)+len(list))
	for k := range m {
		keys = append(keys, k)
	}
	for _, item := range list {
		keys = append(keys, name(item))
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// checkPayments compares the payments' sums per currency with the
// remittance's.
func (v *verifier) checkPayments() {
	currencies := make([]string, 0, len(v.payments))
	for c := range v.payments {
		currencies = append(currencies, c)
	}
	for c := range v.remittance.byCur {
		if _, ok := v.payments[c]; !ok {
			currencies = append(currencies, c)
		}
	}
	slices.Sort(currencies)
	for _, c := range currencies {
		var pay paymentSums
		if p := v.payments[c]; p != nil {
			pay = *p
		}
		var rem writers.CurrencyTotals
		if r := v.remittance.byCur[c]; r != nil {
			rem = *r
		}
		if pay.paid != rem.PlanPaid {
			v.addf("%s: %s plan_paid adds up to %s, %s plan_paid to %s", v.payName, c, pay.paid, v.remName, rem.PlanPaid)
		}
		if pay.lines != rem.Lines {
			v.addf("%s: %s line_count adds up to %d, %s has %d lines", v.payName, c, pay.lines, v.remName, rem.Lines)
		}
	}
}

// checkPayees compares the payments file with the remittance payee by
// payee: each row's line_count and plan_paid with the payee's lines, and
// every payee of the remittance with its row. Problems name rows, never a
// payee (a member's payee id is the member id).
func (v *verifier) checkPayees() {
	rem := v.remittance.payees
	var problems []string
	add := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	for key, p := range v.payRows {
		r := rem[key]
		switch {
		case r == nil:
			add("%s row %d: a payee with no line in %s", v.payName, p.row, v.remName)
		case r.lines != p.lines || r.paid != p.paid:
			add("%s row %d: line_count %d, plan_paid %s; the payee's lines in %s (from row %d) are %d, plan_paid %s",
				v.payName, p.row, p.lines, p.paid, v.remName, r.row, r.lines, r.paid)
		}
	}
	for key, r := range rem {
		if v.payRows[key] == nil {
			add("%s row %d: its payee (%s, plan currency %s) has no row in %s", v.remName, r.row, key.payeeType, key.currency, v.payName)
		}
	}
	// Map order is random: sort by file, then row number.
	slices.SortFunc(problems, func(a, b string) int {
		fa, ra := splitRow(a)
		fb, rb := splitRow(b)
		return cmp.Or(strings.Compare(fa, fb), cmp.Compare(ra, rb), strings.Compare(a, b))
	})
	if len(problems) > maxLineProblems {
		n := len(problems) - maxLineProblems
		problems = append(problems[:maxLineProblems], fmt.Sprintf("%s: %d more payee mismatches (the first %d are listed)", v.payName, n, maxLineProblems))
	}
	v.problems = append(v.problems, problems...)
}

// splitRow splits "file row N: ..." into the file and N.
func splitRow(problem string) (string, int64) {
	file, rest, _ := strings.Cut(problem, " row ")
	num, _, _ := strings.Cut(rest, ":")
	n, _ := strconv.ParseInt(num, 10, 64)
	return file, n
}

// compareTotals reports each total of one currency that differs between the
// remittance (got) and the manifest (want).
func (v *verifier) compareTotals(got, want writers.CurrencyTotals) {
	c := got.PlanCurrency
	if want.PaidByPayee != (writers.PayeeTotals{}) || want.PlanPaid == 0 {
		if got.PaidByPayee.Provider != want.PaidByPayee.Provider {
			v.addf("%s: %s plan_paid to providers adds up to %s, %s per_currency says %s", v.remName, c, got.PaidByPayee.Provider, writers.ManifestName, want.PaidByPayee.Provider)
		}
		if got.PaidByPayee.Member != want.PaidByPayee.Member {
			v.addf("%s: %s plan_paid to members adds up to %s, %s per_currency says %s", v.remName, c, got.PaidByPayee.Member, writers.ManifestName, want.PaidByPayee.Member)
		}
	}
	if got.Lines != want.Lines {
		v.addf("%s: %s has %d lines, %s per_currency says %d", v.remName, c, got.Lines, writers.ManifestName, want.Lines)
	}
	for _, f := range []struct {
		name      string
		got, want claim.Money
	}{
		{"charge", got.Charge, want.Charge},
		{"plan_paid", got.PlanPaid, want.PlanPaid},
		{"deductible", got.Deductible, want.Deductible},
		{"coinsurance", got.Coinsurance, want.Coinsurance},
		{"not_covered", got.NotCovered, want.NotCovered},
		{"member_responsibility", got.MemberResponsibility, want.MemberResponsibility},
		{"plan_paid core", got.PaidByModule.Core, want.PaidByModule.Core},
		{"plan_paid outpatient", got.PaidByModule.Outpatient, want.PaidByModule.Outpatient},
		{"plan_paid dental", got.PaidByModule.Dental, want.PaidByModule.Dental},
	} {
		if f.got != f.want {
			v.addf("%s: %s %s adds up to %s, %s per_currency says %s", v.remName, c, f.name, f.got, writers.ManifestName, f.want)
		}
	}
}

// checkExceptions compares the exceptions file with the manifest: its rows
// with the inputs' exception counts, and its claims rows per code with
// exceptions_by_code. The source column holds a file's base name, so the
// per-code check is skipped when a claims file shares its base name with the
// members or FX file.
func (v *verifier) checkExceptions() {
	var total, inFile int64
	claimSources := map[string]bool{}
	otherSources := map[string]bool{}
	for _, in := range v.man.Inputs {
		total += in.Exceptions
		if in.Role == writers.RoleClaims {
			claimSources[filepath.Base(in.Path)] = true
		} else {
			otherSources[filepath.Base(in.Path)] = true
		}
	}
	byCode := map[string]int64{}
	for source, codes := range v.exceptions {
		for code, n := range codes {
			inFile += n
			if claimSources[source] {
				byCode[code] += n
			}
		}
	}
	if inFile != total {
		v.addf("%s: %d exceptions, the %s inputs' exceptions add up to %d", v.exName, inFile, writers.ManifestName, total)
	}
	v.checkExceptionsPerInput()
	for s := range claimSources {
		if otherSources[s] {
			return
		}
	}
	codes := make([]string, 0, len(byCode))
	for c := range byCode {
		codes = append(codes, c)
	}
	for c := range v.man.ControlTotals.ExceptionsByCode {
		if _, ok := byCode[string(c)]; !ok {
			codes = append(codes, string(c))
		}
	}
	slices.Sort(codes)
	for _, c := range codes {
		if got, want := byCode[c], v.man.ControlTotals.ExceptionsByCode[claim.ExceptionCode(c)]; got != want {
			v.addf("%s: %d claims rows with code %s, %s exceptions_by_code says %d", v.exName, got, c, writers.ManifestName, want)
		}
	}
}

// checkExceptionsPerInput compares the exceptions file's rows per source and
// code with each input's exceptions_by_code, for the inputs whose base name
// (the source column) no other input shares. Manifests of releases before
// exceptions_by_code was recorded per input are skipped.
func (v *verifier) checkExceptionsPerInput() {
	names := map[string]int{}
	for _, in := range v.man.Inputs {
		names[filepath.Base(in.Path)]++
	}
	for _, in := range v.man.Inputs {
		source := filepath.Base(in.Path)
		if names[source] > 1 || in.ExceptionsByCode == nil && in.Exceptions > 0 {
			continue
		}
		got := v.exceptions[source]
		want := map[string]int64{}
		codes := make([]string, 0, len(got)+len(in.ExceptionsByCode))
		for c, n := range in.ExceptionsByCode {
			want[string(c)] = n
			codes = append(codes, string(c))
		}
		for c := range got {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		for _, c := range slices.Compact(codes) {
			if got[c] != want[c] {
				v.addf("%s: %d rows of %s with code %s, %s says %d for that input", v.exName, got[c], source, c, writers.ManifestName, want[c])
			}
		}
	}
}
