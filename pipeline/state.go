package pipeline

import (
	"fmt"
	"strings"

	"claimsbatch/claim"
	"claimsbatch/readers"
)

// Run-level state record kinds (the engine writes the per-member ones).
const (
	kindMeta = "META" // Key = version | plan_sha256 | as_of | run_id; Detail or Scope holds the value
	// kindLine is an adjudicated line: Key = claim_id, Count = line_no,
	// Scope = service date; while the service date is in the kept policy
	// years, also its duplicate-service key: Amount = billed, Detail =
	// engine.DupDetail (benefit code, space, provider id). Version 1 wrote
	// that key as a DUP record of its own, one more row per line.
	kindLine = "LINE"
)

// loadState streams --state-in into spill files, so that its size (it keeps
// every adjudicated line key of the chain) never sets the run's memory: the
// LINE keys go to claim-hash partitions that step 2 reads with the claim
// partitions of the same number, and every member record (LINE included, to
// be carried forward) to one file that step 2 splits by member range. What
// stays in memory is one count per member. It checks the version and the
// plan (the META rows) before any record is used.
func (j *job) loadState(claimParts int) error {
	j.stateMembers = map[string]int32{}
	if j.cfg.StateIn == "" {
		return nil
	}
	r, err := readers.OpenState(j.cfg.StateIn)
	if err != nil {
		return configError(err)
	}
	defer r.Close()
	if j.stateKeys, err = newPartitions(j.spillDir, "state-keys", claimParts); err != nil {
		return err
	}
	if j.stateRecs, err = newPartitions(j.spillDir, "state", 1); err != nil {
		return err
	}
	version, planHash := "", ""
	var unknown error // reported after the version and plan checks
	var records int64
	for r.Next() {
		rec := r.Record()
		records++
		switch rec.Kind {
		case kindMeta:
			switch rec.Key {
			case "version":
				version = rec.Detail
			case "plan_sha256":
				planHash = rec.Detail
			case "as_of":
				j.stateAsOf = rec.Scope
			}
			continue
		case kindLine:
			k := claim.Line{ClaimID: rec.Key, LineNo: int32(rec.Count)}
			if err := j.stateKeys.writeState(claimHash(&k, claimParts), &rec); err != nil {
				return fmt.Errorf("pipeline: spill: %w", err)
			}
		default:
			if !j.engine.Knows(rec) {
				if j.cfg.AllowPlanChange {
					continue // an accumulator of the old plan that the new one does not have
				}
				if unknown == nil {
					unknown = fmt.Errorf("%w: state file %s: member record %s %q is not known to this plan", ErrConfig, j.cfg.StateIn, rec.Kind, rec.Key)
				}
				continue
			}
		}
		if err := j.stateRecs.writeState(0, &rec); err != nil {
			return fmt.Errorf("pipeline: spill: %w", err)
		}
		n, ok := j.stateMembers[rec.MemberID]
		if !ok {
			rec.MemberID = strings.Clone(rec.MemberID)
		}
		j.stateMembers[rec.MemberID] = n + 1
	}
	if err := r.Err(); err != nil {
		return configError(err)
	}
	if version != StateVersion && version != "1" {
		return fmt.Errorf("%w: state file %s has version %q, this build reads versions 1 and %s", ErrConfig, j.cfg.StateIn, version, StateVersion)
	}
	if planHash != j.plan.SHA256 {
		if !j.cfg.AllowPlanChange {
			return fmt.Errorf("%w: state file %s was written under another plan (sha256 %.12s…, this run's plan is %.12s…); rerun with --allow-plan-change if the change is intended",
				ErrConfig, j.cfg.StateIn, planHash, j.plan.SHA256)
		}
		j.stateInNotes = append(j.stateInNotes, fmt.Sprintf("plan changed: state-in was written under plan sha256 %s, this run used %s (--allow-plan-change)", planHash, j.plan.SHA256))
	}
	if unknown != nil {
		return unknown
	}
	if err := j.stateKeys.finish(); err != nil {
		return err
	}
	if err := j.stateRecs.finish(); err != nil {
		return err
	}
	j.log.Info("state loaded", "records", records, "members", len(j.stateMembers))
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

// lineRecord is the LINE record of an adjudicated line as the state output
// has it: the line's key always, its duplicate-service key (Amount, Detail)
// only while its service date is not before keepFrom.
func lineRecord(r claim.StateRecord, keepFrom claim.Date) claim.StateRecord {
	if r.Scope < keepFrom {
		r.Amount, r.Detail = 0, ""
	}
	return r
}
