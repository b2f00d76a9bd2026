package engine

import (
	"slices"
	"strings"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/plan"
)

func spans(ss ...claim.Span) []claim.Span { return ss }

func trip(id string) func(*claim.Line) {
	return func(l *claim.Line) { l.TripID = id }
}

func abroad(country string) func(*claim.Line) {
	return func(l *claim.Line) { l.Country = country; l.Emergency = true }
}

func until(date string) func(*claim.Line) {
	return func(l *claim.Line) { l.ServiceEndDate = d(date) }
}

func units(n int32) func(*claim.Line) { return func(l *claim.Line) { l.Units = n } }

func provider(p string) func(*claim.Line) {
	return func(l *claim.Line) { l.ProviderID = p; l.Payee = claim.PayeeProvider }
}

func sameClaim(id string, lineNo int32) func(*claim.Line) {
	return func(l *claim.Line) { l.ClaimID = id; l.LineNo = lineNo }
}

func diag(cat string) func(*claim.Line) {
	return func(l *claim.Line) { l.Diagnosis = cat + ".9"; l.Condition = cat }
}

func item(code string) func(*claim.Line) { return func(l *claim.Line) { l.ItemCode = code } }
func condition(c string) func(*claim.Line) {
	return func(l *claim.Line) { l.Diagnosis = "x"; l.Condition = c }
}
func procedure(code string) func(*claim.Line) { return func(l *claim.Line) { l.ProcedureCode = code } }

var (
	paid = func(amount string) want { return want{paid: amount, status: "PAID"} }
	// denied: the whole amount under one code.
	denied = func(amount, code string) want {
		return want{notCovered: amount, paid: "0.00", status: "DENIED", adjustments: code + ":" + amount}
	}
)

