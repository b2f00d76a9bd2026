package readers_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"claimsbatch/claim"
	"claimsbatch/readers"
)

// benefits is a stand-in for the plan's benefit table.
type benefits map[string]claim.BenefitID

func (b benefits) Lookup(code string) (claim.BenefitID, bool, bool) {
	id, ok := b[code]
	return id, code == "CANCER_DEVICE", ok
}

func ExampleOpenClaims() {
	dir, err := os.MkdirTemp("", "claims")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "claims.csv")
	err = os.WriteFile(path, []byte(
		"claim_id,line_no,member_id,service_date,benefit_code,country,currency,billed_amount,provider_id\n"+
			"C1,1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,fr,eur,1200,P7\n"+
			"C1,2,M1,2024-01-05,CANCER_DEVICE,FR,EUR,125.00,P7\n"+
			"C2,1,M2,2024-01-09,OP_CONSULTATION,FR,EUR,80.505,\n"), 0o644)
	if err != nil {
		log.Fatal(err)
	}

	r, err := readers.OpenClaims(path, 0, benefits{"HOSPITAL_ACCOMMODATION": 1, "CANCER_DEVICE": 14, "OP_CONSULTATION": 24}, readers.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	for r.Next() {
		for _, l := range r.Lines() {
			fmt.Println(l.ClaimID, l.LineNo, l.ServiceDate, l.Country, l.Currency, l.Billed, l.Payee)
		}
		for _, e := range r.Exceptions() {
			fmt.Println(e.Row, e.Code, e.Field, e.Message)
		}
	}
	if err := r.Err(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Rows(), "rows")
	// Output:
	// C1 1 2024-01-05 FR EUR 1200.00 provider
	// 2 MISSING_FIELD item_code item_code is empty; benefit CANCER_DEVICE needs one
	// 3 INVALID_VALUE billed_amount billed_amount 80.505 has more than 2 decimals
	// 3 rows
}
