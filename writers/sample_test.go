package writers

import (
	"claimsbatch/claim"
	"strconv"
)

// The sample rows of the tests: a few hand-built rows per table that reach
// the awkward cases (quoting, absent dates, negative and large amounts,
// invalid UTF-8), and the exact records expected in CSV.

func date(s string) claim.Date {
	d, err := claim.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func money(s string) claim.Money {
	m, err := claim.ParseMoney(s)
	if err != nil {
		panic(err)
	}
	return m
}

const sampleRunID = "run-20240601-01"

func sampleResults() []claim.Result {
	partial := claim.Adjustments{}
	partial[claim.PR1] = money("375.00")
	partial[claim.PR2] = money("165.00")
	partial[claim.PR119] = money("10.00")

	outside := claim.Adjustments{}
	outside[claim.PR27] = money("79.00")

	dental := claim.Adjustments{}
	dental[claim.PR2] = money("37.50")

	return []claim.Result{
		{
			Line: &claim.Line{
				ClaimID: "C1001", LineNo: 1, MemberID: "M001",
				ServiceDate: date("2024-03-05"), BenefitCode: "OP_GP", ProcedureCode: "99213",
				Payee: claim.PayeeProvider, ProviderID: "PRV9",
				Currency: "EUR", Billed: money("600.00"),
				Charge: money("600.00"), FXRate: "1", PlanCurrency: "EUR",
			},
			PolicyID: "P-01", PolicyYearStart: date("2024-01-01"), Module: claim.Outpatient,
			Charge: money("600.00"), Deductible: money("375.00"), Coinsurance: money("165.00"),
			NotCovered: money("10.00"), PlanPaid: money("50.00"), Status: claim.StatusPartial,
			Adjustments: partial,
			Remark:      "deductible, coinsurance and benefit maximum reached",
		},
		{
			Line: &claim.Line{
				ClaimID: "C1002", LineNo: 2, MemberID: "M002",
				ServiceDate: date("2023-12-31"), BenefitCode: "IP_ROOM",
				Payee:    claim.PayeeMember,
				Currency: "USD", Billed: money("100.00"),
				Charge: money("79.00"), FXRate: "0.79", PlanCurrency: "GBP",
			},
			PolicyID: "", PolicyYearStart: claim.NoDate, Module: claim.Core,
			Charge: money("79.00"), NotCovered: money("79.00"), Status: claim.StatusDenied,
			Adjustments: outside,
			Remark:      "no coverage on the service date",
		},
		{
			Line: &claim.Line{
				ClaimID: `C"1003`, LineNo: 10, MemberID: " M003",
				ServiceDate: date("2024-02-29"), BenefitCode: "DENT",
				Payee: claim.PayeeProvider, ProviderID: "PRV,7",
				Currency: "GBP", Billed: money("1234567.89"),
				Charge: money("1234567.89"), FXRate: "1", PlanCurrency: "GBP",
			},
			PolicyID: "P-03", PolicyYearStart: date("2023-06-01"), Module: claim.Dental,
			Charge: money("1234567.89"), Coinsurance: money("37.50"), PlanPaid: money("1234530.39"),
			Status: claim.StatusPartial, Adjustments: dental,
			Remark: "dental \"check-up\"\nsecond line",
		},
		{
			Line: &claim.Line{
				ClaimID: "C1004", LineNo: 1, MemberID: "M004",
				ServiceDate: date("2024-05-01"), BenefitCode: "OP_GP",
				Payee:    claim.PayeeMember,
				Currency: "EUR", Billed: money("0.05"),
				Charge: money("0.05"), FXRate: "1", PlanCurrency: "EUR",
			},
			PolicyID: "P-04", PolicyYearStart: date("2024-01-01"), Module: claim.Outpatient,
			Charge: money("0.05"), PlanPaid: money("0.05"), Status: claim.StatusPaid,
		},
	}
}

var remittanceRecords = [][]string{
	{"run_id", "claim_id", "line_no", "member_id", "policy_id", "policy_year_start", "service_date", "benefit_code", "module", "payee_type", "payee_id", "billed_currency", "billed_amount", "plan_currency", "fx_rate", "charge", "deductible", "coinsurance", "not_covered", "plan_paid", "member_responsibility", "status", "adjustments", "remark", "procedure_code"},
	{sampleRunID, "C1001", "1", "M001", "P-01", "2024-01-01", "2024-03-05", "OP_GP", "outpatient", "provider", "PRV9", "EUR", "600.00", "EUR", "1", "600.00", "375.00", "165.00", "10.00", "50.00", "550.00", "PARTIAL", "PR-1:375.00 PR-2:165.00 PR-119:10.00", "deductible, coinsurance and benefit maximum reached", "99213"},
	{sampleRunID, "C1002", "2", "M002", "", "", "2023-12-31", "IP_ROOM", "core", "member", "M002", "USD", "100.00", "GBP", "0.79", "79.00", "0.00", "0.00", "79.00", "0.00", "79.00", "DENIED", "PR-27:79.00", "no coverage on the service date", ""},
	{sampleRunID, `C"1003`, "10", " M003", "P-03", "2023-06-01", "2024-02-29", "DENT", "dental", "provider", "PRV,7", "GBP", "1234567.89", "GBP", "1", "1234567.89", "0.00", "37.50", "0.00", "1234530.39", "37.50", "PARTIAL", "PR-2:37.50", "dental \"check-up\"\nsecond line", ""},
	{sampleRunID, "C1004", "1", "M004", "P-04", "2024-01-01", "2024-05-01", "OP_GP", "outpatient", "member", "M004", "EUR", "0.05", "EUR", "1", "0.05", "0.00", "0.00", "0.00", "0.05", "0.00", "PAID", "", "", ""},
}

func samplePayments() []PaymentRow {
	return []PaymentRow{
		{PayeeType: claim.PayeeMember, PayeeID: "M004", PlanCurrency: "EUR", LineCount: 1, PlanPaid: money("0.05")},
		{PayeeType: claim.PayeeProvider, PayeeID: "PRV,7", PlanCurrency: "GBP", LineCount: 1, PlanPaid: money("1234530.39")},
		{PayeeType: claim.PayeeProvider, PayeeID: "PRV9", PlanCurrency: "EUR", LineCount: 3, PlanPaid: money("50.00")},
	}
}

var paymentsRecords = [][]string{
	{"payee_type", "payee_id", "plan_currency", "line_count", "plan_paid"},
	{"member", "M004", "EUR", "1", "0.05"},
	{"provider", "PRV,7", "GBP", "1", "1234530.39"},
	{"provider", "PRV9", "EUR", "3", "50.00"},
}

func sampleExceptions() []claim.Exception {
	return []claim.Exception{
		{Source: "claims.csv", Row: 7, ClaimID: "C2001", LineNo: "x1", MemberID: "M001",
			Code: claim.InvalidValue, Field: "line_no", Message: `line_no "x1" is not an integer`,
			Raw: `C2001,x1,M001,2024-03-05,,,OP_GP,"Z00.0, routine"`},
		{Source: "claims.csv", Row: 9, Code: claim.ParseError,
			Message: "invalid UTF-8", Raw: "C2002,1,M\xff01"},
		{Source: "members.csv", Row: 2, MemberID: "M009", Code: claim.MissingField, Field: "policy_id",
			Message: "policy_id is empty", Raw: "M009,,2024-01-01"},
	}
}

var exceptionsRecords = [][]string{
	{"source", "row", "claim_id", "line_no", "member_id", "code", "field", "message", "raw"},
	{"claims.csv", "7", "C2001", "x1", "M001", "INVALID_VALUE", "line_no", `line_no "x1" is not an integer`, `C2001,x1,M001,2024-03-05,,,OP_GP,"Z00.0, routine"`},
	{"claims.csv", "9", "", "", "", "PARSE_ERROR", "", "invalid UTF-8", "C2002,1,M\xff01"},
	{"members.csv", "2", "", "", "M009", "MISSING_FIELD", "policy_id", "policy_id is empty", "M009,,2024-01-01"},
}

func sampleState() []claim.StateRecord {
	return []claim.StateRecord{
		{Kind: "META", Key: "version", Count: 1, Scope: claim.NoDate, Detail: "claimsbatch state 1"},
		{Kind: "YEAR", MemberID: "M001", Scope: date("2024-01-01"), Key: "core.deductible", Amount: money("375.00"), Count: 2},
		{Kind: "LIMIT", MemberID: "M001", Scope: date("2024-01-01"), Key: "OP_GP", Amount: money("-0.05"), Count: 0},
		{Kind: "DATES", MemberID: "M002", Scope: claim.NoDate, Key: "IP_ROOM", Detail: "2023-12-30,2023-12-31"},
	}
}

var stateRecords = [][]string{
	{"kind", "member_id", "scope", "key", "amount", "count", "detail"},
	{"META", "", "", "version", "0.00", "1", "claimsbatch state 1"},
	{"YEAR", "M001", "2024-01-01", "core.deductible", "375.00", "2", ""},
	{"LIMIT", "M001", "2024-01-01", "OP_GP", "-0.05", "0", ""},
	{"DATES", "M002", "", "IP_ROOM", "0.00", "0", "2023-12-30,2023-12-31"},
	stateTrailer(),
}

// stateTrailer is the END row the state writer appends to sampleState.
func stateTrailer() []string {
	d := claim.NewStateDigest()
	for _, r := range sampleState() {
		d.Add(&r)
	}
	end := d.Trailer()
	return []string{end.Kind, "", "", end.Key, "0.00", strconv.FormatInt(end.Count, 10), end.Detail}
}
