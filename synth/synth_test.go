package synth

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"claimsbatch/claim"
	"claimsbatch/plan"
)

func generate(t testing.TB, cfg Config) Result {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	res, err := Generate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDeterminism(t *testing.T) {
	for _, format := range []string{"csv", "csv.gz", "parquet"} {
		for _, sorted := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/sorted=%v", format, sorted), func(t *testing.T) {
				cfg := Config{Lines: 30_000, Seed: 42, Format: format, BadShare: 0.01, Sorted: sorted}
				a, b := generate(t, cfg), generate(t, cfg)
				cfg.Seed = 43
				c := generate(t, cfg)
				for _, paths := range [][3]string{
					{a.MembersPath, b.MembersPath, c.MembersPath},
					{a.ClaimsPath, b.ClaimsPath, c.ClaimsPath},
					{a.FXPath, b.FXPath, c.FXPath},
				} {
					first, second, other := readAll(t, paths[0]), readAll(t, paths[1]), readAll(t, paths[2])
					if !bytes.Equal(first, second) {
						t.Errorf("%s: two runs with the same config differ", filepath.Base(paths[0]))
					}
					if bytes.Equal(first, other) {
						t.Errorf("%s: seeds 42 and 43 give the same bytes", filepath.Base(paths[0]))
					}
				}
				a.MembersPath, a.ClaimsPath, a.FXPath = "", "", ""
				b.MembersPath, b.ClaimsPath, b.FXPath = "", "", ""
				if a != b {
					t.Errorf("results differ: %+v and %+v", a, b)
				}
			})
		}
	}
}

func countLines(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var n int64
	for sc.Scan() {
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return n - 1 // header
}

func TestRowCounts(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"default members", Config{Lines: 12_345, Seed: 1}},
		{"more members than lines", Config{Lines: 500, Members: 3_000, Seed: 2}},
		{"few members, many lines each", Config{Lines: 100_000, Members: 2, Seed: 3, Sorted: true}},
		{"one line", Config{Lines: 1, Seed: 4}},
		{"no lines", Config{Lines: 0, Seed: 5}},
		{"bad rows", Config{Lines: 20_000, Seed: 6, BadShare: 0.05}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := generate(t, tt.cfg)
			if res.ClaimRows != tt.cfg.Lines {
				t.Errorf("Result.ClaimRows = %d, want %d", res.ClaimRows, tt.cfg.Lines)
			}
			if got := countLines(t, res.ClaimsPath); got != tt.cfg.Lines {
				t.Errorf("claims file has %d rows, want %d", got, tt.cfg.Lines)
			}
			if got := countLines(t, res.MembersPath); got != res.MemberRows {
				t.Errorf("members file has %d rows, Result says %d", got, res.MemberRows)
			}
			if got := countLines(t, res.FXPath); got != res.FXRows {
				t.Errorf("fx file has %d rows, Result says %d", got, res.FXRows)
			}
			wantMembers := int64(tt.cfg.Members)
			if wantMembers == 0 {
				wantMembers = max(1, tt.cfg.Lines/20)
			}
			r := checkDir(t, filepath.Dir(res.ClaimsPath), plan.Default())
			if got := int64(len(r.memberOrder)); got != wantMembers {
				t.Errorf("%d distinct members, want %d", got, wantMembers)
			}
			if got := int64(r.bad()); got != res.BadRows {
				t.Errorf("checker finds %d bad rows, Result.BadRows = %d", got, res.BadRows)
			}
		})
	}
}

