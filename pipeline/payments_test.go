package pipeline

import (
	"reflect"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/writers"
)

// TestPaymentsProviders: the payments tally sums each provider's lines per
// plan currency, added in several calls, ids short and long, and ids that
// differ only by a trailing byte stay apart.
func TestPaymentsProviders(t *testing.T) {
	line := func(id, cur string) *claim.Line {
		return &claim.Line{Payee: claim.PayeeProvider, ProviderID: id, PlanCurrency: cur}
	}
	long := "0b5e3c1a-7f2d-4c1e-9a3b-2d4e6f8a0b1c" // a Synthea provider id
	results := []claim.Result{
		{Line: line("P1", "USD"), PlanPaid: 1000},
		{Line: line("P1", "USD"), PlanPaid: 500},
		{Line: line("P1", "EUR"), PlanPaid: 100},
		{Line: line(long, "USD"), PlanPaid: 200},
		{Line: line(long, "USD"), PlanPaid: 200},
		{Line: line("ABCDEFGHIJKLMNO", "USD"), PlanPaid: 1},
		{Line: line("ABCDEFGHIJKLMNOP", "USD"), PlanPaid: 2},
		{Line: line("P1\x00", "USD"), PlanPaid: 7},
		{Line: line("P1", "USD"), PlanPaid: 3},
	}
	p := newPayments(nil)
	p.addLines(results[:4])
	p.addLines(results[4:])
	want := []writers.PaymentRow{
		{PayeeType: claim.PayeeProvider, PayeeID: long, PlanCurrency: "USD", LineCount: 2, PlanPaid: 400},
		{PayeeType: claim.PayeeProvider, PayeeID: "ABCDEFGHIJKLMNO", PlanCurrency: "USD", LineCount: 1, PlanPaid: 1},
		{PayeeType: claim.PayeeProvider, PayeeID: "ABCDEFGHIJKLMNOP", PlanCurrency: "USD", LineCount: 1, PlanPaid: 2},
		{PayeeType: claim.PayeeProvider, PayeeID: "P1", PlanCurrency: "EUR", LineCount: 1, PlanPaid: 100},
		{PayeeType: claim.PayeeProvider, PayeeID: "P1", PlanCurrency: "USD", LineCount: 3, PlanPaid: 1503},
		{PayeeType: claim.PayeeProvider, PayeeID: "P1\x00", PlanCurrency: "USD", LineCount: 1, PlanPaid: 7},
	}
	if got := p.table(); !reflect.DeepEqual(got, want) {
		t.Errorf("payments\n got %+v\nwant %+v", got, want)
	}
}
