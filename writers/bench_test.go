package writers

import (
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"claimsbatch/claim"
	"claimsbatch/internal/arrowmem"
)

// The writers' micro-benchmarks. One op is a batch of benchBatch rows, as
// the pipeline writes them, taken in turn from benchRows distinct rows (so
// that the compressor does not see the same batch again and again); a
// Parquet writer cuts a row group every 64 Ki rows, so a run of a second or
// more covers many. Each reports, besides
// ns/op and allocs/op (per batch):
//
//   - rows/s and ns/row: wall time, which other load on a shared host inflates;
//   - cpu-ns/row: user + system CPU of the whole process (the GC's workers
//     included) from getrusage, which that load distorts much less;
//   - bytes/row: the output's size per row.

// benchResults returns n distinct, realistic results in remittance order:
// members ascending with four lines each, two lines per claim, unique claim
// ids, a spread of dates, benefits, modules, statuses, payees, currencies
// and amounts, a remark on some.
func benchResults(n int) []claim.Result {
	results := make([]claim.Result, n)
	lines := make([]claim.Line, n)
	benefits := []string{"OP_GP", "OP_SPEC", "IP_ROOM", "DENT_BASIC", "OP_PHYSIO", "RX_GENERIC"}
	procedures := []string{"99213", "99214", "", "D1110", "97110", "J3490"}
	currencies := []string{"USD", "EUR", "GBP", "EUR", "EUR"}
	rates := []string{"0.9213", "1", "1.1702", "1", "1"}
	for i := range results {
		billed := claim.Money(1000 + (i*7919)%500000)
		member := i / 4
		b := i % len(benefits)
		c := (i / 7) % len(currencies)
		lines[i] = claim.Line{
			ClaimID: fmt.Sprintf("C%09d", i/2), LineNo: int32(i%2 + 1), MemberID: fmt.Sprintf("M%07d", member),
			ServiceDate: claim.FromCivil(2024, 1+i%12, 1+i%28), BenefitCode: benefits[b], ProcedureCode: procedures[b],
			Payee: claim.PayeeProvider, ProviderID: fmt.Sprintf("PRV%05d", (i*31)%5000),
			Currency: currencies[c], Billed: billed, FXRate: rates[c], PlanCurrency: "EUR",
		}
		if i%9 == 0 {
			lines[i].Payee = claim.PayeeMember
		}
		charge := billed
		if rates[c] != "1" {
			charge = billed.MulRatio(9213, 10000)
		}
		ded := claim.Min(charge, 37500)
		coins := (charge - ded).Percent(2000)
		r := claim.Result{
			Line: &lines[i], PolicyID: fmt.Sprintf("POL%06d", member), PolicyYearStart: claim.FromCivil(2024, 1, 1),
			Module: claim.Module(1 + b%3), Charge: charge, Deductible: ded, Coinsurance: coins,
			PlanPaid: charge - ded - coins, Status: claim.StatusPartial,
		}
		r.Adjustments[claim.PR1] = ded
		r.Adjustments[claim.PR2] = coins
		switch {
		case i%10 == 0:
			r.Remark = "deductible, then coinsurance"
		case i%23 == 0:
			r.Status, r.PlanPaid, r.NotCovered, r.Deductible, r.Coinsurance = claim.StatusDenied, 0, charge, 0, 0
			r.Adjustments = claim.Adjustments{}
			r.Adjustments[claim.PR204] = charge
			r.Remark = "service not covered by the member's modules"
		case i%41 == 0:
			r.PolicyYearStart = claim.NoDate
		}
		results[i] = r
	}
	return results
}

