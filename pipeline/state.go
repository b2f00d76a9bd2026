package pipeline

import (
	"fmt"

	"claimsbatch/pipeline/claim"
	"claimsbatch/readers"
)

// Run-level state record kinds (the engine writes the per-member ones).
const (
	kindMeta = "META" // Key = version | plan_sha256 | as_of | run_id; Detail or Scope holds the value
	kindLine = "LINE" // Key = claim_id, Count = line_no, Scope = service date: an adjudicated line
)

// loadState reads --state-in: it checks the version and the plan, records the
// adjudicated line keys for DUPLICATE_LINE and groups the rest per member.
func (j *job) loadState() error {
	j.stateIn = map[string][]claim.StateRecord{}
	if j.cfg.StateIn == "" {
		return nil
	}
	recs, err := readers.ReadState(j.cfg.StateIn)
	if err != nil {
		return configError(err)
	}
	version, planHash := "", ""
	for _, r := range recs {
		if r.Kind != kindMeta {
			continue
		}
		switch r.Key {
		case "version":
			version = r.Detail
		case "plan_sha256":
			planHash = r.Detail
		case "as_of":
			j.stateAsOf = r.Scope
		}
	}
	if version != StateVersion {
		return fmt.Errorf("%w: state file %s has version %q, this build reads version %s", ErrConfig, j.cfg.StateIn, version, StateVersion)
	}
	if planHash != j.plan.SHA256 {
		if !j.cfg.AllowPlanChange {
			return fmt.Errorf("%w: state file %s was written under another plan (sha256 %.12s…, this run's plan is %.12s…); rerun with --allow-plan-change if the change is intended",
				ErrConfig, j.cfg.StateIn, planHash, j.plan.SHA256)
		}
		j.stateInNotes = append(j.stateInNotes, fmt.Sprintf("plan changed: state-in was written under plan sha256 %s, this run used %s (--allow-plan-change)", planHash, j.plan.SHA256))
	}
	for _, r := range recs {
		switch r.Kind {
		case kindMeta:
		case kindLine:
			j.stateIn[r.MemberID] = append(j.stateIn[r.MemberID], r)
		default:
			if !j.engine.Knows(r) {
				if j.cfg.AllowPlanChange {
					continue // an accumulator of the old plan that the new one does not have
				}
				return fmt.Errorf("%w: state file %s: member record %s %q is not known to this plan", ErrConfig, j.cfg.StateIn, r.Kind, r.Key)
			}
			j.stateIn[r.MemberID] = append(j.stateIn[r.MemberID], r)
		}
	}
	j.log.Info("state loaded", "records", len(recs), "members", len(j.stateIn))
	return nil
}

// metaRecords are the run-level rows at the top of the state output.
func (j *job) metaRecords(runID string, asOf claim.Date) []claim.StateRecord {
	return []claim.StateRecord{
		{Kind: kindMeta, Scope: claim.NoDate, Key: "version", Detail: StateVersion},
		{Kind: kindMeta, Scope: claim.NoDate, Key: "plan_sha256", Detail: j.plan.SHA256},
		{Kind: kindMeta, Scope: asOf, Key: "as_of"},
		{Kind: kindMeta, Scope: claim.NoDate, Key: "run_id", Detail: runID},
	}
}

func lineRecord(l *claim.Line) claim.StateRecord {
	return claim.StateRecord{Kind: kindLine, MemberID: l.MemberID, Scope: l.ServiceDate, Key: l.ClaimID, Count: int64(l.LineNo)}
}
