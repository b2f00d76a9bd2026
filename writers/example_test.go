package writers_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"claimsbatch/claim"
	"claimsbatch/writers"
)

// A run writes each table through a HashingWriter into a file the Publisher
// created, closes the table writer, records the file in the manifest and
// publishes everything at once.
func Example() {
	dir, err := os.MkdirTemp("", "claimsbatch-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	p, err := writers.NewPublisher(filepath.Join(dir, "out"), writers.PublishOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Abort() // removes the staged files unless Commit ran

	format := writers.CSV
	name := "payments" + format.Ext()
	f, err := p.Create(name)
	if err != nil {
		log.Fatal(err)
	}
	hw := writers.NewHashingWriter(f)
	pw, err := writers.NewPaymentsWriter(hw, format)
	if err != nil {
		log.Fatal(err)
	}
	err = pw.Write([]writers.PaymentRow{
		{PayeeType: claim.PayeeProvider, PayeeID: "PRV9", PlanCurrency: "EUR", LineCount: 3, PlanPaid: 5000},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		log.Fatal(err)
	}

	m := &writers.Manifest{RunID: "run-1", Outputs: []writers.Output{{Name: name, SHA256: hw.SHA256(), Rows: pw.Rows()}}}
	mf, err := p.Create("manifest.json")
	if err != nil {
		log.Fatal(err)
	}
	if err := writers.WriteManifest(mf, m); err != nil {
		log.Fatal(err)
	}
	if err := p.Commit("manifest.json"); err != nil {
		log.Fatal(err)
	}

	entries, _ := os.ReadDir(p.Dir())
	for _, e := range entries {
		fmt.Println(e.Name())
	}
	b, _ := os.ReadFile(filepath.Join(p.Dir(), name))
	fmt.Print(string(b))
	// Output:
	// manifest.json
	// payments.csv
	// payee_type,payee_id,plan_currency,line_count,plan_paid
	// provider,PRV9,EUR,3,50.00
}

func ExampleNewRemittanceWriter() {
	var adj claim.Adjustments
	adj[claim.PR1] = 37500
	adj[claim.PR2] = 16500
	line := &claim.Line{
		ClaimID: "C1", LineNo: 1, MemberID: "M1", ServiceDate: claim.FromCivil(2024, 3, 5),
		BenefitCode: "OP_GP", Payee: claim.PayeeMember, Currency: "EUR", Billed: 60000,
		FXRate: "1", PlanCurrency: "EUR",
	}
	w, err := writers.NewRemittanceWriter(os.Stdout, writers.CSV, "run-1")
	if err != nil {
		log.Fatal(err)
	}
	err = w.Write([]claim.Result{{
		Line: line, PolicyID: "P1", PolicyYearStart: claim.FromCivil(2024, 1, 1), Module: claim.Outpatient,
		Charge: 60000, Deductible: 37500, Coinsurance: 16500, PlanPaid: 6000,
		Status: claim.StatusPartial, Adjustments: adj, Remark: "deductible, then 20 % coinsurance",
	}})
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// run_id,claim_id,line_no,member_id,policy_id,policy_year_start,service_date,benefit_code,module,payee_type,payee_id,billed_currency,billed_amount,plan_currency,fx_rate,charge,deductible,coinsurance,not_covered,plan_paid,member_responsibility,status,adjustments,remark,procedure_code
	// run-1,C1,1,M1,P1,2024-01-01,2024-03-05,OP_GP,outpatient,member,M1,EUR,600.00,EUR,1,600.00,375.00,165.00,0.00,60.00,540.00,PARTIAL,PR-1:375.00 PR-2:165.00,"deductible, then 20 % coinsurance",
}
