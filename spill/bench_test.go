package spill

import (
	"testing"

	"claimsbatch/claim"
)

// benchLine is a line as the bench's generated claims have them.
var benchLine = claim.Line{ClaimID: "C000123456", LineNo: 2, MemberID: "M0000116", Source: 0, Row: 1234567,
	ServiceDate: 18611, ServiceEndDate: 18611, ReceivedDate: 18616, BenefitCode: "OP_OSTEOPATHY_CHIROPRACTIC", Benefit: 31,
	Diagnosis: "S72.001A", DiagnosisSystem: claim.ICD10, Condition: "S72", Country: "US", ProviderID: "P022586",
	Payee: claim.PayeeProvider, Currency: "USD", Billed: 7887, Units: 1, Charge: 7887, FXRate: "1", PlanCurrency: "USD"}

// BenchmarkLineEncode is the pricing workers' encoding of an accepted line.
func BenchmarkLineEncode(b *testing.B) {
	var buf []byte
	for b.Loop() {
		buf = AppendLineFields(buf[:0], &benchLine, 7)
	}
	b.ReportMetric(float64(len(buf)), "bytes/record")
}

// BenchmarkLineDecode is step 3's decoding of a member-partition record.
func BenchmarkLineDecode(b *testing.B) {
	rec := AppendLineFields(nil, &benchLine, 7)
	var d Decoder
	var l claim.Line
	for b.Loop() {
		d.Load(rec)
		d.LineHead(&l)
		d.LineTail(&l)
	}
	if d.Err() != nil || l != benchLine {
		b.Fatalf("decoded %+v, %v", l, d.Err())
	}
}
