package pipeline

import (
	"context"
	"encoding/csv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"claimsbatch/claim"
	"claimsbatch/synth"
	"claimsbatch/writers"
)

func date(t *testing.T, s string) claim.Date {
	t.Helper()
	d, err := claim.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestBusinessDays(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		want     int
	}{
		{"2025-05-02", "2025-05-02", 0},     // same day (a Friday)
		{"2025-05-03", "2025-05-03", 0},     // same day (a Saturday)
		{"2025-05-02", "2025-05-05", 1},     // Friday to Monday
		{"2025-05-03", "2025-05-05", 1},     // Saturday to Monday
		{"2025-05-04", "2025-05-05", 1},     // Sunday to Monday
		{"2025-05-02", "2025-05-03", 0},     // Friday to Saturday
		{"2025-05-02", "2025-05-04", 0},     // Friday to Sunday
		{"2025-05-03", "2025-05-04", 0},     // Saturday to Sunday
		{"2025-05-05", "2025-05-06", 1},     // Monday to Tuesday
		{"2025-05-05", "2025-05-09", 4},     // Monday to Friday
		{"2025-05-05", "2025-05-12", 5},     // Monday to the next Monday: the target's last day
		{"2025-05-05", "2025-05-13", 6},     // one day over
		{"2025-05-02", "2025-05-09", 5},     // Friday to Friday
		{"2025-05-03", "2025-05-09", 5},     // Saturday to Friday
		{"2025-05-03", "2025-05-12", 6},     // Saturday to the Monday after next
		{"2025-05-05", "2025-05-26", 15},    // three weeks
		{"2024-12-27", "2025-01-06", 6},     // over the new year (a Friday to a Monday)
		{"2024-02-28", "2024-03-01", 2},     // over a leap day (Wednesday to Friday)
		{"1969-12-26", "1970-01-01", 4},     // over the epoch (Friday to Thursday)
		{"1900-01-01", "1900-01-08", 5},     // claim.FirstDate is a Monday
		{"2199-12-24", "2199-12-31", 5},     // to claim.LastDate, a Tuesday
		{"1900-01-01", "2199-12-31", 78266}, // counted with Python's datetime
		{"2025-05-05", "2025-05-02", 0},     // backwards: never for an adjudicated line
	} {
		if got := businessDays(date(t, tc.from), date(t, tc.to)); got != tc.want {
			t.Errorf("businessDays(%s, %s) = %d, want %d", tc.from, tc.to, got, tc.want)
		}
	}
}

// slowBusinessDays counts, day by day with package time, the weekdays after
// from up to and including to.
func slowBusinessDays(from, to time.Time) int {
	n := 0
	for d := from.AddDate(0, 0, 1); !d.After(to); d = d.AddDate(0, 0, 1) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n++
		}
	}
	return n
}

// TestBusinessDaysAgainstCalendar compares the arithmetic with a day-by-day
// count on the calendar: every pair up to 40 days apart from 60 starting
// days around the epoch, around claim.FirstDate and in 2025, and 2,000
// random pairs up to 400 days apart anywhere in the range.
func TestBusinessDaysAgainstCalendar(t *testing.T) {
	check := func(from, to claim.Date) {
		t.Helper()
		want := slowBusinessDays(from.Time(), to.Time())
		if got := businessDays(from, to); got != want {
			t.Fatalf("businessDays(%s, %s) = %d, the calendar says %d", from, to, got, want)
		}
	}
	for _, start := range []claim.Date{claim.FromCivil(1969, 12, 1), claim.FirstDate, claim.FromCivil(2025, 4, 20)} {
		for from := start; from < start+60; from++ {
			for to := from; to <= from+40; to++ {
				check(from, to)
			}
		}
	}
	rng := rand.New(rand.NewPCG(13, 2025))
	for range 2000 {
		from := claim.FirstDate + claim.Date(rng.IntN(int(claim.LastDate-claim.FirstDate-400)))
		check(from, from+claim.Date(rng.IntN(401)))
	}
	if from, to := claim.FirstDate, claim.LastDate; businessDays(from, to) != slowBusinessDays(from.Time(), to.Time()) {
		t.Errorf("the whole range: %d, the calendar says %d", businessDays(from, to), slowBusinessDays(from.Time(), to.Time()))
	}
}

