package job

import (
	"reflect"
	"testing"

	"claimsbatch/claim"
)

func fullLine() claim.Line {
	return claim.Line{ClaimID: "C1", LineNo: 2, MemberID: "M1", ServiceDate: 20001, ServiceEndDate: 20002, ReceivedDate: 20003,
		BenefitCode: "GP", Benefit: 7, Diagnosis: "J45.1", Condition: "J45", ItemCode: "99213", Country: "DE", Emergency: true,
		TripID: "T1", ProviderID: "P1", Payee: claim.PayeeProvider, Currency: "USD", Billed: 123_45, Units: 3,
		Charge: 111_11, FXRate: "0.9", PlanCurrency: "EUR", Source: 2, Row: 99}
}

func TestResultRowRoundTrip(t *testing.T) {
	line := fullLine()
	r := claim.Result{Line: &line, PolicyID: "POL1", PolicyYearStart: 19900, Module: claim.Outpatient, Charge: 111_11,
		Deductible: 10_00, Coinsurance: 20_00, NotCovered: 1_11, PlanPaid: 80_00, Status: claim.StatusPartial, Remark: "sub-limit"}
	r.Adjustments[claim.PR1] = 10_00
	r.Adjustments[claim.PR2] = 20_00
	r.Adjustments[claim.PR119] = 1_11
	codec := NewCodec[ResultRow]()
	b, err := codec.Encode(FromResult(&r))
	if err != nil {
		t.Fatal(err)
	}
	row, err := codec.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	back, err := row.Result()
	if err != nil {
		t.Fatal(err)
	}
	if *back.Line != line {
		t.Errorf("line after the round trip:\n%+v\nwant\n%+v", *back.Line, line)
	}
	back.Line, r.Line = nil, nil
	if !reflect.DeepEqual(back, r) {
		t.Errorf("result after the round trip:\n%+v\nwant\n%+v", back, r)
	}
	t.Logf("a full result row encodes in %d bytes", len(b))
}

// TestClaimTypesEncode: the claim types the pipeline will shuffle as they
// are survive Beam's coder unchanged.
func TestClaimTypesEncode(t *testing.T) {
	span := claim.Span{MemberID: "M1", PolicyID: "P", Start: 1, End: claim.OpenEnd, DateOfBirth: -5000, Residence: "DE", Origin: "FR",
		USCover: true, PlanCurrency: "EUR", Modules: claim.ModuleSet(0).With(claim.Core).With(claim.Dental),
		CoreDeductible: 500_00, CoreCoinsurance: 2000, CoreOOPMax: 3000_00, OutpatientDeduct: 100_00, OutpatientCoins: 1000, OutpatientOOPMax: 1_00, Row: 4}
	roundTrip(t, fullLine())
	roundTrip(t, span)
	roundTrip(t, claim.RawSpan{Span: span, CoreDeductibleGiven: -1, CoreCoinsGiven: 2000, Raw: "M1,P,...\r\n"})
	roundTrip(t, claim.Exception{Source: "a.csv", SourceNo: 1, Row: 7, ClaimID: "C", LineNo: "x", MemberID: "M",
		Code: claim.InvalidValue, Field: "line_no", Message: "not an integer", Raw: "C,x,\"q\"\n"})
	roundTrip(t, claim.StateRecord{Kind: "YEAR", MemberID: "M1", Scope: claim.NoDate, Key: "core", Amount: -5, Count: 1 << 40, Detail: "a b"})
}

func roundTrip[T any](t *testing.T, v T) {
	t.Helper()
	codec := NewCodec[T]()
	b, err := codec.Encode(v)
	if err != nil {
		t.Fatalf("%T: %v", v, err)
	}
	back, err := codec.Decode(b)
	if err != nil {
		t.Fatalf("%T: %v", v, err)
	}
	if !reflect.DeepEqual(back, v) {
		t.Errorf("%T after the round trip:\n%+v\nwant\n%+v", v, back, v)
	}
}
