package x12

import (
	"errors"
	"strings"
	"testing"
)

func TestExampleConfigLoads(t *testing.T) {
	c, err := LoadConfig("testdata/config/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Interchange.Usage != "P" || c.Payment.Method != "CHK" || c.Payment.Bank.DFIQualifier != "01" {
		t.Errorf("interchange %+v payment %+v", c.Interchange, c.Payment)
	}
	hosp := c.Payees["PR-HOSP1"]
	if hosp.NPI != "1234567893" || hosp.Bank.AccountQualifier != "DA" || hosp.Bank.DFIQualifier != "01" || hosp.Address.Country != "US" {
		t.Errorf("PR-HOSP1 = %+v (bank %+v, address %+v)", hosp, hosp.Bank, hosp.Address)
	}
	if got := c.Payees["PR-KLIN3"].Address.Country; got != "DE" {
		t.Errorf("PR-KLIN3 country = %q", got)
	}
}

func TestDefaultConfigIsValid(t *testing.T) {
	c := DefaultConfig()
	if problems := c.validate(); len(problems) > 0 {
		t.Fatal(problems)
	}
	if c.Interchange.Usage != "T" {
		t.Errorf("the built-in configuration's usage is %q, want T (its ids are placeholders)", c.Interchange.Usage)
	}
}

func TestConfigProblems(t *testing.T) {
	minimal := `
interchange: {sender_id: CC, usage: P}
payer:
  name: PAYER
  id: P1
  tin: "123456789"
  address: {line1: L1, city: C, state: NY, postal_code: "10001"}
  technical_contact: {email: a@example.com}
payment: {method: CHK}
`
	tests := []struct {
		name string
		yaml string
		want []string // the lines of the error after its first
	}{
		{"minimal file", minimal, nil},
		{"empty file", "", []string{
			"the file is empty",
			"interchange.sender_id: is missing",
			"interchange.usage: is missing",
			"payer.name: is missing",
			"payer.id: is missing",
			"payer.tin: is missing",
			"payer.address.line1: is missing",
			"payer.address.city: is missing",
			"payer.address.state: is missing",
			"payer.address.postal_code: is missing",
			"payer.technical_contact: needs at least one of phone, email, url",
			"payment.method: is missing",
		}},
		{"unknown keys and bad values, all at once", `
interchange: {sender_id: CLOSECARE-INTERNATIONAL, usage: X, colour: red}
payer:
  name: "PAYER*ONE"
  id: P1
  tin: "12345"
  address: {line1: L1, city: C, country: france}
  technical_contact: {email: a@example.com}
payment: {method: NON, handling: D}
claim_filing_indicator: "99"
payees:
  PR-1: {npi: "1234567890", tin: "12-3456789", payment_method: ACH}
`, []string{
			"line 2: field colour not found in type x12.Interchange",
			`interchange.sender_id: "CLOSECARE-INTERNATIONAL" is longer than 15 characters`,
			`interchange.usage: "X" is not one of P, T`,
			`payer.name: "PAYER*ONE" contains '*', an X12 delimiter`,
			`payer.tin: "12345" is not 9 digits`,
			`payer.address.country: "france" is not an ISO 3166 alpha-2 code`,
			`payment.method: "NON" is not one of ACH, BOP, CHK, FWT`,
			`payment.handling: "D" is not one of C, I`,
			`claim_filing_indicator: "99" is not one of 12, 13, 14, 15, 16, 17, AM, CH, DS, HM, LM, MA, MB, MC, OF, TV, VA, WC, ZZ`,
			`payees.PR-1.npi: "1234567890" is not an NPI (10 digits with a valid check digit)`,
			`payees.PR-1.tin: "12-3456789" is not 9 digits`,
			"payees.PR-1.bank: is required when the payee is paid by ACH",
			"payment.bank: is required when a payee is paid by ACH (payees.PR-1)",
		}},
		{"ACH without bank", strings.Replace(minimal, "method: CHK", "method: ACH", 1), []string{
			"payment.bank: is required when payment.method is ACH",
		}},
		{"bank details checked", strings.Replace(minimal, "payment: {method: CHK}", `payment:
  method: ACH
  bank: {dfi_qualifier: "02", dfi_id: "12", account_qualifier: SG}
payees:
  PR-2:
    bank: {dfi_id: "123456780", account: "1", account_qualifier: SG}
    address: {line1: L, city: C, country: US}`, 1), []string{
			`payment.bank.dfi_qualifier: "02" is not one of 01, 04`,
			`payment.bank.account_qualifier: "SG" is not one of DA`,
			`payment.bank.dfi_id: "12" is not 3 to 12 characters`,
			"payment.bank.account: is missing",
			"payees.PR-2.address.state: is missing",
			"payees.PR-2.address.postal_code: is missing",
		}},
		{"not YAML", "interchange: [", []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig("x12.yaml", []byte(tc.yaml))
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if c == nil {
					t.Fatal("no config")
				}
				return
			}
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error %v does not wrap ErrConfig", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(tc.want) == 0 {
				if !strings.HasPrefix(lines[0], "x12: invalid configuration: x12.yaml: ") {
					t.Errorf("error = %q", err)
				}
				return
			}
			if lines[0] != "x12: invalid configuration: x12.yaml:" {
				t.Errorf("first line = %q", lines[0])
			}
			got := lines[1:]
			for i := range got {
				got[i] = strings.TrimPrefix(got[i], "  ")
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestValidNPI(t *testing.T) {
	for npi, want := range map[string]bool{
		"1234567893": true,  // the CMS example
		"1234567890": false, // wrong check digit
		"123456789":  false,
		"12345678a3": false,
	} {
		if got := validNPI(npi); got != want {
			t.Errorf("validNPI(%q) = %v, want %v", npi, got, want)
		}
	}
}
