package engine

import (
	"cmp"
	"slices"
	"strings"
	"unsafe"

	"claimsbatch/claim"
)

// MemberRun is one member's work in a run: its coverage, its accepted lines
// of this run in SPEC order, and what an earlier run's state file recorded
// for it. Both runners (the batch pipeline and the distributed one) hand a
// member to AdjudicateMember in this form, so the rules for carrying state
// forward live here and nowhere else.
type MemberRun struct {
	ID    string       // member_id
	Spans []claim.Span // valid spans sorted by start; may be empty when Lines is
	Lines []claim.Line // this run's lines, in SPEC order (claim.Less)
	// State is the member's records of the --state-in file, in file order
	// (LINE rows included; version 1 DUP rows too).
	State []claim.StateRecord
	// KeepFrom prunes the state written: policy years that ended before it,
	// trips last seen before it and the duplicate-service keys of lines
	// served before it are left out (claim.NoDate keeps everything).
	KeepFrom claim.Date
	// KeysFrom prunes the LINE records of lines served before it (the plan's
	// filing limit makes any repeat of them late); claim.NoDate keeps them.
	KeysFrom claim.Date
	// LateBefore denies PR-29 every line served before it: the earlier runs'
	// state dropped the keys of lines that old, so a repeat of one could not
	// be recognised. Set it: claim.NoDate for none (the zero value is
	// 1970-01-01), as KeepFrom and KeysFrom.
	LateBefore claim.Date
	// Arena, when set, holds the text of the LINE records' Detail: the
	// caller keeps it as long as it uses the records, and may reuse it after
	// (one string allocation a line less). nil: each Detail is its own
	// string.
	Arena *Arena
}

// Arena is memory for strings that live as long as a batch of state
// records: blocks filled in turn and never written again, so a string in
// one stays valid after the arena moves on. Reset starts over for a new
// batch (the old blocks go to the collector with the strings that use
// them).
type Arena struct {
	block []byte
}

// arenaBlock is the size of an Arena's blocks.
const arenaBlock = 64 << 10

// Reset lets the arena start a new block for the next batch.
func (a *Arena) Reset() { a.block = nil }

// dupDetail returns line l's duplicate-service key Detail, built in the
// arena when there is one.
func (a *Arena) dupDetail(l *claim.Line) string {
	k := claim.DupKey{Benefit: l.BenefitCode, Provider: l.ProviderID, Procedure: l.ProcedureCode, Item: l.ItemCode}
	if a == nil {
		return k.Detail()
	}
	a.room(3*(len(k.Benefit)+len(k.Provider)+len(k.Procedure)+len(k.Item)) + 8) // every byte escaped at worst
	start := len(a.block)
	a.block = k.AppendDetail(a.block)
	return unsafe.String(&a.block[start], len(a.block)-start)
}

// room makes sure the current block has need bytes free: a new block
// when it has not (the old one stays with the strings in it).
func (a *Arena) room(need int) {
	if cap(a.block)-len(a.block) < need {
		a.block = make([]byte, 0, max(arenaBlock, need))
	}
}

// str returns a copy of s in the arena, s itself when there is none.
func (a *Arena) str(s string) string {
	if a == nil || s == "" {
		return s
	}
	a.room(len(s))
	start := len(a.block)
	a.block = append(a.block, s...)
	return unsafe.String(&a.block[start], len(s))
}

