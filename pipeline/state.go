package pipeline

import (
	"fmt"
	"slices"
	"strings"

	"claimsbatch/book"
	"claimsbatch/claim"
	"claimsbatch/readers"
	"claimsbatch/spill"
)

// stateIn is the --state-in file, streamed into spill files so that its size
// (it keeps every adjudicated line key of the chain) never sets the run's
// memory.
type stateIn struct {
	records *spill.Partitions // every member record (LINE included, to carry forward), in file order
	members int64             // records counted per member in the book's builder
	asOf    claim.Date
	// keysFrom is the state's MetaKeysFrom, NoDate when it has none.
	keysFrom claim.Date
	notes    []string // for the manifest
}

func (s *stateIn) close() {
	if s != nil {
		s.records.Close()
	}
}

// loadState streams --state-in: the LINE keys go to the key partitions (and
// the Bloom filter) ahead of this run's lines, and every member record
// (LINE included, to be carried forward) to one spill set that is split by
// member range once the ranges are known. What stays in memory is the
// member ids, one per run of records of a member (the file is written in
// member order: one per member), with their counts (book.Builder). It checks the version, the plan and the as-of date (the META
// rows), the trailer and the signs of every value (readers.StateReader) and
// that no accumulator holds more than the plan allows (engine.CheckBounds;
// not after an intended plan change), before any record is used. Its errors
// name the file, the row, the kind, scope and key, never a member or a
// claim.
func (r *run) loadState(keys *spill.Partitions, filter *bloom, budget *spill.Budget, members *book.Builder) (*stateIn, error) {
	s := &stateIn{asOf: claim.NoDate, keysFrom: claim.NoDate}
	if r.cfg.StateIn == "" {
		return s, nil
	}
	sr, err := readers.OpenState(r.cfg.StateIn, readers.Options{Workers: r.cfg.Workers})
	if err != nil {
		return s, configError(err)
	}
	defer sr.Close()
	if s.records, err = spill.NewBuffered(r.spillDir, "state", 1, budget); err != nil {
		return s, err
	}
	version, planHash := "", ""
	var unknown error // reported after the version and plan checks
	var outOfBounds error
	var records int64
	// The LINE keys' hashes go to the Bloom filter a batch at a time
	// (bloom.addAll), all of them before the claims are read.
	pending := make([]uint64, 0, 1024)
	for sr.Next() {
		rec := sr.Record()
		records++
		switch rec.Kind {
		case claim.KindMeta:
			switch rec.Key {
			case claim.MetaVersion:
				version = rec.Detail
			case claim.MetaPlan:
				planHash = rec.Detail
			case claim.MetaAsOf:
				s.asOf = rec.Scope
			case claim.MetaKeysFrom:
				s.keysFrom = rec.Scope
			}
			continue
		case claim.KindLine:
			if keys == nil {
				break // Prepare: only the checks
			}
			h := keyHash(rec.Key, int32(rec.Count))
			if pending = append(pending, h); len(pending) == cap(pending) {
				filter.addAll(pending)
				pending = pending[:0]
			}
			k := spill.Key{ClaimID: rec.Key, LineNo: int32(rec.Count), Source: -1, Member: -1}
			if err := keys.WriteKey(int(h%uint64(keys.Len())), &k); err != nil {
				return s, fmt.Errorf("pipeline: spill: %w", err)
			}
		default:
			if !r.engine.Knows(rec) {
				if r.cfg.AllowPlanChange {
					continue // an accumulator of the old plan that the new one does not have
				}
				if unknown == nil {
					unknown = fmt.Errorf("%w: state file %s: row %d: member record %s is not known to this plan", ErrConfig, r.cfg.StateIn, records, readers.DescribeStateRecord(&rec))
				}
				continue
			}
			if outOfBounds == nil && !r.cfg.AllowPlanChange {
				if problem := r.engine.CheckBounds(&rec); problem != "" {
					outOfBounds = fmt.Errorf("%w: state file %s: row %d: %s: %s: the file was edited, or written under another plan", ErrConfig, r.cfg.StateIn, records, readers.DescribeStateRecord(&rec), problem)
				}
			}
		}
		if err := s.records.WriteState(0, &rec); err != nil {
			return s, fmt.Errorf("pipeline: spill: %w", err)
		}
		members.StateRecord(rec.MemberID)
		s.members++
	}
	if err := sr.Err(); err != nil {
		return s, configError(err)
	}
	if len(pending) > 0 {
		filter.addAll(pending) // the last batch
	}
	if !slices.Contains(claim.StateVersionsRead, version) {
		return s, fmt.Errorf("%w: state file %s has version %q, this build reads versions %s", ErrConfig, r.cfg.StateIn, version, strings.Join(claim.StateVersionsRead, " and "))
	}
	if planHash != r.plan.SHA256 {
		if !r.cfg.AllowPlanChange {
			return s, fmt.Errorf("%w: state file %s was written under another plan (sha256 %.12s…, this run's plan is %.12s…); rerun with --allow-plan-change if the change is intended",
				ErrConfig, r.cfg.StateIn, planHash, r.plan.SHA256)
		}
		s.notes = append(s.notes, fmt.Sprintf("plan changed: state-in was written under plan sha256 %s, this run used %s (--allow-plan-change)", planHash, r.plan.SHA256))
	}
	if unknown != nil {
		return s, unknown
	}
	if outOfBounds != nil {
		return s, outOfBounds
	}
	if s.asOf != claim.NoDate && s.asOf > r.cfg.AsOf {
		return s, fmt.Errorf("%w: state file %s was written as of %s, after this run's as-of date %s: the as-of date never moves backwards along a chain (pass --as-of %s or later; if that run's as-of date was a mistake, run its night again with the right --as-of and chain on that)",
			ErrConfig, r.cfg.StateIn, s.asOf, r.cfg.AsOf, s.asOf)
	}
	if err := s.records.Finish(); err != nil {
		return s, err
	}
	r.log.Info("state loaded", "records", records, "member_records", s.members)
	return s, nil
}

// metaRecords are the run-level rows at the top of the state output.
func (r *run) metaRecords(runID string, asOf, keysFrom claim.Date) []claim.StateRecord {
	recs := []claim.StateRecord{
		{Kind: claim.KindMeta, Scope: claim.NoDate, Key: claim.MetaVersion, Detail: claim.StateVersion},
		{Kind: claim.KindMeta, Scope: claim.NoDate, Key: claim.MetaPlan, Detail: r.plan.SHA256},
		{Kind: claim.KindMeta, Scope: asOf, Key: claim.MetaAsOf},
		{Kind: claim.KindMeta, Scope: claim.NoDate, Key: claim.MetaRunID, Detail: runID},
	}
	if keysFrom != claim.NoDate {
		recs = append(recs, claim.StateRecord{Kind: claim.KindMeta, Scope: keysFrom, Key: claim.MetaKeysFrom})
	}
	return recs
}

// keysFrom is the earliest service date whose line keys the state output
// keeps: the state-in's, moved up to asOf less the plan's filing limit when
// the plan has one (a repeat of an older line is late anyway); NoDate keeps
// every key.
func (r *run) keysFrom(asOf claim.Date) claim.Date {
	from := r.state.keysFrom
	if n := r.plan.TimelyFilingDays; n > 0 && asOf != claim.NoDate {
		from = max(from, asOf-claim.Date(n))
	}
	return from
}
