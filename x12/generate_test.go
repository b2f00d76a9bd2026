package x12

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const remHeader = "run_id,claim_id,line_no,member_id,service_date,benefit_code,module,payee_type,payee_id,plan_currency,charge,plan_paid,status,adjustments,procedure_code\n"

func writeRemittance(t *testing.T, rows string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "remittance.csv")
	if err := os.WriteFile(p, []byte(remHeader+rows), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestGenerateReadsProcedureCodes: the optional procedure_code column picks
// SVC01; member lines are skipped; lines come out in claim and line order
// whatever the file's order.
func TestGenerateReadsProcedureCodes(t *testing.T) {
	path := writeRemittance(t, ""+
		"r1,C2,1,M1,2024-03-02,DENTAL_ROUTINE,dental,provider,PR-D,USD,100.00,80.00,PAID,PR-2:20.00,D1110\n"+
		"r1,C1,2,M1,2024-03-01,OP_CONSULTATION,outpatient,provider,PR-D,USD,50.00,50.00,PAID,,99213\n"+
		"r1,C1,1,M1,2024-03-01,OP_PATHOLOGY_RADIOLOGY,outpatient,provider,PR-D,USD,40.00,40.00,PAID,,80146002\n"+
		"r1,C3,1,M1,2024-03-03,OP_CONSULTATION,outpatient,member,M1,USD,60.00,60.00,PAID,,\n")
	files, data := generateToMemory(t, Options{Remittance: path, Date: mustDate(t, sampleAsOf)})
	if len(files) != 1 || files[0].Lines != 3 || files[0].Paid != 17000 {
		t.Fatalf("files %+v", files)
	}
	got := string(data[files[0].Name])
	want := "LX*1~\n" +
		"CLP*C1*1*90*90**15*C1~\nNM1*QC*1******MI*M1~\n" +
		"SVC*ER:80146002*40*40~\nDTM*472*20240301~\n" +
		"SVC*HC:99213*50*50~\nDTM*472*20240301~\n" +
		"CLP*C2*1*100*80*20*15*C2~\nNM1*QC*1******MI*M1~\n" +
		"SVC*AD:D1110*100*80~\nDTM*472*20240302~\nCAS*PR*2*20~\nSE*"
	if !strings.Contains(got, want) {
		t.Errorf("no\n%s\nin\n%s", want, got)
	}
}

func TestGenerateRejects(t *testing.T) {
	good := "r1,C1,1,M1,2024-03-01,OP_CONSULTATION,outpatient,provider,PR-D,USD,50.00,40.00,PAID,PR-1:10.00,\n"
	tests := []struct {
		name, rows string
		runID      string
		wantErr    error
		wantMsg    string
	}{
		{"unbalanced row", good + "r1,C1,2,M1,2024-03-01,OP_CONSULTATION,outpatient,provider,PR-D,USD,50.00,40.00,PAID,PR-1:9.00,\n", "",
			ErrUnbalanced, "x12: remittance does not balance: remittance.csv row 2: claim C1 line 2: charge 50.00 - plan_paid 40.00 = 10.00, but the adjustments add up to 9.00"},
		{"two run ids", good + strings.Replace(good, "r1,C1,1", "r2,C1,2", 1), "",
			ErrData, `x12: remittance line cannot be encoded: remittance.csv row 2: run_id "r2" differs from the run's "r1"`},
		{"run id given differs", good, "r9",
			ErrData, `x12: remittance line cannot be encoded: remittance.csv row 1: run_id "r1" differs from the run's "r9"`},
		{"bad adjustments", strings.Replace(good, "PR-1:10.00", "PR-1=10.00", 1), "",
			ErrData, `x12: remittance line cannot be encoded: remittance.csv row 1: adjustments: adjustment "PR-1=10.00" is not GROUP-REASON:amount`},
		{"bad amount", strings.Replace(good, ",50.00,", ",50.001,", 1), "",
			ErrData, `x12: remittance line cannot be encoded: remittance.csv row 1: charge: "50.001": claim: more than 2 decimals`},
		{"delimiter in a provider id", strings.Replace(good, "PR-D", "PR~D", 1), "",
			ErrData, `x12: remittance line cannot be encoded: remittance.csv row 1: payee_id "PR~D" contains '~', an X12 delimiter`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			created := 0
			_, err := Generate(context.Background(), Options{Remittance: writeRemittance(t, tc.rows), RunID: tc.runID, Date: mustDate(t, sampleAsOf),
				TmpDir: t.TempDir(), Create: func(string) (io.WriteCloser, error) { created++; return nopCloser{io.Discard}, nil }})
			if !errors.Is(err, tc.wantErr) || err.Error() != tc.wantMsg {
				t.Errorf("error = %v\nwant    %s", err, tc.wantMsg)
			}
			if created != 0 {
				t.Errorf("%d files created", created)
			}
		})
	}
}

// TestGenerateConfigProblemsAtOnce: payees paid by ACH without bank details
// are all listed, and no file is written for them.
func TestGenerateConfigProblemsAtOnce(t *testing.T) {
	path := writeRemittance(t, ""+
		"r1,C1,1,M1,2024-03-01,OP_CONSULTATION,outpatient,provider,PR-A,USD,50.00,50.00,PAID,,\n"+
		"r1,C2,1,M1,2024-03-01,OP_CONSULTATION,outpatient,provider,PR-B,USD,50.00,50.00,PAID,,\n"+
		"r1,C3,1,M1,2024-03-01,OP_CONSULTATION,outpatient,provider,PR-C,USD,50.00,0.00,DENIED,PR-204:50.00,\n")
	cfg := DefaultConfig()
	cfg.Payment.Method = "ACH"
	cfg.Payment.Bank = &Bank{DFIQualifier: "01", DFIID: "123456780", AccountQualifier: "DA", Account: "1"}
	_, err := Generate(context.Background(), Options{Remittance: path, Date: mustDate(t, sampleAsOf), Config: cfg, TmpDir: t.TempDir(),
		Create: func(string) (io.WriteCloser, error) { return nopCloser{io.Discard}, nil }})
	want := "x12: invalid configuration: payee PR-A is paid by ACH but payees.PR-A.bank is not configured\n" +
		"x12: invalid configuration: payee PR-B is paid by ACH but payees.PR-B.bank is not configured"
	if !errors.Is(err, ErrConfig) || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}
