package explain

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"claimsbatch/book"
	"claimsbatch/claim"
	"claimsbatch/engine"
	"claimsbatch/plan"
	"claimsbatch/readers"
	"claimsbatch/writers"
)

// remittanceRows renders results as the run would have written them to a
// CSV remittance: the header, then one row per result.
func remittanceRows(runID string, results []claim.Result) (header []string, rows [][]string, err error) {
	var buf bytes.Buffer
	w, err := writers.NewRemittanceWriter(&buf, writers.CSV, runID)
	if err != nil {
		return nil, nil, err
	}
	if err := w.Write(results); err != nil {
		return nil, nil, err
	}
	if err := w.Close(); err != nil {
		return nil, nil, err
	}
	all, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("explain: reading back the remittance rows: %w", err)
	}
	return all[0], all[1:], nil
}

// pubRow is a row of the published remittance: its data row number and
// its values in the order of the header remittanceRows gives.
type pubRow struct {
	row int64
	rec []string
}

// published is what the scan of the published remittance found.
type published struct {
	member string   // the member of the first line of the asked claim (and line); "" when none
	rows   []pubRow // every remittance row of that member
	claim  []string // the line numbers of the claim seen (whatever line was asked)
}

// column returns the index of name in header, or -1.
func column(header []string, name string) int { return slices.Index(header, name) }

// scanRemittance streams the published remittance, which is ordered by
// member, up to the end of the first member block with a line of the claim
// (with lineNo > 0, that line), and keeps that block's rows. A claim with
// lines of several members is found when the member's lines are read
// (memberLines), so that a claim of one member costs no read past its
// block.
func scanRemittance(ctx context.Context, path string, header []string, claimID string, lineNo int32, progress func(string, int64)) (*published, error) {
	cols := make([]readers.TableColumn, len(header))
	for i, h := range header {
		cols[i] = readers.TableColumn{Name: h}
	}
	tr, err := readers.OpenTable(path, cols, readers.Options{})
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	iClaim, iLine, iMember := column(header, "claim_id"), column(header, "line_no"), column(header, "member_id")
	want := strconv.Itoa(int(lineNo))
	pub := &published{}
	var block []pubRow
	member, hit := "", false
	name := filepath.Base(path)
	for tr.Next() {
		rec := tr.Record()
		if rec[iMember] != member {
			if hit {
				break
			}
			block, member = block[:0], rec[iMember]
		}
		block = append(block, pubRow{row: tr.Row(), rec: slices.Clone(rec)})
		if rec[iClaim] == claimID {
			pub.claim = append(pub.claim, rec[iLine])
			hit = hit || lineNo == 0 || rec[iLine] == want
		}
		if tr.Row()%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			progress(name, tr.Row())
		}
	}
	if err := tr.Err(); err != nil {
		return nil, err
	}
	if hit {
		pub.member, pub.rows = member, block
	}
	return pub, nil
}

// exceptionsOf streams the published exceptions file: it returns the rows
// of the claim (with lineNo > 0, of that line) and the claim ids of the
// rows of member.
func exceptionsOf(path, claimID string, lineNo int32, member string) (rejected []Rejected, claimIDs []string, err error) {
	names := []string{"source", "row", "claim_id", "line_no", "member_id", "code", "field", "message"}
	cols := make([]readers.TableColumn, len(names))
	for i, n := range names {
		cols[i] = readers.TableColumn{Name: n}
	}
	tr, err := readers.OpenTable(path, cols, readers.Options{})
	if err != nil {
		return nil, nil, err
	}
	defer tr.Close()
	for tr.Next() {
		rec := tr.Record()
		if member != "" && rec[4] == member {
			claimIDs = append(claimIDs, strings.Clone(rec[2]))
		}
		if rec[2] != claimID {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSpace(rec[3])); lineNo > 0 && (err != nil || n != int(lineNo)) {
			continue
		}
		row, _ := strconv.ParseInt(rec[1], 10, 64)
		rejected = append(rejected, Rejected{Source: rec[0], Row: row, LineNo: rec[3], Code: rec[5], Field: rec[6], Message: rec[7]})
	}
	return rejected, claimIDs, tr.Err()
}