// benchState returns n state records as a run writes them: per member, its
// LINE records (one per adjudicated line, with the duplicate-service key)
// followed by a YEAR and a few ACC records.
func benchState(n int) []claim.StateRecord {
	recs := make([]claim.StateRecord, 0, n)
	accs := []string{"deductible:core", "oop:outpatient", "benefit:OP_GP"}
	for i := 0; len(recs) < n; i++ {
		member := fmt.Sprintf("M%07d", i)
		year := claim.FromCivil(2024, 1, 1)
		for l := 0; l < 4 && len(recs) < n; l++ {
			recs = append(recs, claim.StateRecord{
				Kind: claim.KindLine, MemberID: member, Scope: claim.FromCivil(2024, 1+(i+l)%12, 1+l),
				Key: fmt.Sprintf("C%09d", 2*i+l/2), Amount: claim.Money(1000 + (i*7919+l)%500000), Count: int64(l%2 + 1),
				Detail: claim.DupKey{Benefit: "OP_GP", Provider: fmt.Sprintf("PRV%05d", (i*31+l)%5000), Procedure: "99213"}.Detail(),
			})
		}
		if len(recs) < n {
			recs = append(recs, claim.StateRecord{Kind: claim.KindYear, MemberID: member, Scope: year, Detail: "2024-12-31"})
		}
		for a := 0; a < len(accs) && len(recs) < n; a++ {
			recs = append(recs, claim.StateRecord{Kind: claim.KindAcc, MemberID: member, Scope: year, Key: accs[a],
				Amount: claim.Money((i*131 + a*7) % 80000), Count: int64(a)})
		}
	}
	return recs
}

// benchPayments returns n payments rows: providers, then members.
func benchPayments(n int) []PaymentRow {
	rows := make([]PaymentRow, n)
	for i := range rows {
		rows[i] = PaymentRow{PayeeType: claim.PayeeProvider, PayeeID: fmt.Sprintf("PRV%05d", i), PlanCurrency: "EUR",
			LineCount: int64(1 + i%400), PlanPaid: claim.Money(1000 + (i*7919)%50000000)}
		if i >= n/2 {
			rows[i].PayeeType, rows[i].PayeeID = claim.PayeeMember, fmt.Sprintf("M%07d", i)
		}
	}
	return rows
}

// benchExceptions returns n exceptions with their raw rows.
func benchExceptions(n int) []claim.Exception {
	ex := make([]claim.Exception, n)
	for i := range ex {
		id := fmt.Sprintf("C%09d", i)
		ex[i] = claim.Exception{Source: "claims.csv", Row: int64(100 + i*500), ClaimID: id, LineNo: "1",
			MemberID: fmt.Sprintf("M%07d", i*3), Code: claim.InvalidValue, Field: "service_date",
			Message: `service_date "2024-02-30" is not a date (YYYY-MM-DD)`,
			Raw:     id + `,1,M0000003,2024-02-30,,,OP_GP,ICD10,"Z00.0, routine",99213,,GB,N,,PRV00001,provider,EUR,120.00,1`}
		if i%3 == 0 {
			ex[i].Code, ex[i].Field, ex[i].Message = claim.DuplicateLine, "", "duplicate of claims.csv row 12"
		}
	}
	return ex
}

const (
	benchBatch = 1024
	benchRows  = 64 << 10
)