func TestValidWhenNoBadShare(t *testing.T) {
	p := plan.Default()
	for _, sorted := range []bool{false, true} {
		t.Run(fmt.Sprintf("sorted=%v", sorted), func(t *testing.T) {
			res := generate(t, Config{Lines: 20_000, Seed: 7, Sorted: sorted})
			r := checkDir(t, filepath.Dir(res.ClaimsPath), p)
			if res.BadRows != 0 || res.BadMembers != 0 {
				t.Errorf("BadShare 0 gave BadRows %d, BadMembers %d", res.BadRows, res.BadMembers)
			}
			for reason, n := range r.badByReason {
				t.Errorf("%d rows would be exceptions: %s", n, reason)
			}
			for id, why := range r.invalid {
				t.Errorf("member %s is invalid: %s", id, why)
			}
			seen := map[string]bool{}
			for _, c := range r.claims {
				seen[c.fields[colBenefitCode]] = true
			}
			for _, b := range p.Benefits {
				if !seen[b.Code] {
					t.Errorf("benefit %s never appears in 20000 lines", b.Code)
				}
			}
		})
	}
}

func TestBadShare(t *testing.T) {
	const lines = 50_000
	for _, format := range []string{"csv", "parquet"} {
		t.Run(format, func(t *testing.T) {
			res := generate(t, Config{Lines: lines, Seed: 8, BadShare: 0.01, Format: format})
			share := float64(res.BadRows) / lines
			if share < 0.008 || share > 0.012 {
				t.Errorf("BadRows %d = %.4f of the lines, want about 0.01", res.BadRows, share)
			}
			if res.BadMembers == 0 {
				t.Errorf("no invalid member among %d", res.MemberRows)
			}
			if format != "csv" {
				return
			}
			r := checkDir(t, filepath.Dir(res.ClaimsPath), plan.Default())
			if got := int64(r.bad()); got != res.BadRows {
				t.Errorf("checker finds %d bad rows, Result.BadRows = %d", got, res.BadRows)
			}
			if got := int64(len(r.invalid)); got != res.BadMembers {
				t.Errorf("checker finds %d invalid members, Result.BadMembers = %d: %v", got, res.BadMembers, r.invalid)
			}
			// Every kind of bad row is there.
			kinds := map[string]bool{}
			for reason := range r.badByReason {
				kinds[strings.Fields(reason)[0]] = true
			}
			for _, want := range []string{"PARSE_ERROR", "MISSING_FIELD", "INVALID_VALUE", "UNKNOWN_BENEFIT", "UNKNOWN_MEMBER", "NO_FX_RATE", "DUPLICATE_LINE"} {
				if !kinds[want] {
					t.Errorf("no bad row of kind %s; got %v", want, r.badByReason)
				}
			}
			for _, want := range []string{"INVALID_VALUE service_date", "INVALID_VALUE billed_amount", "INVALID_VALUE billed_amount negative", "INVALID_VALUE emergency", "INVALID_VALUE service_end_date before service_date"} {
				if r.badByReason[want] == 0 {
					t.Errorf("no bad row %q; got %v", want, r.badByReason)
				}
			}
		})
	}
}

// memberAndDate returns the sort key the SPEC's sorted claims files use, and
// false for rows where it cannot be read.
func memberAndDate(c claimRow) (string, claim.Date, bool) {
	if len(c.fields) <= colServiceDate || c.fields[colMemberID] == "" {
		return "", 0, false
	}
	d, err := claim.ParseDate(c.fields[colServiceDate])
	return c.fields[colMemberID], d, err == nil
}

func TestSortedOrder(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"valid rows", Config{Lines: 40_000, Seed: 9, Sorted: true}},
		{"with bad rows", Config{Lines: 40_000, Seed: 10, Sorted: true, BadShare: 0.02}},
		{"members in date slices", Config{Lines: 150_000, Members: 3, Seed: 11, Sorted: true, BadShare: 0.001}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := generate(t, tt.cfg)
			r := checkDir(t, filepath.Dir(res.ClaimsPath), plan.Default())
			var prevID string
			var prevDate claim.Date
			checked := 0
			for i, c := range r.claims {
				id, d, ok := memberAndDate(c)
				if !ok {
					continue
				}
				if id < prevID || id == prevID && d < prevDate {
					t.Fatalf("row %d (%s, %s) comes after (%s, %s)", i+1, id, d, prevID, prevDate)
				}
				prevID, prevDate = id, d
				checked++
			}
			if checked < len(r.claims)*95/100 {
				t.Errorf("only %d of %d rows have a readable key", checked, len(r.claims))
			}
		})
	}
}