type lineKey struct {
	claimID string
	lineNo  int32
}

// memberState streams the --state-in file: it returns the member's records
// (those this plan knows, as the run loads them) and the line keys of the
// earlier runs whose claim id is among claimIDs.
func memberState(path string, e *engine.Engine, member string, claimIDs map[string]bool) (records []claim.StateRecord, keys map[lineKey]bool, keysFrom claim.Date, err error) {
	keysFrom = claim.NoDate
	sr, err := readers.OpenState(path, readers.Options{})
	if err != nil {
		return nil, nil, keysFrom, err
	}
	defer sr.Close()
	keys = map[lineKey]bool{}
	for sr.Next() {
		rec := sr.Record()
		switch {
		case rec.Kind == claim.KindMeta:
			if rec.Key == claim.MetaKeysFrom {
				keysFrom = rec.Scope
			}
			continue
		case rec.Kind == claim.KindLine && claimIDs[rec.Key]:
			keys[lineKey{rec.Key, int32(rec.Count)}] = true
		}
		if rec.MemberID == member && (rec.Kind == claim.KindLine || e.Knows(rec)) {
			records = append(records, rec)
		}
	}
	return records, keys, keysFrom, sr.Err()
}

func claimIDSet(ids ...[]string) map[string]bool {
	set := map[string]bool{}
	for _, list := range ids {
		for _, id := range list {
			set[id] = true
		}
	}
	return set
}

// memberLines streams the claims files and returns the lines of member that
// the run accepted, and the line numbers of claimID's accepted lines of
// other members. It accepts lines as the run did: the reader's row checks, the book's (member,
// FX, which also prices the line), then DUPLICATE_LINE: a (claim_id,
// line_no) recorded in the --state-in (stateKeys) or accepted earlier in
// input order, from any member, is a duplicate. Lines of other members
// matter only for that rule, and only when their claim id is one of the
// member's (claimIDs): a line of another claim cannot share a key with the
// member's.
//
// The lines are priced once the files are read, in input order, with the
// book pricerFor makes of their members: the book of a run is too big to
// hold here, the members of these lines are few.
func memberLines(ctx context.Context, files []input, p *plan.Plan, pricerFor func(ids map[string]bool) (*book.Pricer, error), member, claimID string, claimIDs map[string]bool, stateKeys map[lineKey]bool, progress func(string, int64)) (kept []claim.Line, others []int32, err error) {
	var candidates []claim.Line
	ids := map[string]bool{}
	for i, f := range files {
		cr, err := readers.OpenClaims(f.path, int32(i), p, readers.Options{})
		if err != nil {
			return nil, nil, err
		}
		name := filepath.Base(f.path)
		for cr.Next() {
			if err := ctx.Err(); err != nil {
				cr.Close()
				return nil, nil, err
			}
			lines := cr.Lines()
			for k := range lines {
				l := &lines[k]
				if l.MemberID != member && !claimIDs[l.ClaimID] {
					continue
				}
				candidates = append(candidates, *l)
				ids[l.MemberID] = true
			}
			progress(name, cr.Rows())
		}
		err = cr.Err()
		cr.Close()
		if err != nil {
			return nil, nil, err
		}
	}
	pricer, err := pricerFor(ids)
	if err != nil {
		return nil, nil, err
	}
	seen := map[lineKey]bool{}
	for k := range stateKeys {
		seen[k] = true
	}
	for i := range candidates {
		l := &candidates[i]
		if _, why := pricer.Price(l); why.Code != "" {
			continue
		}
		key := lineKey{l.ClaimID, l.LineNo}
		if seen[key] {
			continue // DUPLICATE_LINE
		}
		seen[key] = true
		switch {
		case l.MemberID == member:
			kept = append(kept, *l)
		case l.ClaimID == claimID:
			others = append(others, l.LineNo)
		}
	}
	return kept, others, nil
}
