package x12

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"claimsbatch/claim"
)

func mustDate(t testing.TB, s string) claim.Date {
	t.Helper()
	d, err := claim.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustAdj(t testing.TB, s string) []Adjustment {
	t.Helper()
	a, err := ParseAdjustments(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// line builds a balanced line: charge and paid in cents, adjustments as the
// remittance writes them.
func line(t testing.TB, claimID string, no int, member, benefit string, charge, paid claim.Money, status, adj string) Line {
	return Line{ClaimID: claimID, LineNo: no, MemberID: member, ServiceDate: mustDate(t, "2024-03-01"),
		BenefitCode: benefit, Status: status, Charge: charge, Paid: paid, Adjustments: mustAdj(t, adj)}
}

func TestAmount(t *testing.T) {
	for m, want := range map[claim.Money]string{
		37500: "375", 2010: "20.1", 2009: "20.09", 0: "0", -550: "-5.5", 146250: "1462.5", 1: "0.01", 100000000: "1000000",
	} {
		if got := amount(m); got != want {
			t.Errorf("amount(%d) = %q, want %q", m, got, want)
		}
	}
}

func TestParseAdjustments(t *testing.T) {
	got, err := ParseAdjustments("PR-1:375.00 PR-2:165.00  OA-18:90.00")
	if err != nil {
		t.Fatal(err)
	}
	want := []Adjustment{{"PR", "1", 37500}, {"PR", "2", 16500}, {"OA", "18", 9000}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got, err := ParseAdjustments(""); err != nil || len(got) != 0 {
		t.Errorf("empty: %v %v", got, err)
	}
	for in, msg := range map[string]string{
		"PR1:375.00":     `adjustment "PR1:375.00" is not GROUP-REASON:amount`,
		"PR-1":           `adjustment "PR-1" is not GROUP-REASON:amount`,
		"XX-1:1.00":      `adjustment "XX-1:1.00": group "XX" is not CO, OA, PI or PR`,
		"PR-1190A2:1.00": `adjustment "PR-1190A2:1.00": reason "1190A2" is not a CARC code`,
		"PR-1:1.005":     `adjustment "PR-1:1.005": amount: claim: more than 2 decimals`,
		"PR-*:1.00":      `adjustment "PR-*:1.00": reason "*" is not a CARC code`,
	} {
		if _, err := ParseAdjustments(in); err == nil || err.Error() != msg {
			t.Errorf("ParseAdjustments(%q) error = %v, want %s", in, err, msg)
		}
	}
}

func TestServiceCode(t *testing.T) {
	tests := []struct {
		procedure, module, wantQual, wantCode string
	}{
		{"", "core", "ER", "HOSPITAL_ACCOMMODATION"},
		{"99213", "outpatient", "HC", "99213"}, // CPT
		{"0001F", "outpatient", "HC", "0001F"}, // CPT category II
		{"0042T", "core", "HC", "0042T"},       // CPT category III
		{"J1100", "outpatient", "HC", "J1100"}, // HCPCS level II
		{"D1110", "dental", "AD", "D1110"},     // CDT on a dental line
		{"D1110", "outpatient", "HC", "D1110"}, // a HCPCS D-code elsewhere
		{"80146002", "core", "ER", "80146002"}, // SNOMED: local qualifier
		{"9921", "core", "ER", "9921"},         // too short
		{"W1234", "core", "ER", "W1234"},       // no HCPCS level II W codes
		{"99213-25", "core", "ER", "99213-25"}, // modifiers are not parsed
		{"j1100", "outpatient", "ER", "j1100"}, // case is not guessed
	}
	for _, tc := range tests {
		l := &Line{BenefitCode: "HOSPITAL_ACCOMMODATION", ProcedureCode: tc.procedure, Module: tc.module}
		q, c := serviceCode(l, "ER")
		if q != tc.wantQual || c != tc.wantCode {
			t.Errorf("serviceCode(%q, %s) = %s:%s, want %s:%s", tc.procedure, tc.module, q, c, tc.wantQual, tc.wantCode)
		}
	}
}

// TestEncodeExact pins every byte of a small interchange (base835): two
// claims, the first with a procedure code and more than 6 PR reasons on a
// line (two CAS segments), the second denied as a duplicate, in EUR (CUR).
func TestEncodeExact(t *testing.T) {
	r := &Remittance{RunID: "run-test", Date: mustDate(t, "2025-05-02"), PayeeID: "PR-GP22", Currency: "EUR", Lines: []Line{
		line(t, "C1", 1, "M1", "OP_CONSULTATION", 21046, 8037, "PAID", "PR-1:110.00 PR-2:20.09"),
		line(t, "C1", 2, "M1", "OP_TELEHEALTH", 60000, 41963, "PARTIAL", "PR-2:120.00 PR-119:60.37"),
		line(t, "C1", 3, "M1", "OP_TELEHEALTH", 800, 100, "PARTIAL", "PR-1:1.00 PR-2:1.00 PR-6:1.00 PR-26:1.00 PR-27:1.00 PR-35:1.00 PR-119:1.00"),
		line(t, "C2", 1, "M2", "OP_TELEHEALTH", 5191, 0, "DENIED", "OA-18:51.91"),
	}}
	r.Lines[0].ProcedureCode = "99213"
	got, st, err := Encode(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	want := base835 // check_test.go: the interchange below, read by the checker tests
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	wantStats := Stats{Segments: 35, Claims: 2, Lines: 4, Charge: 87037, Paid: 50100, PatientResponsibility: 31746,
		InterchangeControl: "447173349", TraceNumber: "247590162484561"}
	if *st != wantStats {
		t.Errorf("stats %+v, want %+v", *st, wantStats)
	}
	// The same input gives the same bytes.
	again, _, _ := Encode(nil, r)
	if !bytes.Equal(again, got) {
		t.Error("a second Encode gave other bytes")
	}
}

func TestEncodeBPR(t *testing.T) {
	cfg, err := LoadConfig("testdata/config/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, payee string
		lines       []Line
		wantBPR     string
	}{
		{"zero payment: notification only, no money moves", "PR-HOSP1",
			[]Line{line(t, "C1", 1, "M1", "HOSPITAL_ACCOMMODATION", 50000, 0, "DENIED", "PR-26:500.00")},
			"BPR*H*0*C*NON************20250502~"},
		{"ACH: both accounts and the payer id", "PR-HOSP1",
			[]Line{line(t, "C1", 1, "M1", "HOSPITAL_ACCOMMODATION", 120000, 82500, "PAID", "PR-1:375.00")},
			"BPR*I*825*C*ACH*CCP*01*123456780*DA*000111222*1987654321**01*011000015*DA*987654*20250502~"},
		{"check", "PR-KLIN3",
			[]Line{line(t, "C1", 1, "M1", "HOSPITAL_ACCOMMODATION", 120000, 82500, "PAID", "PR-1:375.00")},
			"BPR*I*825*C*CHK************20250502~"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Remittance{RunID: "r", Date: mustDate(t, "2025-05-02"), PayeeID: tc.payee, Currency: "USD", Lines: tc.lines}
			got, _, err := Encode(cfg, r)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(got), "\n"+tc.wantBPR+"\n") {
				t.Errorf("no %s in\n%s", tc.wantBPR, got)
			}
		})
	}
}

// TestEncodeConfiguredPayee: the payee loop and envelope of a configured
// payee, with NPI and TIN, address, a common receiver.
func TestEncodeConfiguredPayee(t *testing.T) {
	cfg, err := LoadConfig("testdata/config/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := &Remittance{RunID: "r", Date: mustDate(t, "2025-05-02"), PayeeID: "PR-HOSP1", Currency: "USD",
		Lines: []Line{line(t, "C1", 1, "M1", "HOSPITAL_ACCOMMODATION", 120000, 82500, "PAID", "PR-1:375.00")}}
	got, _, err := Encode(cfg, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"*ZZ*CLOSECARE      *ZZ*CLEARHOUSE01   *250502*0000*^*00501*",
		"*0*P*:~\nGS*HP*CLOSECARE*CLEARHOUSE01*20250502*0000*",
		"TRN*1*",
		"*1987654321~\nDTM*405*20250502~\nN1*PR*CLOSE CARE INTERNATIONAL~\nN3*1 EXAMPLE PLAZA~\nN4*WILMINGTON*DE*19801~\nREF*2U*CLOSECARE~\nPER*BL*EDI SUPPORT*TE*8005550100*EM*edi@example.com~\n",
		"N1*PE*GENERAL HOSPITAL*XX*1234567893~\nN3*500 MAIN STREET~\nN4*NEW YORK*NY*10001~\nREF*TJ*111222333~\nREF*PQ*PR-HOSP1~\nLX*1~\n",
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("no %q in\n%s", want, got)
		}
	}
	r.PayeeID = "PR-KLIN3"
	got, _, err = Encode(cfg, r)
	if err != nil {
		t.Fatal(err)
	}
	if want := "N1*PE*KLINIKUM DREI*FI*444555666~\nN3*HAUPTSTRASSE 3~\nN4*BERLIN**10115*DE~\nREF*PQ*PR-KLIN3~\n"; !strings.Contains(string(got), want) {
		t.Errorf("no %q in\n%s", want, got)
	}
}

func TestEncodeErrors(t *testing.T) {
	ok := func() []Line {
		return []Line{line(t, "C1", 1, "M1", "HOSPITAL_ACCOMMODATION", 120000, 82500, "PAID", "PR-1:375.00")}
	}
	tests := []struct {
		name    string
		edit    func(r *Remittance, cfg *Config)
		wantErr error
		wantMsg string
	}{
		{"unbalanced line", func(r *Remittance, _ *Config) { r.Lines[0].Paid = 82000 }, ErrUnbalanced,
			"x12: remittance does not balance: remittance.csv row 7: claim C1 line 1: charge 1200.00 - plan_paid 820.00 = 380.00, but the adjustments add up to 375.00"},
		{"delimiter in a claim id", func(r *Remittance, _ *Config) { r.Lines[0].ClaimID = "C~1" }, ErrData,
			`x12: remittance line cannot be encoded: remittance.csv row 7: claim C~1 line 1: claim_id "C~1" contains '~', an X12 delimiter`},
		{"claim id too long", func(r *Remittance, _ *Config) { r.Lines[0].ClaimID = strings.Repeat("C", 39) }, ErrData,
			"x12: remittance line cannot be encoded: remittance.csv row 7: claim " + strings.Repeat("C", 39) + " line 1: claim_id \"" + strings.Repeat("C", 39) + "\" is longer than 38 characters, the most its X12 element holds"},
		{"non-ASCII member id", func(r *Remittance, _ *Config) { r.Lines[0].MemberID = "MÜ1" }, ErrData,
			`x12: remittance line cannot be encoded: remittance.csv row 7: claim C1 line 1: member_id "MÜ1" contains a character X12 cannot carry (printable ASCII only)`},
		{"lines out of order", func(r *Remittance, _ *Config) { r.Lines = append(ok(), ok()...) }, ErrData,
			"x12: remittance line cannot be encoded: remittance.csv row 7: claim C1 line 1: lines are not in (claim_id, member_id, line_no) order after remittance.csv row 7: claim C1 line 1"},
		{"ACH payee without bank", func(r *Remittance, cfg *Config) {
			cfg.Payment.Method = "ACH"
			cfg.Payment.Bank = &Bank{DFIID: "123", Account: "1"}
		}, ErrConfig,
			"x12: invalid configuration: payee PR-1 is paid by ACH but payees.PR-1.bank is not configured"},
		{"bad status", func(r *Remittance, _ *Config) { r.Lines[0].Status = "OK" }, ErrData,
			`x12: remittance line cannot be encoded: remittance.csv row 7: claim C1 line 1: status "OK" is not PAID, PARTIAL, DENIED or MEMBER_PAID`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Remittance{RunID: "r", Date: mustDate(t, "2025-05-02"), PayeeID: "PR-1", Currency: "USD", Lines: ok()}
			cfg := DefaultConfig()
			tc.edit(r, cfg)
			for i := range r.Lines {
				r.Lines[i].Source = "remittance.csv row 7"
			}
			got, _, err := Encode(cfg, r)
			if !errors.Is(err, tc.wantErr) || err.Error() != tc.wantMsg {
				t.Fatalf("error = %v\nwant    %s", err, tc.wantMsg)
			}
			if got != nil {
				t.Error("bytes returned with an error")
			}
		})
	}
}

// TestEncodeSplitsLongClaims: loop 2110 repeats at most 999 times, so a
// claim of 1000 lines becomes two CLP loops that each balance.
func TestEncodeSplitsLongClaims(t *testing.T) {
	r := &Remittance{RunID: "r", Date: mustDate(t, "2025-05-02"), PayeeID: "PR-1", Currency: "USD"}
	for i := 1; i <= 1000; i++ {
		r.Lines = append(r.Lines, line(t, "BIG", i, "M1", "PHYSIOTHERAPY", 1000, 800, "PAID", "PR-2:2.00"))
	}
	got, st, err := Encode(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	if st.Claims != 2 || st.Lines != 1000 || st.Paid != 800000 {
		t.Errorf("stats %+v", st)
	}
	if n := strings.Count(string(got), "\nCLP*BIG*1*9990*7992*1998*15*BIG~"); n != 1 {
		t.Errorf("%d CLP loops of 999 lines", n)
	}
	if n := strings.Count(string(got), "\nCLP*BIG*1*10*8*2*15*BIG~"); n != 1 {
		t.Errorf("%d CLP loops of 1 line", n)
	}
}

// TestEncodePLB: provider-level adjustments lower BPR02 and balance.
func TestEncodePLB(t *testing.T) {
	r := &Remittance{RunID: "r", Date: mustDate(t, "2025-05-02"), PayeeID: "PR-1", Currency: "USD",
		Lines:               []Line{line(t, "C1", 1, "M1", "HOSPITAL_ACCOMMODATION", 120000, 82500, "PAID", "PR-1:375.00")},
		ProviderAdjustments: []ProviderAdjustment{{Reason: "WO", Reference: "C0999", Amount: 2500}, {Reason: "L6", Amount: -100}}}
	got, st, err := Encode(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	if st.Paid != 80100 {
		t.Errorf("paid %s, want 801.00", st.Paid)
	}
	for _, want := range []string{"\nBPR*I*801*C*CHK************20250502~\n", "\nPLB*PR-1*20251231*WO:C0999*25*L6*-1~\n"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("no %q in\n%s", want, got)
		}
	}
	r.ProviderAdjustments = []ProviderAdjustment{{Reason: "WO", Amount: 90000}}
	if _, _, err := Encode(nil, r); !errors.Is(err, ErrUnbalanced) || !strings.Contains(err.Error(), "the payment would be -75.00, below zero") {
		t.Errorf("error = %v", err)
	}
}

func TestFileName(t *testing.T) {
	tests := map[[2]string]string{
		{"PR-HOSP1", "USD"}:              "PR-HOSP1_USD_cda93960.835",
		{"pr-hosp1", "USD"}:              "pr-hosp1_USD_5d0888ed.835",
		{"../../etc/passwd", "EUR"}:      "______etc_passwd_EUR_3fd6ba0a.835",
		{".hidden", "GBP"}:               "_hidden_GBP_9f37d859.835",
		{"a/b", "USD"}:                   "a_b_USD_85704d93.835",
		{"a_b", "USD"}:                   "a_b_USD_3d674588.835",
		{strings.Repeat("x", 60), "USD"}: strings.Repeat("x", 40) + "_USD_165aec16.835",
	}
	for in, want := range tests {
		if got := FileName(in[0], in[1]); got != want {
			t.Errorf("FileName(%q, %s) = %s, want %s", in[0], in[1], got, want)
		}
	}
}

func TestPayeeInterchangeID(t *testing.T) {
	if got := payeeInterchangeID("PR-HOSP1", PayeeInfo{}); got != "PR-HOSP1" {
		t.Errorf("short id: %s", got)
	}
	if got := payeeInterchangeID("PR-HOSP1", PayeeInfo{InterchangeID: "HOSP1EDI"}); got != "HOSP1EDI" {
		t.Errorf("configured id: %s", got)
	}
	if got := payeeInterchangeID("PROVIDER-WITH-A-LONG-ID", PayeeInfo{}); len(got) != 15 || got[0] != 'P' {
		t.Errorf("long id: %s", got)
	}
}

// TestEncodeWithoutLineBreaks: line_breaks false writes the segments back to
// back, the same bytes otherwise.
func TestEncodeWithoutLineBreaks(t *testing.T) {
	r := &Remittance{RunID: "r", Date: mustDate(t, "2025-05-02"), PayeeID: "PR-1", Currency: "USD",
		Lines: []Line{line(t, "C1", 1, "M1", "HOSPITAL_ACCOMMODATION", 120000, 82500, "PAID", "PR-1:375.00")}}
	with, _, err := Encode(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	no := false
	cfg.LineBreaks = &no
	without, _, err := Encode(cfg, r)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsRune(without, '\n') || !bytes.Equal(without, bytes.ReplaceAll(with, []byte("~\n"), []byte("~"))) {
		t.Errorf("without line breaks:\n%s", without)
	}
}