func TestUnsortedIsInterleaved(t *testing.T) {
	// 20000 lines = 1000 members = one block: ordered by received date (the
	// service date when received_date is empty) across all members.
	res := generate(t, Config{Lines: 20_000, Seed: 12})
	r := checkDir(t, filepath.Dir(res.ClaimsPath), plan.Default())
	var prev claim.Date
	memberChanges := 0
	for i, c := range r.claims {
		rec := c.recv
		if rec == claim.NoDate {
			rec = c.service
		}
		if rec < prev {
			t.Fatalf("row %d: received %s before the previous row's %s", i+1, rec, prev)
		}
		prev = rec
		if i > 0 && c.fields[colMemberID] != r.claims[i-1].fields[colMemberID] {
			memberChanges++
		}
	}
	if memberChanges < len(r.claims)/3 {
		t.Errorf("member id changes on only %d of %d rows: not interleaved", memberChanges, len(r.claims))
	}
}

// TestRealism checks that the data exercises the rules the engine implements.
func TestRealism(t *testing.T) {
	p := plan.Default()
	res := generate(t, Config{Lines: 100_000, Seed: 13})
	r := checkDir(t, filepath.Dir(res.ClaimsPath), p)

	count := map[string]int{}
	add := func(name string, cond bool) {
		if cond {
			count[name]++
		}
	}
	leap := claim.FromCivil(2024, 2, 29)
	currencies := map[string]int{}
	for _, id := range r.memberOrder {
		spans := r.members[id]
		s := spans[0]
		currencies[s.currency]++
		age := s.dob.AgeOn(s.start)
		add("two spans", len(spans) == 2)
		add("contiguous renewal", len(spans) == 2 && spans[1].start == spans[0].end+1)
		add("renewal after a gap", len(spans) == 2 && spans[1].start > spans[0].end+1)
		add("29 February start", s.start == leap)
		add("span that ends", spans[len(spans)-1].end != claim.OpenEnd)
		add("child", age < 18)
		add("over 65", age >= 65)
		add("origin differs", s.origin != s.residence)
		add("us cover", s.usCover == "Y")
		add("outpatient", strings.Contains(s.modules, "outpatient"))
		add("dental", strings.Contains(s.modules, "dental"))
		add("default options", s.optionsGiven == 0)
		add("changed options", len(spans) == 2 && spans[0].optionsGiven != spans[1].optionsGiven)
		add("start before 2021", s.start < claim.FromCivil(2021, 1, 1))
	}
	n := len(r.memberOrder)
	share := func(name string) float64 { return float64(count[name]) / float64(n) }
	for _, c := range []struct {
		name   string
		lo, hi float64
	}{
		{"two spans", 0.10, 0.20}, {"contiguous renewal", 0.04, 0.14}, {"renewal after a gap", 0.03, 0.10},
		{"29 February start", 0.003, 0.03}, {"span that ends", 0.20, 0.50}, {"child", 0.12, 0.25},
		{"over 65", 0.06, 0.20}, {"origin differs", 0.30, 0.50}, {"us cover", 0.06, 0.14},
		{"outpatient", 0.50, 0.70}, {"dental", 0.22, 0.38}, {"default options", 0.001, 0.20},
		{"changed options", 0.01, 0.15}, {"start before 2021", 0, 0},
	} {
		if testing.Verbose() {
			t.Logf("members: %s = %.4f", c.name, share(c.name))
		}
		if got := share(c.name); got < c.lo || got > c.hi {
			t.Errorf("members: %s = %.3f, want %.3f..%.3f", c.name, got, c.lo, c.hi)
		}
	}
	if usd, eur, gbp := float64(currencies["USD"])/float64(n), float64(currencies["EUR"])/float64(n), float64(currencies["GBP"])/float64(n); usd < 0.55 || usd > 0.65 || eur < 0.20 || eur > 0.30 || gbp < 0.11 || gbp > 0.19 {
		t.Errorf("plan currency mix USD %.2f EUR %.2f GBP %.2f, want about 60/25/15", usd, eur, gbp)
	}

	// Claim lines.
	type dupKey struct{ member, date, benefit, provider, amount string }
	services := map[dupKey]string{} // -> claim id
	maxLines := 0
	for _, k := range r.claimsPerUser {
		maxLines = max(maxLines, k)
	}
	for _, c := range r.claims {
		f := c.fields
		spans := r.members[f[colMemberID]]
		s := spans[0]
		inSpan, beforeAll := false, c.service < s.start
		for _, sp := range spans {
			inSpan = inSpan || (c.service >= sp.start && c.service <= sp.end)
		}
		inArea := f[colCountry] == s.residence || f[colCountry] == s.origin ||
			f[colCountry] == "US" && (s.residence == "US" || s.usCover == "Y")
		b, _, _ := p.Lookup(f[colBenefitCode])
		ben := p.Benefit(b)
		age := s.dob.AgeOn(c.service)
		moduleHeld := ben.Module == claim.Core || strings.Contains(s.modules, ben.Module.String())
		nights := 0
		if c.end != claim.NoDate {
			nights = int(c.end - c.service)
		}
		recv := c.recv
		if recv == claim.NoDate {
			recv = c.service
		}
		if lag := int(recv - c.service); lag < 0 || lag > 60 {
			t.Fatalf("received %d days after service: %q", lag, f)
		}
		add("inside cover", inSpan)
		add("before cover", beforeAll)
		add("after or between spans", !inSpan && !beforeAll)
		add("out of area", !inArea)
		add("out of area emergency", !inArea && f[colEmergency] == "Y")
		add("out of area not emergency", !inArea && f[colEmergency] != "Y")
		add("trip id", f[colTripID] != "")
		add("out of area emergency without trip", !inArea && f[colEmergency] == "Y" && f[colTripID] == "")
		add("origin country", s.origin != s.residence && f[colCountry] == s.origin)
		add("US treatment with US cover", f[colCountry] == "US" && s.usCover == "Y" && s.residence != "US")
		add("provider", f[colProviderID] != "")
		add("payee member", f[colPayee] == "member")
		add("payee empty", f[colPayee] == "")
		add("foreign currency", f[colCurrency] != s.currency)
		add("diagnosis", f[colDiagnosisCode] != "")
		add("stay", nights > 0)
		add("units = nights", nights > 0 && f[colUnits] == fmt.Sprint(nights))
		add("wig", f[colItemCode] == "WIG")
		add("bra", f[colItemCode] == "BRA")
		add("module not held", !moduleHeld)
		add("age rule broken", !(ben.MinAge < 0 || age >= ben.MinAge) || !(ben.MaxAge < 0 || age <= ben.MaxAge))
		add("line 4", f[colLineNo] == "4")
		add("received empty", f[colReceivedDate] == "")
		add("cash benefit", ben.IsCash())
		add("dental waiting period", ben.WaitingMonths > 0 && inSpan && c.service < s.start.AddMonths(ben.WaitingMonths))
		add("over 10000", c.billed > 1_000_000 && f[colCurrency] == s.currency)
		if dayLimited(p, ben) && ben.Module == claim.Core && nights == 0 && ben.Code != "MENTAL_HEALTH_OUTPATIENT" {
			t.Errorf("day-limited line without a stay: %q", f)
		}
		key := dupKey{f[colMemberID], f[colServiceDate], f[colBenefitCode], f[colProviderID], f[colBilledAmount]}
		if other, ok := services[key]; ok && other != f[colClaimID] {
			count["duplicate service"]++
		}
		services[key] = f[colClaimID]
	}
	lines := float64(len(r.claims))
	for _, c := range []struct {
		name   string
		lo, hi float64
	}{
		{"inside cover", 0.90, 0.995}, {"before cover", 0.001, 0.05}, {"after or between spans", 0.001, 0.06},
		{"out of area", 0.06, 0.11}, {"out of area emergency", 0.04, 0.09}, {"out of area not emergency", 0.005, 0.03},
		{"trip id", 0.02, 0.05}, {"out of area emergency without trip", 0.02, 0.05}, {"origin country", 0.02, 0.08},
		{"US treatment with US cover", 0.001, 0.02}, {"provider", 0.82, 0.88}, {"payee member", 0.10, 0.14},
		{"payee empty", 0.05, 0.15}, {"foreign currency", 0.08, 0.12}, {"diagnosis", 0.60, 0.90},
		{"stay", 0.03, 0.20}, {"units = nights", 0.005, 0.10}, {"wig", 0.0005, 0.01}, {"bra", 0.0005, 0.01},
		{"module not held", 0.005, 0.05}, {"age rule broken", 0.001, 0.05}, {"line 4", 0.01, 0.06},
		{"received empty", 0.005, 0.02}, {"cash benefit", 0.0005, 0.01}, {"dental waiting period", 0.0005, 0.05},
		{"over 10000", 0.005, 0.05}, {"duplicate service", 0.001, 0.01},
	} {
		if testing.Verbose() {
			t.Logf("claims: %s = %.4f", c.name, float64(count[c.name])/lines)
		}
		if got := float64(count[c.name]) / lines; got < c.lo || got > c.hi {
			t.Errorf("claims: %s = %.4f, want %.4f..%.4f", c.name, got, c.lo, c.hi)
		}
	}
	if maxLines < 200 {
		t.Errorf("the busiest member has %d lines, want some with hundreds", maxLines)
	}
	// Every pair of (foreign currency, plan currency) used has rates.
	for _, c := range r.claims {
		s := r.members[c.fields[colMemberID]][0]
		if cur := c.fields[colCurrency]; cur != s.currency && len(r.fx[[2]string{cur, s.currency}]) == 0 {
			t.Fatalf("no FX rate for %s -> %s", cur, s.currency)
		}
	}
}