// countingWriter counts the bytes written to it.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// cpuTime returns the process's user + system CPU time so far.
func cpuTime(b testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchmarkTable writes the rows in batches of benchBatch over and over with
// a writer made by open, closes it and reports the per-row figures.
func benchmarkTable[T any](b *testing.B, all []T, open func(io.Writer) (rowWriter[T], error), rows func() int64) {
	arrowmem.Install() // as a run does
	var out countingWriter
	w, err := open(&out)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	next := 0
	for b.Loop() {
		if err := w.Write(all[next : next+benchBatch]); err != nil {
			b.Fatal(err)
		}
		if next += benchBatch; next == len(all) {
			next = 0
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	cpu := cpuTime(b) - cpu0
	n := float64(rows())
	b.ReportMetric(n/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/row")
	b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/row")
	b.ReportMetric(float64(out.n)/n, "bytes/row")
}

// The benchmarks' formats: CSV, Parquet, and oldParquet, the Parquet
// encoder before the typed column writers (refparquet_test.go), for the
// comparison in docs/BENCHMARKS.md.
const oldParquet Format = -1

func benchmarkRemittance(b *testing.B, f Format) {
	var w *RemittanceWriter
	benchmarkTable(b, benchResults(benchRows), func(out io.Writer) (rowWriter[claim.Result], error) {
		var err error
		if f == oldParquet {
			w, err = NewRemittanceWriter(io.Discard, CSV, "run-20240601-01")
			if err == nil {
				err = useRefEncoder(w.t, out)
			}
			return w, err
		}
		w, err = NewRemittanceWriter(out, f, "run-20240601-01")
		return w, err
	}, func() int64 { return w.Rows() })
}

func benchmarkState(b *testing.B, f Format) {
	var w *StateWriter
	benchmarkTable(b, benchState(benchRows), func(out io.Writer) (rowWriter[claim.StateRecord], error) {
		var err error
		if f == oldParquet {
			w, err = NewStateWriter(io.Discard, CSV)
			if err == nil {
				err = useRefEncoder(w.t, out)
			}
			return w, err
		}
		w, err = NewStateWriter(out, f)
		return w, err
	}, func() int64 { return w.Rows() })
}

func benchmarkPayments(b *testing.B, f Format) {
	var w *PaymentsWriter
	benchmarkTable(b, benchPayments(benchRows), func(out io.Writer) (rowWriter[PaymentRow], error) {
		var err error
		if f == oldParquet {
			w, err = NewPaymentsWriter(io.Discard, CSV)
			if err == nil {
				err = useRefEncoder(w.t, out)
			}
			return w, err
		}
		w, err = NewPaymentsWriter(out, f)
		return w, err
	}, func() int64 { return w.Rows() })
}

func benchmarkExceptions(b *testing.B, f Format) {
	var w *ExceptionsWriter
	benchmarkTable(b, benchExceptions(benchRows), func(out io.Writer) (rowWriter[claim.Exception], error) {
		var err error
		if f == oldParquet {
			w, err = NewExceptionsWriter(io.Discard, CSV)
			if err == nil {
				err = useRefEncoder(w.t, out)
			}
			return w, err
		}
		w, err = NewExceptionsWriter(out, f)
		return w, err
	}, func() int64 { return w.Rows() })
}

// BenchmarkRemittanceCSV measures the hot path: allocs/op must stay 0.
func BenchmarkRemittanceCSV(b *testing.B) { benchmarkRemittance(b, CSV) }

// BenchmarkRemittanceParquet measures the Parquet path.
func BenchmarkRemittanceParquet(b *testing.B) { benchmarkRemittance(b, Parquet) }

func BenchmarkStateCSV(b *testing.B)          { benchmarkState(b, CSV) }
func BenchmarkStateParquet(b *testing.B)      { benchmarkState(b, Parquet) }
func BenchmarkPaymentsCSV(b *testing.B)       { benchmarkPayments(b, CSV) }
func BenchmarkPaymentsParquet(b *testing.B)   { benchmarkPayments(b, Parquet) }
func BenchmarkExceptionsCSV(b *testing.B)     { benchmarkExceptions(b, CSV) }
func BenchmarkExceptionsParquet(b *testing.B) { benchmarkExceptions(b, Parquet) }

// The old Parquet encoder on the same rows.
func BenchmarkRemittanceOldParquet(b *testing.B) { benchmarkRemittance(b, oldParquet) }
func BenchmarkStateOldParquet(b *testing.B)      { benchmarkState(b, oldParquet) }
func BenchmarkPaymentsOldParquet(b *testing.B)   { benchmarkPayments(b, oldParquet) }
func BenchmarkExceptionsOldParquet(b *testing.B) { benchmarkExceptions(b, oldParquet) }

func TestRemittanceCSVAllocs(t *testing.T) {
	results := benchResults(benchBatch)
	w, err := NewRemittanceWriter(io.Discard, CSV, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	w.Write(results) // grow the scratch buffers
	if allocs := testing.AllocsPerRun(10, func() { w.Write(results) }); allocs != 0 {
		t.Errorf("%v allocations per batch of %d rows, want 0", allocs, len(results))
	}
}

// TestParquetAllocs: the Parquet writers allocate per page and per row
// group (inside arrow-go's column writers), never per row.
func TestParquetAllocs(t *testing.T) {
	arrowmem.Install()
	results := benchResults(benchRows)
	w, err := NewRemittanceWriter(io.Discard, Parquet, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	next := 0
	batch := func() {
		if err := w.Write(results[next : next+benchBatch]); err != nil {
			t.Fatal(err)
		}
		if next += benchBatch; next == len(results) {
			next = 0
		}
	}
	for range 2 * rowGroupRows / benchBatch { // the first row groups size the buffers
		batch()
	}
	// Over four row groups, on average per batch of 1024 rows.
	allocs := testing.AllocsPerRun(4*rowGroupRows/benchBatch, batch)
	if allocs >= benchBatch/4 {
		t.Errorf("%v allocations per batch of %d rows: some are per row", allocs, benchBatch)
	}
	t.Logf("%v allocations per batch of %d rows", allocs, benchBatch)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
