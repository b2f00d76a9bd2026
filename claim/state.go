package claim

// The state file (SPEC section 7, `state.csv` or `.parquet`): its version and
// the kinds of its records, in one place. A StateRecord (records.go) is one
// row; what Scope, Key, Amount, Count and Detail mean depends on its Kind.
// The engine writes and reads the per-member accumulator kinds; the pipeline
// writes the META and LINE rows around them.

// StateVersion is the version of the state layout this build writes.
const StateVersion = "2"

// StateVersionsRead lists the state versions this build reads, oldest first.
var StateVersionsRead = []string{"1", "2"}

// State record kinds.
const (
	// KindMeta is a run-level row (no member): Key is one of the MetaKey
	// names, its value in Detail (or Scope for MetaAsOf).
	KindMeta = "META"
	// KindLine is an adjudicated line: Key = claim_id, Count = line_no,
	// Scope = service date; while the service date is in the kept policy
	// years, also its duplicate-service key: Amount = billed, Detail =
	// DupDetail (benefit code, space, provider id). Version 1 wrote that key
	// as a KindDup record of its own, one more row per line.
	KindLine = "LINE"

	// KindYear marks a policy year that exists even with nothing accrued:
	// Scope = policy year start, Detail = its end.
	KindYear = "YEAR"
	// KindAcc is a policy-year accumulator: Scope = policy year start, Key =
	// accumulator name (e.g. "deductible:core", "benefit:KIDNEY_DIALYSIS",
	// "days:REHABILITATION"), Amount (money) or Count (days, lines).
	KindAcc = "ACC"
	// KindCond is paid per diagnosis category: Scope = policy year start,
	// Key = the condition, Amount = paid.
	KindCond = "COND"
	// KindDates is counted dates of a policy year: Scope = policy year
	// start, Key = "out_of_area" or "origin", Count = how many, Detail = the
	// dates, ';'-separated.
	KindDates = "DATES"
	// KindLife is a lifetime limit's paid amount: Key = accumulator, Amount.
	KindLife = "LIFE"
	// KindItem is a per-item lifetime amount: Key = benefit code, Detail =
	// item code, Amount = paid.
	KindItem = "ITEM"
	// KindTrip is the counted dates of an out-of-area trip: Key = trip_id, or
	// "~N" for the N-th inferred trip; Count, Detail as KindDates.
	KindTrip = "TRIP"
	// KindTripless is trip inference: Key = the current inferred trip, Scope
	// = its last service_end_date, Count = inferred trips so far.
	KindTripless = "TRIPLESS"
	// KindDup is a version 1 duplicate-service key: Scope = service date,
	// Key = claim id, Amount = billed, Detail = DupDetail. Version 2 carries
	// it in the KindLine record; KindDup is read, never written.
	KindDup = "DUP"
)

// META record keys.
const (
	MetaVersion = "version"     // Detail = the state version
	MetaPlan    = "plan_sha256" // Detail = the plan's SHA-256
	MetaAsOf    = "as_of"       // Scope = the as-of date
	MetaRunID   = "run_id"      // Detail = the run id that wrote the state
)

// DupDetail is the Detail of a line's duplicate-service key (KindLine in
// version 2, KindDup in version 1): with the line's service date (Scope),
// claim id (Key) and billed amount (Amount) it is the key of SPEC step 6.
func DupDetail(l *Line) string { return l.BenefitCode + " " + l.ProviderID }
