package pipeline

import (
	"context"
	"fmt"
	"path/filepath"

	"claimsbatch/pipeline/claim"
	"claimsbatch/pipeline/engine"
	"claimsbatch/readers"
)

// readClaims streams every claims file, in order, through the readers' row
// checks and the run-level checks (member, FX, duplicate line), writes the
// exceptions as they come and keeps the accepted lines per member.
func (j *job) readClaims(ctx context.Context) error {
	j.buckets = make(map[string][]claim.Line, len(j.members))
	j.perFile = make([]fileCount, len(j.cfg.Claims))
	if j.seen == nil {
		j.seen = make(map[lineKey]lineWhere)
	}
	var total int64
	for i, path := range j.cfg.Claims {
		source := int32(i)
		base := filepath.Base(path)
		r, err := readers.OpenClaims(path, source, j.plan, readers.Options{
			BatchSize: j.cfg.BatchSize,
			Check:     j.check,
		})
		if err != nil {
			return configError(err)
		}
		fc := &j.perFile[i]
		for r.Next() {
			if err := ctx.Err(); err != nil {
				r.Close()
				return fmt.Errorf("pipeline: run interrupted: %w", err)
			}
			for _, l := range r.Lines() {
				j.buckets[l.MemberID] = append(j.buckets[l.MemberID], l)
				if l.ReceivedDate > j.asOf || j.asOf == claim.NoDate {
					j.asOf = l.ReceivedDate
				}
			}
			ex := r.Exceptions()
			for k := range ex {
				j.totals.AddException(ex[k].Code)
			}
			if err := j.exWriter.Write(ex); err != nil {
				r.Close()
				return err
			}
			fc.exceptions += int64(len(ex))
			if j.cfg.Progress != nil {
				j.cfg.Progress("reading", total+r.Rows())
			}
		}
		if err := r.Err(); err != nil {
			r.Close()
			return err
		}
		fc.rows = r.Rows()
		total += fc.rows
		if err := r.Close(); err != nil {
			return fmt.Errorf("pipeline: %s: %w", path, err)
		}
		j.log.Info("claims file read", "file", base, "rows", fc.rows, "exceptions", fc.exceptions)
	}
	j.totals.LinesRead = total
	return nil
}

// check applies the run-level row checks in SPEC order (UNKNOWN_MEMBER,
// INVALID_MEMBER, NO_FX_RATE, DUPLICATE_LINE) to a line that passed the
// reader's own, and prices it in the plan currency. A line it accepts is
// recorded so a later copy is a DUPLICATE_LINE.
func (j *job) check(l *claim.Line) (claim.ExceptionCode, string, string) {
	m := j.members[l.MemberID]
	if m == nil {
		return claim.UnknownMember, "member_id", "member_id is not in the members file"
	}
	if m.invalid != "" {
		return claim.InvalidMember, "member_id", "the member's coverage is invalid: " + m.invalid
	}
	span := &m.spans[engine.CurrencySpan(m.spans, l.ServiceDate)]
	l.PlanCurrency = span.PlanCurrency
	switch {
	case j.plan.Benefit(l.Benefit).IsCash():
		// A cash benefit pays a fixed amount in the plan currency: billed_amount
		// is ignored, so its currency needs no rate.
		l.Charge, l.FXRate = 0, ""
	case l.Currency == span.PlanCurrency:
		l.Charge, l.FXRate = l.Billed, "1"
	default:
		rate, ok := j.fx.lookup(l.Currency, span.PlanCurrency, l.ServiceDate)
		if !ok {
			return claim.NoFXRate, "currency", fmt.Sprintf("no %s→%s rate on or before %s", l.Currency, span.PlanCurrency, l.ServiceDate)
		}
		l.Charge, l.FXRate = rate.convert(l.Billed), rate.text
	}
	key := lineKey{l.ClaimID, l.LineNo}
	if where, dup := j.seen[key]; dup {
		if where.source < 0 {
			return claim.DuplicateLine, "line_no", "this claim_id and line_no were adjudicated by an earlier run (--state-in)"
		}
		return claim.DuplicateLine, "line_no", fmt.Sprintf("this claim_id and line_no were already accepted from %s row %d",
			filepath.Base(j.cfg.Claims[where.source]), where.row)
	}
	j.seen[key] = lineWhere{source: l.Source, row: l.Row}
	return "", "", ""
}
