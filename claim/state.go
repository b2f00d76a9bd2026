package claim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"
)

// The state file (SPEC section 7, `state.csv` or `.parquet`): its version and
// the kinds of its records, in one place. A StateRecord (records.go) is one
// row; what Scope, Key, Amount, Count and Detail mean depends on its Kind.
// The engine writes and reads the per-member accumulator kinds; the pipeline
// writes the META and LINE rows around them; the state writer (package
// writers) ends the file with the END trailer (KindEnd, StateDigest) and the
// state reader (package readers) checks it.

// StateVersion is the version of the state layout this build writes.
//
// Version 4 (this one) ends the file with an END row, the trailer (see
// KindEnd and StateDigest), so that a state cut short or edited by hand is
// refused instead of paying lines twice; its META as_of is the run's
// --as-of date. Version 3 widened the duplicate-service key of a LINE record
// to SPEC version 2's (procedure_code and item_code join it). Version 2
// carried the key (benefit code and provider id) in the LINE record;
// version 1 in a DUP record of its own. Readers upgrade older records (see
// UpgradeDupDetail): their lines had no procedure code, and their item code
// was not kept. Versions 1 to 3 have no trailer and are read without one.
const StateVersion = "4"

// StateVersionsRead lists the state versions this build reads, oldest first.
var StateVersionsRead = []string{"1", "2", "3", "4"}

// StateNeedsTrailer reports whether a state file of this version must end
// with an END row: version 4 and later.
func StateNeedsTrailer(version string) bool {
	n, err := strconv.Atoi(version)
	return err != nil || n >= 4
}

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

	// KindEnd is the trailer, the last row of a version 4 state file: Key =
	// the rows before it per kind, "KIND=N" joined by ';' in kind order
	// (e.g. "ACC=12;LINE=40;META=4;YEAR=7"); Count = all the rows before it;
	// Detail = the lowercase hex SHA-256 of those rows' canonical text (see
	// StateDigest). MemberID and Scope are empty, Amount 0. Exactly one END
	// row ends the file; no row follows it.
	KindEnd = "END"
)

// StateDigest computes a state file's trailer from its records, in file
// order: the writer feeds it every record it writes and appends Trailer();
// the reader feeds it every record it reads and checks the END row with
// Check.
//
// The hash is over the records' canonical text, not over the file's bytes,
// so it is the same for the CSV and the Parquet form of a state and does
// not depend on how a CSV field is quoted. The canonical text of a record is
// its seven fields in the state columns' order — kind, member_id, scope
// (YYYY-MM-DD, or empty for no date), key, amount (plain decimal with two
// places, as "12.50" or "-3.00"), count (decimal integer), detail — each
// written as its length in bytes in decimal, a colon, and its bytes; the
// record ends with a newline. So META version 4 is
// "4:META0:0:7:version4:0.001:01:4\n". Length prefixes make the text
// unambiguous whatever bytes a field holds.
//
// Any edit to a value, a row removed, added or moved, or a file cut short
// at a row boundary changes the digest or the counts. The trailer is a
// check against accidents and hand edits, not a signature: someone who
// edits the file can recompute it. A signed manifest (the run's
// --sign-key) covers the state's bytes against that.
type StateDigest struct {
	h     hash.Hash
	buf   []byte
	rows  int64
	kinds []kindCount // in first-seen order; sorted for the trailer

	// Scopes' canonical texts, direct-mapped by the date's low bits: a
	// member's records share a few dates and a run's records a few
	// thousand, and formatting one was a fifth of Add. scopeSet marks
	// the slots filled.
	scopes   [scopeSlots]scopeText
	scopeSet [scopeSlots]bool
}

// scopeSlots is the size of StateDigest's scope cache (a power of two).
const scopeSlots = 1024

// scopeText is a scope's canonical text: "10:" and the date, or "0:".
type scopeText struct {
	d    Date
	n    uint8
	text [13]byte
}

type kindCount struct {
	kind string
	n    int64
}

// NewStateDigest returns an empty digest.
func NewStateDigest() *StateDigest {
	return &StateDigest{h: sha256.New(), buf: make([]byte, 0, 64<<10)}
}

