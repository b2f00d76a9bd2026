package claim

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		in   string
		want Money
		err  error
	}{
		{"0", 0, nil},
		{"1200", 120000, nil},
		{"1200.5", 120050, nil},
		{"1200.05", 120005, nil},
		{"1.500", 150, nil},
		{".5", 50, nil},
		{"5.", 500, nil},
		{"-3.25", -325, nil},
		{"+7", 700, nil},
		{"1.005", 0, ErrMoneyPrecision},
		{"", 0, ErrMoneySyntax},
		{".", 0, ErrMoneySyntax},
		{"1,200.00", 0, ErrMoneySyntax},
		{"1e3", 0, ErrMoneySyntax},
		{" 12", 0, ErrMoneySyntax},
		{"1234567890123456", 0, ErrMoneyRange},
	}
	for _, tc := range tests {
		got, err := ParseMoney(tc.in)
		if !errors.Is(err, tc.err) || (err == nil && got != tc.want) {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestMoneyRounding(t *testing.T) {
	tests := []struct {
		m        Money
		bp       int64
		want     Money
		describe string
	}{
		{5, 3000, 2, "0.05 × 30% = 0.015 → 0.02 (half up)"},
		{-5, 3000, -2, "negative rounds away from zero"},
		{262500, 1000, 26250, "exact"},
		{1, 5000, 1, "0.005 → 0.01"},
		{1, 4999, 0, "0.004999 → 0.00"},
	}
	for _, tc := range tests {
		if got := tc.m.Percent(tc.bp); got != tc.want {
			t.Errorf("%s: got %s want %s", tc.describe, got, tc.want)
		}
	}
	if got := Money(-5).String(); got != "-0.05" {
		t.Errorf("String(-5) = %q", got)
	}
	if got := Money(120000).String(); got != "1200.00" {
		t.Errorf("String = %q", got)
	}
}

func TestDates(t *testing.T) {
	for _, s := range []string{"1970-01-01", "2024-02-29", "2000-02-29", "1899-12-31", "2100-03-01", "0001-01-01", "9999-12-31"} {
		d, err := ParseDate(s)
		if err != nil || d.String() != s {
			t.Errorf("round trip %s: %s %v", s, d, err)
		}
	}
	if d, _ := ParseDate("1970-01-02"); d != 1 {
		t.Errorf("1970-01-02 = %d, want 1", d)
	}
	for _, s := range []string{"2023-02-29", "2024-13-01", "2024-00-10", "2024-1-01", "20240101", "2024-04-31", "abcd-ef-gh", ""} {
		if _, err := ParseDate(s); !errors.Is(err, ErrDate) {
			t.Errorf("ParseDate(%q) accepted", s)
		}
	}
	add := []struct {
		from   string
		months int
		want   string
	}{
		{"2024-02-29", 12, "2025-02-28"},
		{"2024-02-29", 48, "2028-02-29"},
		{"2023-11-30", 3, "2024-02-29"},
		{"2024-01-31", 1, "2024-02-29"},
		{"2024-10-15", 3, "2025-01-15"},
	}
	for _, tc := range add {
		d, _ := ParseDate(tc.from)
		if got := d.AddMonths(tc.months).String(); got != tc.want {
			t.Errorf("%s + %d months = %s, want %s", tc.from, tc.months, got, tc.want)
		}
	}
	age := []struct {
		born, on string
		want     int
	}{
		{"2006-06-15", "2024-06-14", 17},
		{"2006-06-15", "2024-06-15", 18},
		{"2008-02-29", "2026-02-28", 17},
		{"2008-02-29", "2026-03-01", 18},
	}
	for _, tc := range age {
		b, _ := ParseDate(tc.born)
		o, _ := ParseDate(tc.on)
		if got := b.AgeOn(o); got != tc.want {
			t.Errorf("age of %s on %s = %d, want %d", tc.born, tc.on, got, tc.want)
		}
	}
}

func TestAdjustmentsOrder(t *testing.T) {
	var a Adjustments
	a[PR119] = 1000
	a[PR1] = 37500
	a[PR2] = 16500
	a[OA18] = 5
	if got, want := a.String(), "PR-1:375.00 PR-2:165.00 OA-18:0.05 PR-119:10.00"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"0", "1200.50", "-1", "1.005", ".5", "99999999999999.99", "1e5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMoney(s)
		if err != nil {
			return
		}
		back, err := ParseMoney(m.String())
		if err != nil || back != m {
			t.Fatalf("%q → %s → %d %v", s, m, back, err)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-02-29", "2023-02-29", "0000-01-01", "9999-12-31"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			return
		}
		if d.String() != s {
			t.Fatalf("%q → %s", s, d)
		}
	})
}

func TestDupDetailRoundTrip(t *testing.T) {
	for _, k := range []DupKey{
		{"HOSPITAL_ACCOMMODATION", "PR-1", "99213", ""},
		{"OP_CONSULTATION", "", "", ""},
		{"B", "dr smith 100%", "-", "WIG\x01"},
		{"B", " lead", "a  b", "-x"},
	} {
		d := k.Detail()
		if strings.Count(d, " ") != 3 {
			t.Errorf("%+v: detail %q does not have 4 fields", k, d)
		}
		got, ok := ParseDupDetail(d)
		if !ok || got != k {
			t.Errorf("%+v: detail %q reads back as %+v, %v", k, d, got, ok)
		}
	}
	if got := (DupKey{"HOSPITAL_ACCOMMODATION", "PR-1", "", ""}).Detail(); got != "HOSPITAL_ACCOMMODATION PR-1 - -" {
		t.Errorf("detail %q", got)
	}
	if got := UpgradeDupDetail("DENTAL_MAJOR dr smith"); got != "DENTAL_MAJOR dr%20smith - -" {
		t.Errorf("upgrade %q", got)
	}
	for _, bad := range []string{"", "A B C", "A B C D E", "A %ZZ - -", "A B  -"} {
		if _, ok := ParseDupDetail(bad); ok {
			t.Errorf("ParseDupDetail(%q) accepted", bad)
		}
	}
}