// AdjudicateMember adjudicates one member on top of its earlier state and
// appends its results to results and its state records to state (the
// accumulators, then one LINE record per adjudicated line of this run and of
// earlier runs, sorted by (claim_id, line_no)). m is reset first. A state
// record the plan does not know is an error that names its kind and key,
// never the member.
//
// It is BeginMember, Adjudicate of in.Lines, a LINE record per line, then
// the accumulators and LineRecords: a runner that cannot hold a member's
// lines at once (the pipeline, for a member with a huge history) makes the
// same calls itself, with Adjudicate on consecutive segments of the lines.
func (e *Engine) AdjudicateMember(m *Member, in *MemberRun, results []claim.Result, state []claim.StateRecord) ([]claim.Result, []claim.StateRecord, error) {
	if err := e.BeginMember(m, in); err != nil {
		return results, state, err
	}
	if lines := in.Lines; len(lines) > 0 {
		results = e.Adjudicate(m, in.Spans, lines, results)
		for i := range lines {
			m.scratch.lineRecs = in.AppendLineRecord(m.scratch.lineRecs, &lines[i])
		}
	}
	state = e.AppendAccumulators(m, in.ID, in.KeepFrom, state)
	lineRecs := m.LineRecords()
	state = append(state, lineRecs...)
	clear(lineRecs) // the scratch must not keep the records' strings alive
	m.scratch.lineRecs = lineRecs[:0]
	return results, state, nil
}

// BeginMember starts member in's turn: m is reset and given the member's
// earlier state (in.State; its LINE records wait in m for LineRecords). The
// member's lines of this run then go to Adjudicate, all at once or in
// consecutive segments that together are in SPEC order.
func (e *Engine) BeginMember(m *Member, in *MemberRun) error {
	m.Reset()
	m.lateBefore = in.LateBefore
	engineRecs, lineRecs, v1Dups := m.scratch.engineRecs[:0], m.scratch.lineRecs[:0], m.scratch.v1Dups[:0]
	for _, r := range in.State {
		if r.Kind != claim.KindLine {
			if r.Kind == claim.KindDup {
				v1Dups = append(v1Dups, r) // a version 1 state
			}
			engineRecs = append(engineRecs, r)
			continue
		}
		// A LINE record with a Detail also holds its line's
		// duplicate-service key (state version 2): the engine gets it as
		// the DUP record it is.
		if r.Detail != "" {
			d := r
			d.Kind, d.Count = claim.KindDup, 0
			engineRecs = append(engineRecs, d)
		}
		// Adjudicated line keys are what makes a re-fed extract pay nothing
		// twice: they are kept until the filing limit makes a repeat late
		// anyway (KeysFrom). Their duplicate-service key goes with the
		// policy years (KeepFrom).
		if r.Scope < in.KeysFrom {
			continue
		}
		r.MemberID = in.memberID(r.MemberID)
		lineRecs = append(lineRecs, lineRecord(r, in.KeepFrom))
	}
	if len(v1Dups) > 0 {
		attachDups(lineRecs, v1Dups, in.KeepFrom)
	}
	m.scratch.lineRecs = lineRecs
	var err error
	if len(engineRecs) > 0 {
		err = e.LoadState(m, engineRecs)
	}
	// The scratch must not keep the records' strings alive.
	clear(engineRecs)
	clear(v1Dups)
	m.scratch.engineRecs, m.scratch.v1Dups = engineRecs[:0], v1Dups[:0]
	return err
}

// AppendLineRecord appends to dst the LINE record of line l, adjudicated
// in this run, as the state output has it, unless the state keeps none of
// it (served before in.KeysFrom). Its Detail is made in in.Arena and its
// Key (the claim id) copied there, its MemberID is in.ID (memberID): the
// state writer then reads the arena's blocks in order and one string a
// member, not each line's text where the reader left it. Copied here, on
// the adjudication worker that has just read the line, the claim id costs
// little; read there, on the writer's goroutine, every record's first
// read missed the caches (a 10 M-line CSV run: the state writer's busy
// time 3.05 → 2.35 s, the trailer's digest 1.6 → 1.0 s; with the member
// id alone shared, the miss only moved to the claim id beside it).
func (in *MemberRun) AppendLineRecord(dst []claim.StateRecord, l *claim.Line) []claim.StateRecord {
	if l.ServiceDate < in.KeysFrom {
		return dst
	}
	dst = append(dst, claim.StateRecord{Kind: claim.KindLine, MemberID: in.memberID(l.MemberID), Scope: l.ServiceDate, Key: in.Arena.str(l.ClaimID),
		Count: int64(l.LineNo)})
	if l.ServiceDate >= in.KeepFrom { // else the record drops the duplicate-service key (lineRecord)
		r := &dst[len(dst)-1]
		r.Amount, r.Detail = l.Billed, in.Arena.dupDetail(l)
	}
	return dst
}