func TestRules(t *testing.T) {
	withDeductible := func(amount string) func(*claim.Span) {
		return func(s *claim.Span) { s.CoreDeductible = money(amount) }
	}
	tests := []struct {
		name  string
		spans []claim.Span
		lines []claim.Line
		want  []want
	}{
		// Step 1: eligibility.
		{"PR-26 day before first span", spans(baseSpan()),
			[]claim.Line{mkLine("HOSPITAL_ACCOMMODATION", "2023-12-31", "100"), mkLine("HOSPITAL_ACCOMMODATION", "2024-01-01", "100")},
			[]want{denied("100.00", "PR-26"), paid("100.00")}},
		{"PR-27 day after coverage end", spans(baseSpan(func(s *claim.Span) { s.End = d("2024-06-30") })),
			[]claim.Line{mkLine("HOSPITAL_ACCOMMODATION", "2024-06-30", "100"), mkLine("HOSPITAL_ACCOMMODATION", "2024-07-01", "100")},
			[]want{paid("100.00"), denied("100.00", "PR-27")}},
		{"PR-27 in a gap between spans", spans(
			baseSpan(func(s *claim.Span) { s.End = d("2024-06-30") }),
			baseSpan(func(s *claim.Span) { s.PolicyID = "P2"; s.Start = d("2024-08-01") })),
			[]claim.Line{mkLine("HOSPITAL_ACCOMMODATION", "2024-07-15", "100"), mkLine("HOSPITAL_ACCOMMODATION", "2024-08-01", "100")},
			[]want{denied("100.00", "PR-27"), paid("100.00")}},
		// Policy years: the deductible resets at the anniversary.
		{"deductible resets on the anniversary, not the day before", spans(baseSpan(withDeductible("375"))),
			[]claim.Line{mkLine("HOSPITAL_ACCOMMODATION", "2024-12-31", "1000"), mkLine("HOSPITAL_ACCOMMODATION", "2024-12-31", "500", provider("X")), mkLine("HOSPITAL_ACCOMMODATION", "2025-01-01", "1000")},
			[]want{{deductible: "375.00", paid: "625.00", status: "PAID", adjustments: "PR-1:375.00"}, paid("500.00"), {deductible: "375.00", paid: "625.00", status: "PAID", adjustments: "PR-1:375.00"}}},
		{"29 February start: anniversary on 28 February", spans(baseSpan(withDeductible("375"), func(s *claim.Span) { s.Start = d("2024-02-29") })),
			[]claim.Line{mkLine("HOSPITAL_ACCOMMODATION", "2024-03-01", "1000"), mkLine("HOSPITAL_ACCOMMODATION", "2025-02-27", "1000"), mkLine("HOSPITAL_ACCOMMODATION", "2025-02-28", "1000")},
			[]want{{deductible: "375.00", paid: "625.00", status: "PAID", adjustments: "PR-1:375.00"}, paid("1000.00"), {deductible: "375.00", paid: "625.00", status: "PAID", adjustments: "PR-1:375.00"}}},
		{"a renewal span starts a new policy year", spans(
			baseSpan(withDeductible("375"), func(s *claim.Span) { s.End = d("2024-06-30") }),
			baseSpan(withDeductible("375"), func(s *claim.Span) { s.PolicyID = "P2"; s.Start = d("2024-07-01") })),
			[]claim.Line{mkLine("HOSPITAL_ACCOMMODATION", "2024-06-30", "1000"), mkLine("HOSPITAL_ACCOMMODATION", "2024-07-01", "1000")},
			[]want{{deductible: "375.00", paid: "625.00", status: "PAID", adjustments: "PR-1:375.00"}, {deductible: "375.00", paid: "625.00", status: "PAID", adjustments: "PR-1:375.00"}}},
		// Step 2: modules.
		{"PR-204 dental without the dental module", spans(baseSpan(func(s *claim.Span) { s.Modules = claim.ModuleSet(0).With(claim.Core) })),
			[]claim.Line{mkLine("DENTAL_PREVENTIVE", "2024-06-01", "80"), mkLine("OP_CONSULTATION", "2024-06-01", "80")},
			[]want{denied("80.00", "PR-204"), denied("80.00", "PR-204")}},
		// Step 3: ages (born 1980-06-15 by default).
		{"PR-6 adult vaccine the day before the 18th birthday", spans(baseSpan(func(s *claim.Span) { s.DateOfBirth = d("2006-06-15") })),
			[]claim.Line{mkLine("OP_ADULT_VACCINES", "2024-06-14", "50"), mkLine("OP_ADULT_VACCINES", "2024-06-15", "50")},
			[]want{denied("50.00", "PR-6"), paid("50.00")}},
		{"PR-6 child eye test at 15 covered, at 16 not", spans(baseSpan(func(s *claim.Span) { s.DateOfBirth = d("2009-03-10") })),
			[]claim.Line{mkLine("OP_CHILD_EYE_HEARING", "2025-03-09", "90"), mkLine("OP_CHILD_EYE_HEARING", "2025-03-10", "90")},
			[]want{paid("90.00"), denied("90.00", "PR-6")}},
		{"PR-6 child wellness under 18 only", spans(baseSpan(func(s *claim.Span) { s.DateOfBirth = d("2006-06-15") })),
			[]claim.Line{mkLine("OP_CHILD_WELLNESS", "2024-06-14", "60"), mkLine("OP_CHILD_WELLNESS", "2024-06-15", "60")},
			[]want{paid("60.00"), denied("60.00", "PR-6")}},
		// Step 4: waiting periods.
		{"PR-179 dental preventive: day before 3 months, then the day", spans(baseSpan()),
			[]claim.Line{mkLine("DENTAL_PREVENTIVE", "2024-03-31", "100"), mkLine("DENTAL_PREVENTIVE", "2024-04-01", "100")},
			[]want{denied("100.00", "PR-179"), paid("100.00")}},
		{"PR-179 dental major 12 months", spans(baseSpan()),
			[]claim.Line{mkLine("DENTAL_MAJOR", "2024-12-31", "100"), mkLine("DENTAL_MAJOR", "2025-01-01", "100")},
			[]want{denied("100.00", "PR-179"), {coinsurance: "30.00", paid: "70.00", status: "PAID", adjustments: "PR-2:30.00"}}},
		{"waiting period end clamped to month end (30 Nov + 3 months = 29 Feb)", spans(baseSpan(func(s *claim.Span) { s.Start = d("2023-11-30") })),
			[]claim.Line{mkLine("DENTAL_PREVENTIVE", "2024-02-28", "100"), mkLine("DENTAL_PREVENTIVE", "2024-02-29", "100")},
			[]want{denied("100.00", "PR-179"), paid("100.00")}},
		{"waiting period counts from the continuous-cover start across a contiguous renewal", spans(
			baseSpan(func(s *claim.Span) { s.End = d("2024-02-29") }),
			baseSpan(func(s *claim.Span) { s.PolicyID = "P2"; s.Start = d("2024-03-01") })),
			[]claim.Line{mkLine("DENTAL_PREVENTIVE", "2024-04-01", "100")},
			[]want{paid("100.00")}},
		{"a one-day gap breaks continuous cover", spans(
			baseSpan(func(s *claim.Span) { s.End = d("2024-02-28") }),
			baseSpan(func(s *claim.Span) { s.PolicyID = "P2"; s.Start = d("2024-03-01") })),
			[]claim.Line{mkLine("DENTAL_PREVENTIVE", "2024-04-01", "100"), mkLine("DENTAL_PREVENTIVE", "2024-06-01", "100")},
			[]want{denied("100.00", "PR-179"), paid("100.00")}},
		// Step 5: coverage area.
		{"PR-96 out of area without emergency", spans(baseSpan()),
			[]claim.Line{mkLine("HOSPITAL_ACCOMMODATION", "2024-05-01", "300", func(l *claim.Line) { l.Country = "DE" })},
			[]want{denied("300.00", "PR-96")}},
		{"US: covered with us_cover, PR-96 without", spans(baseSpan()),
			[]claim.Line{mkLine("HOSPITAL_ACCOMMODATION", "2024-05-01", "300", func(l *claim.Line) { l.Country = "US" })},
			[]want{denied("300.00", "PR-96")}},
		{"US with the US option", spans(baseSpan(func(s *claim.Span) { s.USCover = true })),
			[]claim.Line{mkLine("HOSPITAL_ACCOMMODATION", "2024-05-01", "300", func(l *claim.Line) { l.Country = "US" })},
			[]want{paid("300.00")}},
		{"country of origin is in area", spans(baseSpan(func(s *claim.Span) { s.Origin = "PT" })),
			[]claim.Line{mkLine("HOSPITAL_ACCOMMODATION", "2024-05-01", "300", func(l *claim.Line) { l.Country = "PT" })},
			[]want{paid("300.00")}},
		{"out-of-area emergency limit 40,000 per year", spans(baseSpan()),
			[]claim.Line{mkLine("HOSPITAL_ACCOMMODATION", "2024-05-01", "30000", abroad("DE")), mkLine("HOSPITAL_ACCOMMODATION", "2024-05-02", "15000", abroad("DE")), mkLine("HOSPITAL_ACCOMMODATION", "2024-05-03", "100", abroad("DE"))},
			[]want{paid("30000.00"), {notCovered: "5000.00", paid: "10000.00", status: "PARTIAL", adjustments: "PR-119:5000.00"}, denied("100.00", "PR-119")}},
		// Out-of-area days.
		{"21st and 22nd day of a trip", spans(baseSpan()),
			[]claim.Line{mkLine("HOSPITAL_ACCOMMODATION", "2024-05-01", "2000", abroad("DE"), until("2024-05-20"), trip("T1")), mkLine("HOSPITAL_ACCOMMODATION", "2024-05-21", "200", abroad("DE"), until("2024-05-22"), trip("T1")), mkLine("HOSPITAL_ACCOMMODATION", "2024-05-23", "100", abroad("DE"), trip("T1"))},
			[]want{paid("2000.00"), {notCovered: "100.00", paid: "100.00", status: "PARTIAL", adjustments: "PR-119:100.00"}, denied("100.00", "PR-119")}},
		{"a counted date costs nothing again", spans(baseSpan()),
			[]claim.Line{mkLine("HOSPITAL_ACCOMMODATION", "2024-05-01", "2100", abroad("DE"), until("2024-05-21"), trip("T1")), mkLine("SURGEON_ANAESTHETIST", "2024-05-21", "500", abroad("DE"), trip("T1"))},
			[]want{paid("2100.00"), paid("500.00")}},
		{"45 out-of-area days per policy year across trips", spans(baseSpan()),
			[]claim.Line{mkLine("HOSPITAL_ACCOMMODATION", "2024-03-01", "2100", abroad("DE"), until("2024-03-21"), trip("A")), mkLine("HOSPITAL_ACCOMMODATION", "2024-06-01", "2100", abroad("DE"), until("2024-06-21"), trip("B")), mkLine("HOSPITAL_ACCOMMODATION", "2024-09-01", "500", abroad("DE"), until("2024-09-05"), trip("C"))},
			[]want{paid("2100.00"), paid("2100.00"), {notCovered: "200.00", paid: "300.00", status: "PARTIAL", adjustments: "PR-119:200.00"}}},
		{"trip inference: under 30 days apart is the same trip", spans(baseSpan()),
			[]claim.Line{mkLine("HOSPITAL_ACCOMMODATION", "2024-05-01", "2000", abroad("DE"), until("2024-05-20")), mkLine("HOSPITAL_ACCOMMODATION", "2024-06-18", "200", abroad("DE"), until("2024-06-19"))},
			[]want{paid("2000.00"), {notCovered: "100.00", paid: "100.00", status: "PARTIAL", adjustments: "PR-119:100.00"}}},
		{"trip inference: 30 days after starts a new trip", spans(baseSpan()),
			[]claim.Line{mkLine("HOSPITAL_ACCOMMODATION", "2024-05-01", "2000", abroad("DE"), until("2024-05-20")), mkLine("HOSPITAL_ACCOMMODATION", "2024-06-19", "200", abroad("DE"), until("2024-06-20"))},
			[]want{paid("2000.00"), paid("200.00")}},
		{"country of origin: 180 days per policy year", spans(baseSpan(func(s *claim.Span) { s.Origin = "PT" })),
			[]claim.Line{mkLine("HOSPITAL_ACCOMMODATION", "2024-01-01", "17000", until("2024-06-18"), func(l *claim.Line) { l.Country = "PT" }),
				mkLine("HOSPITAL_ACCOMMODATION", "2024-07-01", "1500", until("2024-07-15"), func(l *claim.Line) { l.Country = "PT" })},
			[]want{paid("17000.00"), {notCovered: "500.00", paid: "1000.00", status: "PARTIAL", adjustments: "PR-119:500.00"}}},
		// Step 6: duplicates.
		{"OA-18 same service under another claim", spans(baseSpan()),
			[]claim.Line{mkLine("OP_CONSULTATION", "2024-05-01", "80", provider("P9")), mkLine("OP_CONSULTATION", "2024-05-01", "80", provider("P9")), mkLine("OP_CONSULTATION", "2024-05-01", "80", provider("P8"))},
			[]want{paid("80.00"), denied("80.00", "OA-18"), paid("80.00")}},
		{"same claim, another line is not a duplicate service", spans(baseSpan()),
			[]claim.Line{mkLine("OP_CONSULTATION", "2024-05-01", "80", provider("P9"), sameClaim("CX", 1)), mkLine("OP_CONSULTATION", "2024-05-01", "80", provider("P9"), sameClaim("CX", 2))},
			[]want{paid("80.00"), paid("80.00")}},
		{"a denied line still makes later copies duplicates", spans(baseSpan(func(s *claim.Span) { s.End = d("2024-04-30") })),
			[]claim.Line{mkLine("OP_CONSULTATION", "2024-05-01", "80", provider("P9")), mkLine("OP_CONSULTATION", "2024-05-01", "80", provider("P9"))},
			[]want{denied("80.00", "PR-27"), denied("80.00", "PR-27")}},
		// Step 7: benefit and group day limits.
		{"30th and 31st day of rehabilitation", spans(baseSpan()),
			[]claim.Line{mkLine("REHABILITATION", "2024-02-01", "290", units(29)), mkLine("REHABILITATION", "2024-04-01", "20", units(2)), mkLine("REHABILITATION", "2024-05-01", "10")},
			[]want{paid("290.00"), {notCovered: "10.00", paid: "10.00", status: "PARTIAL", adjustments: "PR-119:10.00"}, denied("10.00", "PR-119")}},
		{"pandemic cash: 30th and 31st night", spans(baseSpan()),
			[]claim.Line{mkLine("PANDEMIC_CASH", "2024-02-01", "0", units(29)), mkLine("PANDEMIC_CASH", "2024-03-01", "999", units(2)), mkLine("PANDEMIC_CASH", "2024-04-01", "0")},
			[]want{paid("2900.00"), {notCovered: "100.00", paid: "100.00", status: "PARTIAL", adjustments: "PR-119:100.00"}, denied("100.00", "PR-119")}},
		{"mental health group: 60 days across inpatient and outpatient", spans(baseSpan()),
			[]claim.Line{mkLine("MENTAL_HEALTH_INPATIENT", "2024-02-01", "300", units(30)), mkLine("MENTAL_HEALTH_INPATIENT", "2024-03-01", "10"), mkLine("MENTAL_HEALTH_OUTPATIENT", "2024-04-01", "310", units(31))},
			[]want{paid("300.00"), denied("10.00", "PR-119"), {notCovered: "10.00", paid: "300.00", status: "PARTIAL", adjustments: "PR-119:10.00"}}},
		// Steps 8 and 10: amount limits.
		{"benefit limit reached exactly, then nothing left", spans(baseSpan()),
			[]claim.Line{mkLine("KIDNEY_DIALYSIS", "2024-02-01", "5000"), mkLine("KIDNEY_DIALYSIS", "2024-03-01", "1")},
			[]want{paid("5000.00"), denied("1.00", "PR-119")}},
		{"benefit limit partly left", spans(baseSpan()),
			[]claim.Line{mkLine("KIDNEY_DIALYSIS", "2024-02-01", "4000"), mkLine("KIDNEY_DIALYSIS", "2024-03-01", "2000")},
			[]want{paid("4000.00"), {notCovered: "1000.00", paid: "1000.00", status: "PARTIAL", adjustments: "PR-119:1000.00"}}},
		{"nothing left: no deductible taken", spans(baseSpan(withDeductible("375"))),
			[]claim.Line{mkLine("KIDNEY_DIALYSIS", "2024-02-01", "5375"), mkLine("KIDNEY_DIALYSIS", "2024-03-01", "100"), mkLine("HOSPITAL_ACCOMMODATION", "2024-03-01", "100")},
			[]want{{deductible: "375.00", paid: "5000.00", status: "PAID", adjustments: "PR-1:375.00"}, denied("100.00", "PR-119"), paid("100.00")}},
		{"consultation and telehealth share 650", spans(baseSpan()),
			[]claim.Line{mkLine("OP_CONSULTATION", "2024-02-01", "400"), mkLine("OP_TELEHEALTH", "2024-03-01", "400")},
			[]want{paid("400.00"), {notCovered: "150.00", paid: "250.00", status: "PARTIAL", adjustments: "PR-119:150.00"}}},
		{"screening: 225 per exam, 400 per group", spans(baseSpan()),
			[]claim.Line{mkLine("OP_SCREEN_BREAST", "2024-02-01", "300"), mkLine("OP_SCREEN_SKIN", "2024-03-01", "300"), mkLine("OP_BONE_DENSITY", "2024-04-01", "10")},
			[]want{{notCovered: "75.00", paid: "225.00", status: "PARTIAL", adjustments: "PR-119:75.00"}, {notCovered: "125.00", paid: "175.00", status: "PARTIAL", adjustments: "PR-119:125.00"}, denied("10.00", "PR-119")}},
		{"cancer device: 125 per item per lifetime (PR-35)", spans(baseSpan()),
			[]claim.Line{mkLine("CANCER_DEVICE", "2024-02-01", "100", item("WIG")), mkLine("CANCER_DEVICE", "2024-03-01", "100", item("WIG")), mkLine("CANCER_DEVICE", "2024-03-02", "100", item("BRA")), mkLine("CANCER_DEVICE", "2025-03-01", "100", item("WIG"))},
			[]want{paid("100.00"), {notCovered: "75.00", paid: "25.00", status: "PARTIAL", adjustments: "PR-35:75.00"}, paid("100.00"), denied("100.00", "PR-35")}},
		{"per-condition cap 250,000 per category", spans(baseSpan()),
			[]claim.Line{mkLine("CANCER_TREATMENT", "2024-02-01", "200000", diag("C50")), mkLine("CANCER_TREATMENT", "2024-03-01", "100000", diag("C50")), mkLine("CANCER_TREATMENT", "2024-04-01", "100000", diag("C34")), mkLine("CANCER_TREATMENT", "2024-05-01", "1", diag("C50"))},
			[]want{paid("200000.00"), {notCovered: "50000.00", paid: "50000.00", status: "PARTIAL", adjustments: "PR-119:50000.00"}, paid("100000.00"), denied("1.00", "PR-119")}},
		// The condition carries its system (SPEC version 2): the ICD-10
		// category V04 (a transport accident) and the ICD-9 V04 category
		// (V04.81, a vaccination) are different conditions; before, V0481
		// was read as ICD-10 and shared V04's cap.
		{"per-condition cap: the same category in two systems is two conditions", spans(baseSpan()),
			[]claim.Line{mkLine("CANCER_TREATMENT", "2024-02-01", "250000", condition("V04")), mkLine("CANCER_TREATMENT", "2024-03-01", "100", condition("ICD9:V04")),
				mkLine("CANCER_TREATMENT", "2024-04-01", "100", condition("V04"))},
			[]want{paid("250000.00"), paid("100.00"), denied("100.00", "PR-119")}},
		{"core annual maximum 500,000", spans(baseSpan()),
			[]claim.Line{mkLine("HOSPITAL_ACCOMMODATION", "2024-02-01", "490000"), mkLine("HOSPITAL_ACCOMMODATION", "2024-03-01", "20000"), mkLine("HOSPITAL_ACCOMMODATION", "2025-01-01", "20000")},
			[]want{paid("490000.00"), {notCovered: "10000.00", paid: "10000.00", status: "PARTIAL", adjustments: "PR-119:10000.00"}, paid("20000.00")}},
		{"outpatient annual maximum 5,000", spans(baseSpan()),
			[]claim.Line{mkLine("OP_DME_RENTAL", "2024-02-01", "1500"), mkLine("OP_PHYSIOTHERAPY", "2024-02-02", "1000"), mkLine("OP_PATHOLOGY_RADIOLOGY", "2024-02-03", "1000"), mkLine("OP_ACCIDENT_DENTAL", "2024-02-04", "500"), mkLine("OP_OSTEOPATHY_CHIROPRACTIC", "2024-02-05", "650"), mkLine("OP_ACUPUNCTURE_TCM", "2024-02-06", "650")},
			[]want{paid("1500.00"), paid("1000.00"), paid("1000.00"), paid("500.00"), paid("650.00"), {notCovered: "300.00", paid: "350.00", status: "PARTIAL", adjustments: "PR-119:300.00"}}},
		{"child eye and hearing: one line per policy year", spans(baseSpan(func(s *claim.Span) { s.DateOfBirth = d("2015-01-01") })),
			[]claim.Line{mkLine("OP_CHILD_EYE_HEARING", "2024-02-01", "90"), mkLine("OP_CHILD_EYE_HEARING", "2024-09-01", "90"), mkLine("OP_CHILD_EYE_HEARING", "2025-01-01", "90")},
			[]want{paid("90.00"), denied("90.00", "PR-119"), paid("90.00")}},
		// Step 9: cost share.
		{"deductible spread over lines, outpatient separate", spans(baseSpan(withDeductible("375"), func(s *claim.Span) { s.OutpatientDeduct = money("150") })),
			[]claim.Line{mkLine("HOSPITAL_ACCOMMODATION", "2024-02-01", "200"), mkLine("HOSPITAL_ACCOMMODATION", "2024-02-02", "300"), mkLine("OP_CONSULTATION", "2024-02-03", "100"), mkLine("OP_CONSULTATION", "2024-02-04", "100")},
			[]want{{deductible: "200.00", paid: "0.00", status: "MEMBER_PAID", adjustments: "PR-1:200.00"}, {deductible: "175.00", paid: "125.00", status: "PAID", adjustments: "PR-1:175.00"}, {deductible: "100.00", paid: "0.00", status: "MEMBER_PAID", adjustments: "PR-1:100.00"}, {deductible: "50.00", paid: "50.00", status: "PAID", adjustments: "PR-1:50.00"}}},
		{"coinsurance rounds half up and the OOP maximum carries over lines", spans(baseSpan(func(s *claim.Span) { s.CoreCoinsurance = 3000; s.CoreOOPMax = money("2000") })),
			[]claim.Line{mkLine("HOSPITAL_ACCOMMODATION", "2024-02-01", "0.05"), mkLine("HOSPITAL_ACCOMMODATION", "2024-02-02", "6000"), mkLine("HOSPITAL_ACCOMMODATION", "2024-02-03", "1000")},
			[]want{{coinsurance: "0.02", paid: "0.03", status: "PAID", adjustments: "PR-2:0.02"}, {coinsurance: "1800.00", paid: "4200.00", status: "PAID", adjustments: "PR-2:1800.00"}, {coinsurance: "199.98", paid: "800.02", status: "PAID", adjustments: "PR-2:199.98"}}},
		{"dental reimbursement rates and the dental maximum", spans(baseSpan(func(s *claim.Span) { s.Start = d("2023-01-01") })),
			[]claim.Line{mkLine("DENTAL_ROUTINE", "2024-02-01", "100"), mkLine("DENTAL_MAJOR", "2024-02-02", "900"), mkLine("DENTAL_PREVENTIVE", "2024-02-03", "100")},
			[]want{{coinsurance: "20.00", paid: "80.00", status: "PAID", adjustments: "PR-2:20.00"}, {coinsurance: "270.00", paid: "630.00", status: "PAID", adjustments: "PR-2:270.00"}, {notCovered: "60.00", paid: "40.00", status: "PARTIAL", adjustments: "PR-119:60.00"}}},
		{"zero charge is PAID", spans(baseSpan()),
			[]claim.Line{mkLine("HOSPITAL_ACCOMMODATION", "2024-02-01", "0")},
			[]want{paid("0.00")}},
		{"day fraction, cost share, then the benefit limit", spans(baseSpan(withDeductible("375"), func(s *claim.Span) { s.CoreCoinsurance = 1000 })),
			[]claim.Line{mkLine("REHABILITATION", "2024-02-01", "3100", units(31)), mkLine("REHABILITATION", "2024-06-01", "1000", units(1))},
			// 30/31 of 3,100 = 3,000 eligible; D 375, C 10% of 2,625 = 262.50, P0 2,362.50 cut to the 2,000 limit.
			[]want{{deductible: "375.00", coinsurance: "262.50", notCovered: "462.50", paid: "2000.00", status: "PARTIAL", adjustments: "PR-1:375.00 PR-2:262.50 PR-119:462.50"}, denied("1000.00", "PR-119")}},
		// SPEC version 2 widened the key: version 1 denied the BRA as OA-18.
		{"same date, benefit, amount and provider but another item is not a duplicate service", spans(baseSpan()),
			[]claim.Line{mkLine("CANCER_DEVICE", "2024-02-01", "100", item("WIG")), mkLine("CANCER_DEVICE", "2024-02-01", "100", item("BRA")),
				mkLine("CANCER_DEVICE", "2024-02-01", "100", item("WIG"))},
			[]want{paid("100.00"), paid("100.00"), denied("100.00", "OA-18")}},
		// The Synthea case: albuterol and budesonide dispensed the same day at
		// the same flat price were OA-18 before procedure_code joined the key.
		{"same date, benefit, amount and provider but another procedure is not a duplicate service", spans(baseSpan()),
			[]claim.Line{mkLine("OP_PRESCRIPTION_DRUGS", "2024-03-05", "40", provider("PH1"), procedure("745679")),
				mkLine("OP_PRESCRIPTION_DRUGS", "2024-03-05", "40", provider("PH1"), procedure("349094")),
				mkLine("OP_PRESCRIPTION_DRUGS", "2024-03-05", "40", provider("PH1"), procedure("745679")),
				mkLine("OP_PRESCRIPTION_DRUGS", "2024-03-05", "40", provider("PH1"))},
			[]want{paid("40.00"), paid("40.00"), denied("40.00", "OA-18"), paid("40.00")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := run(tc.spans, tc.lines...)
			if len(rs) != len(tc.want) {
				t.Fatalf("%d results, want %d", len(rs), len(tc.want))
			}
			for i := range rs {
				check(t, tc.lines[i].ServiceDate.String()+" "+tc.lines[i].BenefitCode, rs[i], tc.want[i])
			}
		})
	}
}

