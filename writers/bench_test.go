package writers

import (
	"fmt"
	"io"
	"testing"

	"claimsbatch/claim"
)

// benchResults returns n distinct, realistic results: unique claim ids, a
// spread of dates, amounts and statuses, a remark on some.
func benchResults(n int) []claim.Result {
	results := make([]claim.Result, n)
	lines := make([]claim.Line, n)
	benefits := []string{"OP_GP", "OP_SPEC", "IP_ROOM", "DENT_BASIC", "OP_PHYSIO"}
	for i := range results {
		billed := claim.Money(1000 + (i*7919)%500000)
		lines[i] = claim.Line{
			ClaimID: fmt.Sprintf("CLM%09d", i/3), LineNo: int32(i%3 + 1), MemberID: fmt.Sprintf("MEM%07d", i%100000),
			ServiceDate: claim.FromCivil(2024, 1+i%12, 1+i%28), BenefitCode: benefits[i%len(benefits)],
			Payee: claim.PayeeProvider, ProviderID: fmt.Sprintf("PRV%05d", i%5000),
			Currency: "USD", Billed: billed, FXRate: "0.9213", PlanCurrency: "EUR",
		}
		charge := billed.MulRatio(9213, 10000)
		ded := claim.Min(charge, 37500)
		coins := (charge - ded).Percent(2000)
		r := claim.Result{
			Line: &lines[i], PolicyID: fmt.Sprintf("POL%06d", i%100000), PolicyYearStart: claim.FromCivil(2024, 1, 1),
			Module: claim.Module(1 + i%3), Charge: charge, Deductible: ded, Coinsurance: coins,
			PlanPaid: charge - ded - coins, Status: claim.StatusPartial,
		}
		r.Adjustments[claim.PR1] = ded
		r.Adjustments[claim.PR2] = coins
		if i%10 == 0 {
			r.Remark = "deductible, then coinsurance"
		}
		results[i] = r
	}
	return results
}

const benchBatch = 1024

func benchmarkRemittance(b *testing.B, f Format) {
	results := benchResults(benchBatch)
	w, err := NewRemittanceWriter(io.Discard, f, "run-20240601-01")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := w.Write(results); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(w.Rows())/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(w.Rows()), "ns/row")
}

// BenchmarkRemittanceCSV measures the hot path: one op is a batch of 1024
// rows; allocs/op must stay 0.
func BenchmarkRemittanceCSV(b *testing.B) { benchmarkRemittance(b, CSV) }

// BenchmarkRemittanceParquet measures the Parquet path: one op is a batch of
// 1024 rows; a row group is written every 128 Ki rows.
func BenchmarkRemittanceParquet(b *testing.B) { benchmarkRemittance(b, Parquet) }

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