// TestOptionsOfAnAlteredPlan checks that the generator follows the plan it is
// given: options come from its lists, and a new benefit code appears.
func TestOptionsOfAnAlteredPlan(t *testing.T) {
	yaml := bytes.Replace(plan.DefaultYAML(), []byte("USD: [0, 375, 750, 1500, 3000, 7500, 10000]"), []byte("USD: [0, 400, 800]"), 1)
	yaml = bytes.Replace(yaml, []byte("  # ---- outpatient module ----\n"), []byte("  - code: HEARING_AID\n    module: core\n    description: hearing aids\n\n  # ---- outpatient module ----\n"), 1)
	p, err := plan.Parse("altered", yaml)
	if err != nil {
		t.Fatal(err)
	}
	res := generate(t, Config{Lines: 20_000, Seed: 14, Plan: p})
	r := checkDir(t, filepath.Dir(res.ClaimsPath), p)
	for reason, n := range r.badByReason {
		t.Errorf("%d rows would be exceptions: %s", n, reason)
	}
	for id, why := range r.invalid {
		t.Errorf("member %s is invalid: %s", id, why)
	}
	found := false
	for _, c := range r.claims {
		found = found || c.fields[colBenefitCode] == "HEARING_AID"
	}
	if !found {
		t.Error("HEARING_AID never appears")
	}
}

