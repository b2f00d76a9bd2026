// Package explain answers "why this amount?" for a line of a published run:
// it re-adjudicates the line's member from the run's own inputs, with the
// engine's tracer on, and reports every SPEC step the member's lines went
// through, every accumulator they touched (before, after, limit) and their
// remittance values, checked against the published remittance.
//
// The run's manifest (internal/rundir) names the inputs; explain refuses
// (ErrRefused) when one of them is gone or its SHA-256 no longer matches, so
// it never explains a run with data the run did not see. It then does what
// the run did for one member: the plan (built in, or the file the manifest
// records), the members and FX files (book), the claims files streamed for
// the member's lines with the run's row checks and its DUPLICATE_LINE rule,
// the member's --state-in records, and engine.AdjudicateMember.
//
// Finding the member costs a read of the published remittance (ordered by
// member, so it stops at the member's block when a line is asked), and the
// lines a read of the claims files; memory holds one member.
//
// It imports claim, plan, engine, book, readers, writers and
// internal/rundir.
package explain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"claimsbatch/book"
	"claimsbatch/claim"
	"claimsbatch/engine"
	"claimsbatch/internal/rundir"
	"claimsbatch/readers"
	"claimsbatch/writers"

	"golang.org/x/sync/errgroup"

	"github.com/shopspring/decimal"
)

// ErrRefused is wrapped when explain cannot answer for the run as asked: an
// input changed or is missing, the plan is not findable, the claim or line
// is not in the run, the directory holds no adjudication run. The command
// line exits 2 for it.
var ErrRefused = errors.New("explain: refused")

// ErrMismatch is wrapped when the re-adjudication does not reproduce the
// published remittance for a line: the report says which columns differ.
// The command line exits 1 for it.
var ErrMismatch = errors.New("explain: the re-adjudication differs from the published remittance")

// Options are what explain is asked.
type Options struct {
	RunDir  string // the published run
	ClaimID string
	LineNo  int32 // the line of the claim; 0 = every line of the claim
	// Plan is the run's plan file, when the manifest does not say where
	// it is; "" = as the manifest says.
	Plan string
	// InputDir is the directory the manifest's relative input paths are
	// relative to: where the run was started; "" = the current directory.
	InputDir string
	// Progress, when set, is called from time to time while a big file is
	// scanned, with the file's name and the rows read.
	Progress func(file string, rows int64)
}

