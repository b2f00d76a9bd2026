package claim

import "strings"

// The state file (SPEC section 7, `state.csv` or `.parquet`): its version and
// the kinds of its records, in one place. A StateRecord (records.go) is one
// row; what Scope, Key, Amount, Count and Detail mean depends on its Kind.
// The engine writes and reads the per-member accumulator kinds; the pipeline
// writes the META and LINE rows around them.

// StateVersion is the version of the state layout this build writes.
//
// Version 3 (this one) widened the duplicate-service key of a LINE record
// to SPEC version 2's (procedure_code and item_code join it). Version 2
// carried the key (benefit code and provider id) in the LINE record;
// version 1 in a DUP record of its own. Readers upgrade older records (see
// UpgradeDupDetail): their lines had no procedure code, and their item code
// was not kept.
const StateVersion = "3"

// StateVersionsRead lists the state versions this build reads, oldest first.
var StateVersionsRead = []string{"1", "2", "3"}

// State record kinds.
const (
	// KindMeta is a run-level row (no member): Key is one of the MetaKey
	// names, its value in Detail (or Scope for MetaAsOf).
	KindMeta = "META"
	// KindLine is an adjudicated line: Key = claim_id, Count = line_no,
	// Scope = service date; while the service date is in the kept policy
	// years, also its duplicate-service key: Amount = billed, Detail =
	// DupDetail (benefit code, provider id, procedure code, item code).
	// Version 1 wrote that key as a KindDup record of its own.
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
	// MetaKeysFrom: Scope = the earliest service date whose LINE keys the
	// state keeps (written only when the plan has a filing limit, or an
	// earlier state had one): lines served before it were pruned, and a run
	// on this state denies them PR-29.
	MetaKeysFrom = "keys_from"
)

// DupKey is the part of a line's duplicate-service key (SPEC step 6) that a
// state record keeps in its Detail; the service date, claim id and billed
// amount are the record's Scope, Key and Amount.
type DupKey struct {
	Benefit, Provider, Procedure, Item string
}

// DupDetail is the Detail of a line's duplicate-service key: its four
// values, space-separated, each escaped (EscapeField).
func DupDetail(l *Line) string {
	return DupKey{l.BenefitCode, l.ProviderID, l.ProcedureCode, l.ItemCode}.Detail()
}

// Detail returns the key's Detail form.
func (k DupKey) Detail() string {
	b := make([]byte, 0, len(k.Benefit)+len(k.Provider)+len(k.Procedure)+len(k.Item)+4)
	for i, f := range [...]string{k.Benefit, k.Provider, k.Procedure, k.Item} {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendEscaped(b, f)
	}
	return string(b)
}

// ParseDupDetail reads a version 3 Detail.
func ParseDupDetail(detail string) (DupKey, bool) {
	var f [4]string
	for i := range f {
		var part string
		if i < 3 {
			var ok bool
			if part, detail, ok = cutSpace(detail); !ok {
				return DupKey{}, false
			}
		} else if part = detail; strings.IndexByte(part, ' ') >= 0 {
			return DupKey{}, false
		}
		v, ok := unescape(part)
		if !ok {
			return DupKey{}, false
		}
		f[i] = v
	}
	return DupKey{f[0], f[1], f[2], f[3]}, true
}

// UpgradeDupDetail turns the Detail of a version 1 DUP or version 2 LINE
// record ("BENEFIT PROVIDER", the provider id as written, spaces included)
// into version 3's, with an empty procedure code and item code: those lines
// had no procedure code, and their item code was not kept, so they match
// only lines without either.
func UpgradeDupDetail(old string) string {
	benefit, provider, _ := cutSpace(old)
	return DupKey{Benefit: benefit, Provider: provider}.Detail()
}

func cutSpace(s string) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// appendEscaped appends a value so that it holds no space and is never
// empty: '%', space and control characters become %XX, "" becomes "-" and
// "-" itself "%2D".
func appendEscaped(b []byte, s string) []byte {
	switch s {
	case "":
		return append(b, '-')
	case "-":
		return append(b, "%2D"...)
	}
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' || c == ' ' || c < 0x20 || c == 0x7f {
			b = append(b, '%', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, c)
	}
	return b
}

func unescape(s string) (string, bool) {
	if s == "-" {
		return "", true
	}
	if s == "" {
		return "", false
	}
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			clean = false
			break
		}
	}
	if clean {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		b = append(b, hi<<4|lo)
		i += 2
	}
	return string(b), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