func TestParquetMatchesCSV(t *testing.T) {
	cfg := Config{Lines: 25_000, Seed: 15}
	csvRes := generate(t, cfg)
	cfg.Format = "parquet"
	pqRes := generate(t, cfg)
	if csvRes.ClaimRows != pqRes.ClaimRows || csvRes.MemberRows != pqRes.MemberRows || csvRes.FXRows != pqRes.FXRows {
		t.Fatalf("row counts differ: csv %+v, parquet %+v", csvRes, pqRes)
	}
	for _, paths := range [][2]string{
		{csvRes.MembersPath, pqRes.MembersPath},
		{csvRes.ClaimsPath, pqRes.ClaimsPath},
		{csvRes.FXPath, pqRes.FXPath},
	} {
		want := readCSV(t, paths[0])
		got := readParquetAsText(t, paths[1])
		if len(got) != len(want) {
			t.Fatalf("%s: %d rows, the CSV has %d", paths[1], len(got), len(want))
		}
		for i := range want {
			if !slicesEqual(got[i], want[i]) {
				t.Fatalf("%s row %d:\n parquet %q\n csv     %q", filepath.Base(paths[1]), i, got[i], want[i])
			}
		}
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no dir", Config{Lines: 10}},
		{"negative lines", Config{Dir: dir, Lines: -1}},
		{"negative members", Config{Dir: dir, Lines: 10, Members: -1}},
		{"bad share above 1", Config{Dir: dir, Lines: 10, BadShare: 1.5}},
		{"bad share negative", Config{Dir: dir, Lines: 10, BadShare: -0.1}},
		{"unknown format", Config{Dir: dir, Lines: 10, Format: "xlsx"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Generate(context.Background(), tt.cfg)
			if !errors.Is(err, ErrConfig) {
				t.Errorf("error %v, want ErrConfig", err)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused config left files: %v", entries)
	}
}

func TestCancelLeavesNoFiles(t *testing.T) {
	for _, format := range []string{"csv", "parquet"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, cancel)
			_, err := Generate(ctx, Config{Dir: dir, Lines: 50_000_000, Seed: 16, Format: format})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v, want context.Canceled", err)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				t.Errorf("cancelled run left %s", e.Name())
			}
		})
	}
}