// Explain re-adjudicates the member of the asked claim (or line) and
// returns the report. A report whose lines do not all match the published
// remittance is returned with an error wrapping ErrMismatch.
func Explain(ctx context.Context, opt Options) (*Report, error) {
	progress := opt.Progress
	if progress == nil {
		progress = func(string, int64) {}
	}
	if opt.ClaimID == "" {
		return nil, fmt.Errorf("%w: no claim id", ErrRefused)
	}
	run, err := rundir.Open(opt.RunDir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	man := run.Manifest
	remPath, ok := run.Table(rundir.Remittance)
	if !ok {
		return nil, fmt.Errorf("%w: %s holds no remittance (a validate run adjudicates nothing)", ErrRefused, opt.RunDir)
	}
	exPath, _ := run.Table(rundir.Exceptions)

	// The inputs are hashed while the published files are read; nothing
	// of them is used before the hashes match.
	ins := inputs(man, opt.InputDir)
	var hashes errgroup.Group
	var hashErr error
	hashes.Go(func() error { hashErr = checkHashes(ins); return nil })
	waitHashes := func() error { hashes.Wait(); return hashErr }
	fail := func(err error) (*Report, error) {
		if herr := waitHashes(); herr != nil {
			return nil, herr // a changed input explains everything after it
		}
		return nil, err
	}

	p, err := loadPlan(man.Plan, opt.Plan, opt.InputDir, opt.RunDir)
	if err != nil {
		return fail(err)
	}
	date, err := asOf(run)
	if err != nil {
		return fail(fmt.Errorf("explain: the run's state: %w", err))
	}
	rep := &Report{RunID: man.RunID, Plan: PlanInfo{Name: man.Plan.Name, SHA256: man.Plan.SHA256}, ClaimID: opt.ClaimID, LineNo: opt.LineNo}
	if date != claim.NoDate {
		rep.AsOf = date.String()
	}

	header, _, err := remittanceRows(man.RunID, nil)
	if err != nil {
		return fail(err)
	}
	pub, err := scanRemittance(ctx, remPath, header, opt.ClaimID, opt.LineNo, progress)
	if err != nil {
		return fail(fmt.Errorf("explain: the run's remittance: %w", err))
	}
	member := pub.member
	var memberClaims []string
	if exPath != "" {
		rep.NotAdjudicated, memberClaims, err = exceptionsOf(exPath, opt.ClaimID, opt.LineNo, member)
		if err != nil {
			return fail(fmt.Errorf("explain: the run's exceptions: %w", err))
		}
	}
	if member == "" {
		if err := waitHashes(); err != nil {
			return nil, err
		}
		if len(rep.NotAdjudicated) == 0 {
			if opt.LineNo > 0 && len(pub.claim) > 0 {
				return nil, fmt.Errorf("%w: claim %s has no line %d in run %s (its adjudicated lines: %s)", ErrRefused, opt.ClaimID, opt.LineNo, man.RunID, strings.Join(pub.claim, ", "))
			}
			what := "claim " + opt.ClaimID
			if opt.LineNo > 0 {
				what += " line " + strconv.Itoa(int(opt.LineNo))
			}
			return nil, fmt.Errorf("%w: %s is not in run %s: neither its remittance nor its exceptions have it", ErrRefused, what, man.RunID)
		}
		rep.Matches = true
		return rep, nil // the claim's rows were all exceptions: they are the answer
	}
	rep.MemberID = member

	// The member's claim ids: only lines with these can share a
	// (claim_id, line_no) with the member's lines.
	rows := pub.rows
	iClaim := column(header, "claim_id")
	for _, r := range rows {
		memberClaims = append(memberClaims, r.rec[iClaim])
	}
	claimIDs := claimIDSet(memberClaims, []string{opt.ClaimID})

	if err := waitHashes(); err != nil {
		return nil, err
	}
	var stateRecs []claim.StateRecord
	var stateKeys map[lineKey]bool
	lateBefore := claim.NoDate
	var claimsFiles []input
	var membersPath, fxPath string
	for _, in := range ins {
		switch in.role {
		case writers.RoleClaims:
			claimsFiles = append(claimsFiles, in)
		case writers.RoleMembers:
			membersPath = in.path
		case writers.RoleFX:
			fxPath = in.path
		}
	}
	e := engine.New(p)
	if man.StateIn != nil {
		path := resolve(opt.InputDir, man.StateIn.Path)
		stateRecs, stateKeys, lateBefore, err = memberState(path, e, member, claimIDs)
		if err != nil {
			return nil, fmt.Errorf("explain: the run's --state-in: %w", err)
		}
		rep.StateIn = &StateInfo{Path: man.StateIn.Path, Records: len(stateRecs)}
	}
	bk, spans, err := memberBook(p, membersPath, map[string]bool{member: true}, member)
	if err != nil {
		return nil, err
	}
	var fx *book.FX
	if fxPath != "" {
		rates, fxEx, _, err := readers.ReadFX(fxPath)
		if err != nil {
			return nil, err
		}
		fx, _ = book.NewFX(fxPath, rates, fxEx)
	}
	idx := bk.Find(member)
	if idx < 0 || bk.Absent(idx) {
		return nil, fmt.Errorf("%w: member of claim %s is not in the run's members file", ErrMismatch, opt.ClaimID)
	}
	if why, bad := bk.Invalid(idx); bad {
		return nil, fmt.Errorf("%w: the member of claim %s has invalid coverage (%s) but the run adjudicated its lines", ErrMismatch, opt.ClaimID, why)
	}
	// The lines of other members that share a claim id with the member's
	// are priced with a book of those members too (DUPLICATE_LINE needs to
	// know whether the run accepted them).
	pricerFor := func(ids map[string]bool) (*book.Pricer, error) {
		ids[member] = true
		bk, _, err := memberBook(p, membersPath, ids, member)
		return book.NewPricer(p, bk, fx), err
	}
	lines, others, err := memberLines(ctx, claimsFiles, p, pricerFor, member, opt.ClaimID, claimIDs, stateKeys, progress)
	if err != nil {
		return nil, err
	}
	if len(others) > 0 && opt.LineNo == 0 {
		return nil, fmt.Errorf("%w: claim %s has lines of more than one member (line %s of this one, %s of others): ask for one line with --line",
			ErrRefused, opt.ClaimID, strings.Join(pub.claim, ", "), joinInts(others))
	}
	slices.SortFunc(lines, func(a, b claim.Line) int { return claim.Compare(&a, &b) })

	tr := newCollector(lines)
	m := e.NewMember()
	m.SetTracer(tr)
	results, _, err := e.AdjudicateMember(m, &engine.MemberRun{ID: member, Spans: spans, Lines: lines, State: stateRecs,
		KeepFrom: claim.NoDate, KeysFrom: claim.NoDate, LateBefore: lateBefore}, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	last := -1
	for i := range lines {
		if lines[i].ClaimID == opt.ClaimID && (opt.LineNo == 0 || lines[i].LineNo == opt.LineNo) {
			last = i
		}
	}
	if last < 0 {
		return nil, fmt.Errorf("%w: the run's remittance has claim %s for this member but the claims files give no accepted line of it", ErrMismatch, opt.ClaimID)
	}
	iLine := column(header, "line_no")
	_, ours, err := remittanceRows(man.RunID, results[:last+1])
	if err != nil {
		return nil, err
	}
	rep.Matches = true
	for i := 0; i <= last; i++ {
		l := tr.line(i, p, &results[i], &lines[i], claimsFiles)
		l.Asked = lines[i].ClaimID == opt.ClaimID && (opt.LineNo == 0 || lines[i].LineNo == opt.LineNo)
		l.Published = compare(header, ours[i], rows, iClaim, iLine)
		rep.Matches = rep.Matches && l.Published.Matches
		rep.Lines = append(rep.Lines, l)
	}
	have := map[lineKey]bool{}
	for i := range lines {
		have[lineKey{lines[i].ClaimID, lines[i].LineNo}] = true
	}
	for _, r := range rows {
		n, _ := strconv.Atoi(r.rec[iLine])
		if !have[lineKey{r.rec[iClaim], int32(n)}] {
			rep.NotReproduced = append(rep.NotReproduced, PublishedRow{Row: r.row, ClaimID: r.rec[iClaim], LineNo: r.rec[iLine]})
			rep.Matches = false
		}
	}
	if !rep.Matches {
		return rep, fmt.Errorf("%w: see the lines marked DIFFERS", ErrMismatch)
	}
	return rep, nil
}

// compare checks our remittance row against the published row of the same
// (claim_id, line_no), column by column (run_id aside).
func compare(header, ours []string, rows []pubRow, iClaim, iLine int) Published {
	res := Published{Differences: []Difference{}}
	for _, r := range rows {
		if r.rec[iClaim] != ours[iClaim] || r.rec[iLine] != ours[iLine] {
			continue
		}
		res.Row = r.row
		for c, name := range header {
			if name != "run_id" && r.rec[c] != ours[c] && !sameRate(name, r.rec[c], ours[c]) {
				res.Differences = append(res.Differences, Difference{Column: name, Published: r.rec[c], Explained: ours[c]})
			}
		}
		res.Matches = len(res.Differences) == 0
		return res
	}
	res.Differences = append(res.Differences, Difference{Column: "(row)", Published: "(none)", Explained: ours[iClaim] + "/" + ours[iLine]})
	return res
}

// sameRate reports whether two fx_rate values are the same number: a
// Parquet remittance stores the rate as DECIMAL(38,18) ("1" reads back as
// "1.000000000000000000"), a CSV one as written in the FX file.
func sameRate(column, a, b string) bool {
	if column != "fx_rate" {
		return false
	}
	x, err1 := decimal.NewFromString(a)
	y, err2 := decimal.NewFromString(b)
	return err1 == nil && err2 == nil && x.Equal(y)
}

func joinInts(list []int32) string {
	s := make([]string, len(list))
	for i, n := range list {
		s[i] = strconv.Itoa(int(n))
	}
	return strings.Join(s, ", ")
}
