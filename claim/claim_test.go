package claim

import (
	"errors"
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
