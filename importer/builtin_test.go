package importer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The built-in profiles on exports unlike the shared samples: other
// versions, other column orders and cases, extra columns, missing optional
// files.

func importBuiltin(t *testing.T, name string, files map[string]string, set ...Setting) *result {
	t.Helper()
	in, out := filepath.Join(t.TempDir(), "in"), filepath.Join(t.TempDir(), "out")
	os.MkdirAll(in, 0o755)
	for f, content := range files {
		if err := os.WriteFile(filepath.Join(in, f), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Import(context.Background(), p, Options{In: in, Out: out, Set: set, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return &result{dir: out, manifest: m}
}

const syntheaTransactions = "ID,CLAIMID,CHARGEID,PATIENTID,TYPE,AMOUNT,FROMDATE,TODATE,PROCEDURECODE,PROVIDERID,APPOINTMENTID\n" +
	"T1,C1,1,P1,CHARGE,136.80,2019-03-01T10:00:00Z,2019-03-01T10:15:00Z,410620009,DR1,E1\n" +
	"T2,C1,2,P1,CHARGE,140.52,2019-03-01T10:00:00Z,1970-01-01T00:00:00Z,140,DR1,E1\n" +
	"T3,C1,3,P1,PAYMENT,,2019-03-01T10:00:00Z,2019-03-01T10:15:00Z,410620009,DR1,E1\n" +
	"T4,C2,4,P1,CHARGE,12.5,2019-03-01T10:00:00Z,2019-03-15T10:00:00Z,308192,DR1,E1\n" +
	"T5,C3,5,P2,CHARGE,2000,2020-05-01T08:00:00Z,2020-05-04T09:00:00Z,1234,DR2,E2\n" +
	"T6,C3,6,P2,CHARGE,300,2020-05-01T08:00:00Z,2020-05-01T09:00:00Z,399208008,DR2,E2\n"

// A Synthea 3.0 export: payer_transitions in whole years (START_YEAR,
// END_YEAR, both covered), lower-case headers in another order, extra
// columns, no payers.csv.
func TestSyntheaYearsExport(t *testing.T) {
	r := importBuiltin(t, "synthea", map[string]string{
		"patients.csv":          "birthdate,id,first\n2010-06-01,P1,Ann\n1950-01-01,P2,Bob\n",
		"payer_transitions.csv": "patient,memberid,start_year,end_year,payer,ownership\nP1,M1,2015,2019,X,Self\nP1,M2,2020,2020,Y,Guardian\nP2,,2018,2021,X,Self\n",
		"encounters.csv": "Id,START,STOP,PATIENT,ENCOUNTERCLASS,CODE,EXTRA\n" +
			"E1,2019-03-01T10:00:00Z,2019-03-01T10:15:00Z,P1,wellness,410620009,x\n" +
			"E2,2020-05-01T08:00:00Z,2020-05-04T09:00:00Z,P2,inpatient,1234,x\n",
		"claims.csv":              "Id,PATIENTID,APPOINTMENTID,DIAGNOSIS1\nC1,P1,E1,\nC2,P1,E1,444814009\nC3,P2,E2,\n",
		"claims_transactions.csv": syntheaTransactions,
	})
	equalLines(t, "members", r.table(t, "members.csv", "member_id", "policy_id", "coverage_start", "coverage_end", "date_of_birth"), []string{
		"P1|M1|2015-01-01|2019-12-31|2010-06-01",
		"P1|M2|2020-01-01|2020-12-31|2010-06-01",
		"P2|P2-2018|2018-01-01|2021-12-31|1950-01-01",
	})
	equalLines(t, "claims", r.table(t, "claims.csv", "claim_id", "line_no", "service_date", "service_end_date", "benefit_code", "procedure_code", "diagnosis_code", "diagnosis_system", "emergency", "billed_amount", "units"), []string{
		"C1|1|2019-03-01||OP_CHILD_WELLNESS|410620009||||136.80|",
		"C1|2|2019-03-01||OP_CHILD_VACCINES|140||||140.52|",
		"C2|1|2019-03-01||OP_PRESCRIPTION_DRUGS|308192|444814009|SNOMED||12.50|",
		"C3|1|2020-05-01|2020-05-04|HOSPITAL_ACCOMMODATION|1234||||2000.00|3",
		"C3|2|2020-05-01||PATHOLOGY_RADIOLOGY|399208008||||300.00|",
	})
	if got := strings.Join(r.manifest.Absent, ","); got != "payers" {
		t.Errorf("absent %q, want payers", got)
	}
}

// Without claims.csv and encounters.csv the lines still import: no
// diagnosis, no encounter class (every line an outpatient consultation,
// except codes the code table knows).
func TestSyntheaWithoutOptionalFiles(t *testing.T) {
	r := importBuiltin(t, "synthea", map[string]string{
		"patients.csv":            "Id,BIRTHDATE\nP1,2010-06-01\nP2,1950-01-01\n",
		"payer_transitions.csv":   "PATIENT,MEMBERID,START_DATE,END_DATE,PAYER\nP1,M1,2015-01-01T00:00:00Z,,X\nP2,M2,2015-01-01T00:00:00Z,,X\n",
		"claims_transactions.csv": syntheaTransactions,
	})
	equalLines(t, "claims", r.table(t, "claims.csv", "claim_id", "line_no", "benefit_code", "diagnosis_code", "service_end_date", "units"), []string{
		"C1|1|OP_CONSULTATION|||",
		"C1|2|OP_CHILD_VACCINES|||",
		"C2|1|OP_CONSULTATION|||",
		"C3|1|OP_CONSULTATION|||",
		"C3|2|OP_PATHOLOGY_RADIOLOGY|||",
	})
	if got := strings.Join(r.manifest.Absent, ","); got != "claims,encounters,payers" {
		t.Errorf("absent %q", got)
	}
}

// DE-SynPUF files of another sample: only carrier claims (the other claim
// files absent), columns in another order with extra ones, a beneficiary
// who died, one who joined during a year, and one with no cover in a year.
func TestDESynPUFOtherSample(t *testing.T) {
	bene := func(year string, rows ...string) string {
		return "DESYNPUF_ID,BENE_BIRTH_DT,BENE_DEATH_DT,BENE_HI_CVRAGE_TOT_MONS,BENE_SMI_CVRAGE_TOT_MONS,BENE_HMO_CVRAGE_TOT_MONS,PLAN_CVRG_MOS_NUM,SP_STATE_CODE\n" + strings.Join(rows, "\n") + "\n"
	}
	r := importBuiltin(t, "cms-desynpuf", map[string]string{
		"DE1_0_2008_Beneficiary_Summary_File_Sample_7.csv": bene("2008", "A,19400301,,12,12,0,12,1", "B,19430815,,4,4,0,0,5", "C,19380101,,12,12,12,12,5"),
		"DE1_0_2009_Beneficiary_Summary_File_Sample_7.csv": bene("2009", "A,19400301,20090610,6,6,0,6,1", "B,19430815,,12,12,0,12,5", "C,19380101,,0,0,0,0,5"),
		"DE1_0_2010_Beneficiary_Summary_File_Sample_7.csv": bene("2010", "B,19430815,,12,12,0,12,5", "C,19380101,,12,0,0,0,5"),
		"DE1_0_2008_to_2010_Carrier_Claims_Sample_7A.csv": "CLM_ID,DESYNPUF_ID,CLM_THRU_DT,CLM_FROM_DT,ICD9_DGNS_CD_1,HCPCS_CD_1,LINE_ALOWD_CHRG_AMT_1,LINE_ICD9_DGNS_CD_1,PRF_PHYSN_NPI_1,HCPCS_CD_2,LINE_ALOWD_CHRG_AMT_2,LINE_ICD9_DGNS_CD_2,PRF_PHYSN_NPI_2," +
			"HCPCS_CD_3,LINE_ALOWD_CHRG_AMT_3,HCPCS_CD_4,LINE_ALOWD_CHRG_AMT_4,HCPCS_CD_5,LINE_ALOWD_CHRG_AMT_5,HCPCS_CD_6,LINE_ALOWD_CHRG_AMT_6,HCPCS_CD_7,LINE_ALOWD_CHRG_AMT_7,HCPCS_CD_8,LINE_ALOWD_CHRG_AMT_8,HCPCS_CD_9,LINE_ALOWD_CHRG_AMT_9," +
			"HCPCS_CD_10,LINE_ALOWD_CHRG_AMT_10,HCPCS_CD_11,LINE_ALOWD_CHRG_AMT_11,HCPCS_CD_12,LINE_ALOWD_CHRG_AMT_12,HCPCS_CD_13,LINE_ALOWD_CHRG_AMT_13,EXTRA\n" +
			"K1,A,20090105,20090105,4019,99213,60,4011,N1,G0008,20,,N1" + strings.Repeat(",,0", 11) + ",x\n" +
			"K2,B,20100220,20100210,V5883,,0,,,,0,," + strings.Repeat(",,0", 11) + ",x\n" +
			"K3,C,20100301,20100301,E8889,77057,150,,N2,71250,300,,N2,J1100,10" + strings.Repeat(",,0", 10) + ",x\n",
	})
	equalLines(t, "members", r.table(t, "members.csv", "member_id", "coverage_start", "coverage_end", "date_of_birth"), []string{
		"A|2008-01-01|2009-06-10|1940-03-01", // died 10 June 2009 after 6 covered months
		"B|2008-09-01|2010-12-31|1943-08-15", // joined September 2008
		"C|2008-01-01|2008-12-31|1938-01-01", // no cover in 2009
		"C|2010-01-01|2010-12-31|1938-01-01",
	})
	equalLines(t, "claims", r.table(t, "claims.csv", "claim_id", "line_no", "service_date", "benefit_code", "diagnosis_code", "procedure_code", "provider_id", "billed_amount"), []string{
		"K1|1|2009-01-05|OP_CONSULTATION|401.1|99213|N1|60.00",
		"K1|2|2009-01-05|OP_ADULT_VACCINES|401.9|G0008|N1|20.00",
		"K3|1|2010-03-01|OP_SCREEN_BREAST|E888.9|77057|N2|150.00",
		"K3|2|2010-03-01|ADVANCED_IMAGING|E888.9|71250|N2|300.00",
		"K3|3|2010-03-01|OP_PRESCRIPTION_DRUGS|E888.9|J1100||10.00",
	})
	if got, want := r.stats("DE1_0_2008_to_2010_Carrier_Claims_Sample_7A.csv", "claims[0]"), "read=3 mapped=2 no_filled_slot=1 exceptions=0 lines=5"; got != want {
		t.Errorf("carrier stats %s, want %s", got, want)
	}
	if got := strings.Join(r.manifest.Absent, ","); got != "inpatient,outpatient,drugs" {
		t.Errorf("absent %q", got)
	}
}