// TestTimelyFiling: the plan's filing limit (timely_filing_days, issue 14)
// denies PR-29 a line received too late; a run's late-before date (the
// state's key horizon) denies one served too long ago; the state output
// keeps only the line keys from KeysFrom on.
func TestTimelyFiling(t *testing.T) {
	p, err := plan.Parse("closecare+timely", append(plan.DefaultYAML(), "\ntimely_filing_days: 90\n"...))
	if err != nil {
		t.Fatal(err)
	}
	e := New(p)
	received := func(date string) func(*claim.Line) { return func(l *claim.Line) { l.ReceivedDate = d(date) } }
	lines := []claim.Line{
		mkLine("OP_CONSULTATION", "2024-01-10", "80", received("2024-04-09")),                         // 90 days: in time
		mkLine("OP_CONSULTATION", "2024-01-11", "80", received("2024-04-11")),                         // 91 days: late
		mkLine("HOSPITAL_ACCOMMODATION", "2024-02-01", "1000", received("2024-02-02")),                // in time
		mkLine("HOSPITAL_ACCOMMODATION", "2024-03-01", "1000", received("2024-03-02"), provider("X")), // in time
	}
	slices.SortFunc(lines, func(a, b claim.Line) int {
		if claim.Less(&a, &b) {
			return -1
		}
		return 1
	})
	in := &MemberRun{ID: "M", Spans: spans(baseSpan()), Lines: lines, KeepFrom: claim.NoDate,
		KeysFrom: d("2024-02-01"), LateBefore: d("2024-01-01")}
	m := e.NewMember()
	rs, state, err := e.AdjudicateMember(m, in, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "in time", rs[0], paid("80.00"))
	check(t, "late", rs[1], want{notCovered: "80.00", paid: "0.00", status: "DENIED", adjustments: "PR-29:80.00"})
	if rs[1].Remark != "the time limit for filing has expired" {
		t.Errorf("late line's remark %q", rs[1].Remark)
	}
	var keys []string
	for _, r := range state {
		if r.Kind == claim.KindLine {
			keys = append(keys, r.Scope.String())
		}
	}
	if want := []string{"2024-02-01", "2024-03-01"}; !slices.Equal(keys, want) {
		t.Errorf("LINE records served %v, want only those from KeysFrom on: %v", keys, want)
	}

	// A late-before date after a line's service date: the line is late.
	in = &MemberRun{ID: "M", Spans: spans(baseSpan()), Lines: lines[2:3], KeepFrom: claim.NoDate, KeysFrom: claim.NoDate, LateBefore: d("2024-02-02")}
	rs, _, err = e.AdjudicateMember(m, in, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "before the horizon", rs[0], want{notCovered: "1000.00", paid: "0.00", status: "DENIED", adjustments: "PR-29:1000.00"})
	if !strings.Contains(rs[0].Remark, "duplicate-check horizon") {
		t.Errorf("remark %q", rs[0].Remark)
	}
}