// memberID is the member_id of the member's LINE records: in.ID, one
// string for all of them, where it is set, rather than each line's (or
// state record's) own copy of the same text (see AppendLineRecord).
func (in *MemberRun) memberID(own string) string {
	if in.ID != "" {
		return in.ID
	}
	return own
}

// LineRecords returns the LINE records m holds for the member of its turn
// (from BeginMember: the earlier runs' records the state keeps, and in
// AdjudicateMember this run's), sorted by CompareLineRecords. They are m's
// memory, valid until its next BeginMember.
func (m *Member) LineRecords() []claim.StateRecord {
	recs := m.scratch.lineRecs
	if len(recs) < 2 {
		return recs
	}
	// The records (88 bytes, compared by string) are not sorted
	// themselves: their keys' first 8 bytes, as a number, with their
	// index, are (a string compare only on a tie), and the records are then
	// copied out in that order (BenchmarkLineRecords, 20 records: 1.55 →
	// 0.61 µs).
	keys := m.scratch.keys[:0]
	for i := range recs {
		keys = append(keys, lineKey{prefix: keyPrefix(recs[i].Key), i: int32(i)})
	}
	slices.SortFunc(keys, func(a, b lineKey) int {
		if a.prefix != b.prefix {
			return cmp.Compare(a.prefix, b.prefix)
		}
		return CompareLineRecords(&recs[a.i], &recs[b.i])
	})
	sorted := m.scratch.sorted[:0]
	for _, k := range keys {
		sorted = append(sorted, recs[k.i])
	}
	clear(recs) // the scratch must not keep the records' strings alive
	m.scratch.keys, m.scratch.lineRecs, m.scratch.sorted = keys, sorted, recs[:0]
	return sorted
}

// lineKey is a LINE record's sort key in LineRecords: the first 8 bytes of
// its claim id, big endian (zero padded), and its index.
type lineKey struct {
	prefix uint64
	i      int32
}

// keyPrefix is the first 8 bytes of s as a big-endian number, zero padded:
// prefixes compare as the strings do, or are equal.
func keyPrefix(s string) uint64 {
	var p uint64
	n := min(len(s), 8)
	for i := range n {
		p |= uint64(s[i]) << (56 - 8*i)
	}
	return p
}

// CompareLineRecords is the order of a member's LINE records in a state
// file: by (claim_id, line_no).
func CompareLineRecords(a, b *claim.StateRecord) int {
	return cmp.Or(strings.Compare(a.Key, b.Key), cmp.Compare(a.Count, b.Count))
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

// attachDups gives the LINE records of a version 1 state the
// duplicate-service keys that state kept as DUP records: a DUP record and
// the LINE record of its line share the claim id and service date (a DUP
// record has no line_no, so lines of one claim and date take them in any
// order, which gives the same keys). Keys of lines before keepFrom are
// dropped, as version 2 drops them.
func attachDups(lines, dups []claim.StateRecord, keepFrom claim.Date) {
	byKey := func(a, b claim.StateRecord) int {
		return cmp.Or(strings.Compare(a.Key, b.Key), cmp.Compare(a.Scope, b.Scope))
	}
	slices.SortStableFunc(dups, byKey)
	used := make([]bool, len(dups))
	for i := range lines {
		l := &lines[i]
		if l.Detail != "" || l.Scope < keepFrom {
			continue
		}
		k, _ := slices.BinarySearchFunc(dups, *l, byKey)
		for ; k < len(dups) && byKey(dups[k], *l) == 0; k++ {
			if !used[k] {
				used[k] = true
				l.Amount, l.Detail = dups[k].Amount, dups[k].Detail
				break
			}
		}
	}
}