// TestStateDigest pins the canonical text of the state trailer (issue 12,
// finding 2: a state cut short or edited must not be accepted): its hash,
// the counts per kind, and that Check names what differs without quoting a
// record.
func TestStateDigest(t *testing.T) {
	recs := []StateRecord{
		{Kind: KindMeta, Scope: NoDate, Key: MetaVersion, Detail: "4"},
		{Kind: KindYear, MemberID: "M1", Scope: FromCivil(2024, 1, 1), Detail: "2024-12-31"},
		{Kind: KindAcc, MemberID: "M1", Scope: FromCivil(2024, 1, 1), Key: "deductible:core", Amount: -500000},
		{Kind: KindLine, MemberID: "M1", Scope: FromCivil(2024, 3, 1), Key: "C1", Count: 2, Amount: 1250, Detail: "B - - -"},
	}
	d := NewStateDigest()
	for i := range recs {
		d.Add(&recs[i])
	}
	canonical := "4:META0:0:7:version4:0.001:01:4\n" +
		"4:YEAR2:M110:2024-01-010:4:0.001:010:2024-12-31\n" +
		"3:ACC2:M110:2024-01-0115:deductible:core8:-5000.001:00:\n" +
		"4:LINE2:M110:2024-03-012:C15:12.501:27:B - - -\n"
	sum := sha256.Sum256([]byte(canonical))
	end := d.Trailer()
	want := StateRecord{Kind: KindEnd, Scope: NoDate, Key: "ACC=1;LINE=1;META=1;YEAR=1", Count: 4, Detail: hex.EncodeToString(sum[:])}
	if end != want {
		t.Fatalf("Trailer() = %+v, want %+v", end, want)
	}
	if err := d.Check(&end); err != nil {
		t.Errorf("Check(own trailer) = %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(e *StateRecord)
		msg  string
	}{
		{"row removed", func(e *StateRecord) { e.Count = 5 }, "the END row counts 5 rows, 4 precede it (a row was removed or added)"},
		{"kinds", func(e *StateRecord) { e.Key = "ACC=2;LINE=0;META=1;YEAR=1" }, "the END row counts ACC=2;LINE=0;META=1;YEAR=1 per kind, the rows before it are ACC=1;LINE=1;META=1;YEAR=1"},
		{"value edited", func(e *StateRecord) { e.Detail = "00" }, "the rows before the END row have SHA-256 " + want.Detail + ", the END row says 00 (a value was edited)"},
	} {
		e := want
		tc.edit(&e)
		if err := d.Check(&e); err == nil || err.Error() != tc.msg {
			t.Errorf("%s: Check = %v, want %q", tc.name, err, tc.msg)
		}
	}
	for v, need := range map[string]bool{"1": false, "2": false, "3": false, "4": true, "5": true, "": true} {
		if got := StateNeedsTrailer(v); got != need {
			t.Errorf("StateNeedsTrailer(%q) = %v, want %v", v, got, need)
		}
	}
}

// TestStateDigestScopes: the digest's cache of scope texts gives each
// record its own scope's text, also for scopes that share a cache slot
// (dates 1,024 days apart; no date and the epoch; the open end) in turn.
func TestStateDigestScopes(t *testing.T) {
	base := FromCivil(2024, 3, 1)
	scopes := []Date{base, base + 1024, NoDate, 0, base, OpenEnd, base + 1023, base + 2048, 0, NoDate, base + 1024}
	d := NewStateDigest()
	var canonical strings.Builder
	for i := range 3 * len(scopes) {
		sc := scopes[(i*7)%len(scopes)]
		d.Add(&StateRecord{Kind: KindLine, MemberID: "M1", Scope: sc, Key: "C1", Count: 1})
		text := sc.AppendTo(nil)
		fmt.Fprintf(&canonical, "4:LINE2:M1%d:%s2:C14:0.001:10:\n", len(text), text)
	}
	sum := sha256.Sum256([]byte(canonical.String()))
	if got, want := d.Trailer().Detail, hex.EncodeToString(sum[:]); got != want {
		t.Errorf("digest of records over colliding scopes %s, want %s (of %q)", got, want, canonical.String())
	}
}

// TestDateRange pins the bounds of SPEC section 7 (version 2).
func TestDateRange(t *testing.T) {
	if FirstDate != FromCivil(1900, 1, 1) || LastDate != FromCivil(2199, 12, 31) {
		t.Fatalf("FirstDate %s, LastDate %s", FirstDate, LastDate)
	}
	for d, in := range map[Date]bool{FirstDate: true, LastDate: true, FirstDate - 1: false, LastDate + 1: false, FromCivil(1, 1, 1): false, FromCivil(9999, 12, 31): false} {
		if d.InRange() != in {
			t.Errorf("%s.InRange() = %v", d, !in)
		}
	}
}

// BenchmarkStateDigest: the digest of LINE records, most of a state file.
func BenchmarkStateDigest(b *testing.B) {
	recs := make([]StateRecord, 4096)
	for i := range recs {
		recs[i] = StateRecord{Kind: KindLine, MemberID: fmt.Sprintf("M%07d", i/20), Scope: FromCivil(2024, 3, 1+i%28),
			Key: fmt.Sprintf("C%09d", i), Count: int64(1 + i%3)}
	}
	d := NewStateDigest()
	b.ResetTimer()
	for range b.N {
		for i := range recs {
			d.Add(&recs[i])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}