// peakHeap runs cfg and samples the heap every 2 ms: the peak of all heap
// objects (live or not yet collected) and the peak of the live heap as of
// the last garbage collection.
func peakHeap(t *testing.T, cfg Config) (objects, live uint64) {
	t.Helper()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				metrics.Read(sample)
				objects = max(objects, sample[0].Value.Uint64())
				live = max(live, sample[1].Value.Uint64())
			}
		}
	}()
	runtime.GC()
	generate(t, cfg)
	close(stop)
	wg.Wait()
	return objects, live
}

// TestMemoryIsFlat checks that memory does not grow with the number of
// lines: lines are generated and written block by block.
func TestMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a million lines")
	}
	for _, tc := range []struct {
		format string
		limit  uint64 // on the peak of all heap objects
	}{{"csv", 48 << 20}, {"parquet", 200 << 20}} {
		t.Run(tc.format, func(t *testing.T) {
			smallObjects, smallLive := peakHeap(t, Config{Lines: 250_000, Seed: 17, Format: tc.format, BadShare: 0.002})
			objects, live := peakHeap(t, Config{Lines: 1_000_000, Seed: 17, Format: tc.format, BadShare: 0.002})
			t.Logf("peak heap: 250k lines %d MiB (live %d MiB), 1M lines %d MiB (live %d MiB)",
				smallObjects>>20, smallLive>>20, objects>>20, live>>20)
			if objects > tc.limit {
				t.Errorf("peak heap %d MiB for 1M lines, want under %d MiB", objects>>20, tc.limit>>20)
			}
			if live > smallLive*3/2+16<<20 {
				t.Errorf("live heap grows with the lines: %d MiB for 250k, %d MiB for 1M", smallLive>>20, live>>20)
			}
		})
	}
}

func BenchmarkGenerate(b *testing.B) {
	for _, format := range []string{"csv", "csv.gz", "parquet"} {
		b.Run(format, func(b *testing.B) {
			const lines = 200_000
			b.ReportAllocs()
			dir := b.TempDir()
			for b.Loop() {
				generate(b, Config{Dir: dir, Lines: lines, Seed: 1, Format: format, BadShare: 0.002})
			}
			b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}

func ExampleGenerate() {
	dir, err := os.MkdirTemp("", "synth")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	res, err := Generate(context.Background(), Config{Dir: dir, Lines: 1000, Seed: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println(filepath.Base(res.MembersPath), filepath.Base(res.ClaimsPath), filepath.Base(res.FXPath))
	fmt.Println(res.ClaimRows, "claim lines")
	// Output:
	// members.csv claims.csv fx.csv
	// 1000 claim lines
}