func TestTurnaroundSection(t *testing.T) {
	asOf := date(t, "2025-05-12") // a Monday
	var ta turnaround
	for _, received := range []string{
		"2025-05-12", "2025-05-12", // 0
		"2025-05-10", "2025-05-09", // 1 (Saturday, Friday)
		"2025-05-05", // 5: within, the last day of the target
		"2025-05-04", // 6: over (a Sunday: the Monday after it is day 1)
		"2025-05-02", // 6
		"2025-04-21", // 15: the last bucket
		"2024-05-12", // 261: the last bucket
	} {
		ta.add(date(t, received), asOf)
	}
	got := ta.section()
	want := &writers.Turnaround{TargetDays: 5, Lines: 9, Within: 5, Over: 4,
		Histogram: []int64{2, 2, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 2}}
	if got.TargetDays != want.TargetDays || got.Lines != want.Lines || got.Within != want.Within || got.Over != want.Over || !slices.Equal(got.Histogram, want.Histogram) {
		t.Errorf("section %+v, want %+v", got, want)
	}
	if err := got.Check(); err != nil {
		t.Error(err)
	}
	if empty := (&turnaround{}).section(); empty.Lines != 0 || len(empty.Histogram) != writers.TurnaroundBuckets || empty.Check() != nil {
		t.Errorf("empty section %+v", empty)
	}
}

// TestRunTurnaround runs a generated extract as of a date inside its
// received dates (the lines received later are exceptions), so that the
// lines' turnarounds spread over the histogram, and compares the
// manifest's section with a count made from the claims file (received_date,
// else service_date, of every line the remittance holds) on the calendar.
func TestRunTurnaround(t *testing.T) {
	ctx := context.Background()
	gen := generate(t, synth.Config{Lines: 3000, Seed: 21})
	asOf := claim.FromCivil(2025, 7, 16) // a Wednesday
	out := filepath.Join(t.TempDir(), "out")
	if _, err := Run(ctx, Config{Claims: []string{gen.ClaimsPath}, Members: gen.MembersPath, FX: gen.FXPath, OutDir: out, AsOf: asOf}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(out, writers.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	man, err := writers.ReadManifest(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}

	header, rows := readCSVFile(t, gen.ClaimsPath)
	col := func(name string) int { return slices.Index(header, name) }
	received := map[[2]string]string{}
	for _, r := range rows {
		key := [2]string{r[col("claim_id")], r[col("line_no")]}
		if _, dup := received[key]; dup {
			t.Fatalf("claim %s line %s twice in the generated claims", key[0], key[1])
		}
		d := r[col("received_date")]
		if d == "" {
			d = r[col("service_date")]
		}
		received[key] = d
	}
	rh, remit := readCSVFile(t, filepath.Join(out, "remittance.csv"))
	want := writers.Turnaround{TargetDays: 5, Histogram: make([]int64, 16)}
	end := asOf.Time()
	for _, r := range remit {
		d, ok := received[[2]string{r[slices.Index(rh, "claim_id")], r[slices.Index(rh, "line_no")]}]
		if !ok {
			t.Fatal("a remittance line not in the claims file")
		}
		day, err := time.Parse(time.DateOnly, d)
		if err != nil {
			t.Fatal(err)
		}
		n := slowBusinessDays(day, end)
		want.Lines++
		if n <= 5 {
			want.Within++
		} else {
			want.Over++
		}
		want.Histogram[min(n, 15)]++
	}
	got := man.Turnaround
	if got == nil {
		t.Fatal("no turnaround section in the manifest")
	}
	if got.Lines != want.Lines || got.Within != want.Within || got.Over != want.Over || !slices.Equal(got.Histogram, want.Histogram) {
		t.Errorf("manifest turnaround %+v\nthe calendar says  %+v", got, want)
	}
	// The data must exercise the histogram: lines within, over, and in at
	// least ten different buckets.
	buckets := 0
	for _, n := range want.Histogram {
		if n > 0 {
			buckets++
		}
	}
	if want.Within == 0 || want.Over == 0 || buckets < 10 || want.Lines != man.ControlTotals.LinesAdjudicated {
		t.Errorf("a weak test: %d lines (of %d adjudicated), %d within, %d over, %d buckets used",
			want.Lines, man.ControlTotals.LinesAdjudicated, want.Within, want.Over, buckets)
	}
	t.Logf("turnaround of %d lines: %d within, %d over, histogram %v", got.Lines, got.Within, got.Over, got.Histogram)
}

func readCSVFile(t *testing.T, path string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs[0], recs[1:]
}
