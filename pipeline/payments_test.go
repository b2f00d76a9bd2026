package pipeline

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unsafe"

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

// TestProviderTable: rows are found again after the table grows, by id
// and currency, with ids inline and long, and sizes stay as designed.
func TestProviderTable(t *testing.T) {
	if got := unsafe.Sizeof(providerRow{}); got != 64 {
		t.Errorf("providerRow is %d bytes, want 64 (a cache line)", got)
	}
	tab := newProviderTable()
	id := func(i int) string {
		if i%7 == 0 {
			return fmt.Sprintf("long-provider-id-%040d", i) // past providerInline
		}
		return fmt.Sprintf("P%d", i)
	}
	const n = 5000
	for round := range 2 {
		for i := range n {
			for cur := range int32(2) {
				at := tab.find(providerHash(id(i), cur), cur, id(i), claim.PayeeProvider)
				if want := int32(2*i) + cur; at != want {
					t.Fatalf("round %d: find(%q, %d) = row %d, want %d", round, id(i), cur, at, want)
				}
				if got := tab.id(at); got != id(i) {
					t.Fatalf("row %d holds id %q, want %q", at, got, id(i))
				}
			}
		}
	}
	if len(tab.rows) != 2*n || 2*len(tab.rows) > len(tab.slots) {
		t.Errorf("%d rows in %d slots, want %d rows, at most half the slots", len(tab.rows), len(tab.slots), 2*n)
	}
	// Keys whose hashes collide (forced here) still get rows of their own.
	a := tab.find(42, 0, "A", claim.PayeeProvider)
	b := tab.find(42, 0, "B", claim.PayeeProvider)
	c := tab.find(42, 1, "A", claim.PayeeProvider)
	if a == b || a == c || b == c || tab.find(42, 0, "A", claim.PayeeProvider) != a || tab.find(42, 0, "B", claim.PayeeProvider) != b {
		t.Errorf("colliding keys: rows %d, %d, %d, found again as %d, %d", a, b, c, tab.find(42, 0, "A", claim.PayeeProvider), tab.find(42, 0, "B", claim.PayeeProvider))
	}
}

// TestCurrencyInterner: a code comes back as one shared copy of its text,
// three-letter codes (found by the interner's claim.CodeIndex, until it is
// full) and others alike, and as itself past maxInterned codes.
func TestCurrencyInterner(t *testing.T) {
	var ci currencyInterner
	var codes []string
	for i := range maxInterned {
		if i%2 == 0 {
			codes = append(codes, fmt.Sprintf("%c%c%c", 'A'+i%26, 'A'+i/26, 'Q'))
		} else {
			codes = append(codes, fmt.Sprintf("C%03d", i))
		}
	}
	for round := range 2 {
		for _, code := range codes {
			got := ci.of(strings.Clone(code))
			if got != code {
				t.Fatalf("of(%q) = %q", code, got)
			}
			if again := ci.of(strings.Clone(code)); unsafe.StringData(again) != unsafe.StringData(got) {
				t.Fatalf("round %d: %q came back as two copies", round, code)
			}
		}
	}
	past := strings.Clone("PAST")
	if got := ci.of(past); unsafe.StringData(got) != unsafe.StringData(past) {
		t.Errorf("a code past maxInterned was copied")
	}
	lines := []claim.Line{{Currency: strings.Clone("AAQ"), PlanCurrency: strings.Clone("C001")}}
	ci.intern([]memberLines{{lines: lines}})
	if unsafe.StringData(lines[0].Currency) != unsafe.StringData(ci.of("AAQ")) || unsafe.StringData(lines[0].PlanCurrency) != unsafe.StringData(ci.of("C001")) {
		t.Errorf("intern left a line's currencies pointing at their own text")
	}
}