// Add adds one record, the next of the file.
func (d *StateDigest) Add(r *StateRecord) {
	d.rows++
	found := false
	for i := range d.kinds {
		if d.kinds[i].kind == r.Kind {
			d.kinds[i].n++
			found = true
			break
		}
	}
	if !found {
		d.kinds = append(d.kinds, kindCount{strings.Clone(r.Kind), 1})
	}
	b := d.buf
	b = appendCanonical(b, r.Kind)
	b = appendCanonical(b, r.MemberID)
	k := uint32(r.Scope) & (scopeSlots - 1)
	st := &d.scopes[k]
	if st.d != r.Scope || !d.scopeSet[k] {
		var scope [10]byte
		st.d, d.scopeSet[k] = r.Scope, true
		st.n = uint8(len(appendCanonicalBytes(st.text[:0], r.Scope.AppendTo(scope[:0]))))
	}
	b = append(b, st.text[:st.n]...)
	b = appendCanonical(b, r.Key)
	var num [24]byte
	b = appendCanonicalBytes(b, r.Amount.AppendTo(num[:0]))
	b = appendCanonicalBytes(b, strconv.AppendInt(num[:0], r.Count, 10))
	b = appendCanonical(b, r.Detail)
	b = append(b, '\n')
	if len(b) >= 32<<10 {
		d.h.Write(b)
		b = b[:0]
	}
	d.buf = b
}

func appendCanonical(b []byte, s string) []byte {
	return append(appendLength(b, len(s)), s...)
}

func appendCanonicalBytes(b, s []byte) []byte {
	return append(appendLength(b, len(s)), s...)
}

// appendLength appends a field's length and the colon after it. Most
// fields are shorter than ten bytes: one digit, without strconv's call
// (five fields a record, two records and more a line).
func appendLength(b []byte, n int) []byte {
	if n < 10 {
		return append(b, byte('0'+n), ':')
	}
	return append(strconv.AppendInt(b, int64(n), 10), ':')
}

// Rows returns the number of records added.
func (d *StateDigest) Rows() int64 { return d.rows }

// sum returns the hex SHA-256 of what was added so far.
func (d *StateDigest) sum() string {
	if len(d.buf) > 0 {
		d.h.Write(d.buf)
		d.buf = d.buf[:0]
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(d.h.Sum(sum[:0]))
}

// counts returns the trailer's Key: the rows per kind, in kind order.
func (d *StateDigest) counts() string {
	kinds := slices.Clone(d.kinds)
	slices.SortFunc(kinds, func(a, b kindCount) int { return strings.Compare(a.kind, b.kind) })
	var b strings.Builder
	for i, k := range kinds {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(k.kind)
		b.WriteByte('=')
		b.WriteString(strconv.FormatInt(k.n, 10))
	}
	return b.String()
}

// Trailer returns the END record of the records added so far.
func (d *StateDigest) Trailer() StateRecord {
	return StateRecord{Kind: KindEnd, Scope: NoDate, Key: d.counts(), Count: d.rows, Detail: d.sum()}
}

// Check compares an END record read from a file with the records added
// before it. The error says what differs, in counts and hashes only: it
// never quotes a record, so no member or claim id reaches a message.
func (d *StateDigest) Check(end *StateRecord) error {
	want := d.Trailer()
	switch {
	case end.Count != want.Count:
		return fmt.Errorf("the END row counts %d rows, %d precede it (a row was removed or added)", end.Count, want.Count)
	case end.Key != want.Key:
		return fmt.Errorf("the END row counts %s per kind, the rows before it are %s", shortText(end.Key), want.Key)
	case end.Detail != want.Detail:
		return fmt.Errorf("the rows before the END row have SHA-256 %s, the END row says %s (a value was edited)", want.Detail, shortText(end.Detail))
	}
	return nil
}

// shortText keeps a value read from a damaged file short in a message.
func shortText(s string) string {
	if len(s) > 80 {
		return strings.ToValidUTF8(s[:80], "") + "…"
	}
	return s
}

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
	return string(k.AppendDetail(make([]byte, 0, len(k.Benefit)+len(k.Provider)+len(k.Procedure)+len(k.Item)+4)))
}

// AppendDetail appends the key's Detail form to b.
func (k DupKey) AppendDetail(b []byte) []byte {
	for i, f := range [...]string{k.Benefit, k.Provider, k.Procedure, k.Item} {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendEscaped(b, f)
	}
	return b
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
