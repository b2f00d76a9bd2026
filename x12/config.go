package x12

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrConfig is wrapped by every error of LoadConfig and ParseConfig, and by
// Generate's errors that come from the configuration (a payee paid by ACH
// without bank details): the command line exits 2 for them.
var ErrConfig = errors.New("x12: invalid configuration")

// Config is what the 835s say about the trading partners and the payment,
// none of which the remittance file holds. Load one with LoadConfig; the zero
// value is not usable, DefaultConfig returns the documented defaults.
type Config struct {
	Interchange Interchange `yaml:"interchange"`
	Group       Group       `yaml:"group"`
	Payer       Payer       `yaml:"payer"`
	Payment     Payment     `yaml:"payment"`
	// ClaimFilingIndicator is CLP06; "" = "15" (indemnity insurance).
	ClaimFilingIndicator string `yaml:"claim_filing_indicator"`
	// LocalCodeQualifier is the SVC01-1 qualifier of a service line whose
	// code is not a HCPCS/CPT or ADA code (the benefit code, or a local or
	// SNOMED procedure code); "" = "ER". See the package doc for why.
	LocalCodeQualifier string `yaml:"local_code_qualifier"`
	// UnknownPayeeQualifier is the N103 qualifier used with the provider_id
	// as N104 for a payee the Payees map does not give an NPI or a TIN
	// for; "" = "FI". See the package doc for why.
	UnknownPayeeQualifier string `yaml:"unknown_payee_qualifier"`
	// LineBreaks puts a newline after every segment terminator, one segment
	// per line as people read them (translators skip it); nil = true. Set
	// it to false for a partner whose translator wants none.
	LineBreaks *bool `yaml:"line_breaks"`
	// Payees gives names, identifiers, addresses and bank details by
	// provider_id. A provider not listed is named and identified by its
	// provider_id.
	Payees map[string]PayeeInfo `yaml:"payees"`
}

// Interchange is the ISA envelope.
type Interchange struct {
	SenderQualifier string `yaml:"sender_qualifier"` // ISA05; "" = "ZZ"
	SenderID        string `yaml:"sender_id"`        // ISA06, up to 15 characters; required
	// ReceiverQualifier and ReceiverID are ISA07 and ISA08 for every payee
	// (a clearinghouse); "" = each payee's own: its PayeeInfo.InterchangeID,
	// else its provider_id when that fits 15 characters, else "P" and 14 hex
	// digits of its SHA-256; the qualifier is then "ZZ".
	ReceiverQualifier string `yaml:"receiver_qualifier"`
	ReceiverID        string `yaml:"receiver_id"`
	// Usage is ISA15: "P" production or "T" test; required in a file (the
	// built-in defaults say T).
	Usage string `yaml:"usage"`
	// AcknowledgmentRequested sets ISA14 to 1 (a TA1 is wanted); false = 0.
	AcknowledgmentRequested bool `yaml:"acknowledgment_requested"`
}

// Group is the GS envelope.
type Group struct {
	SenderCode   string `yaml:"sender_code"`   // GS02; "" = the ISA sender id
	ReceiverCode string `yaml:"receiver_code"` // GS03; "" = the ISA receiver id of each file
}

// Payer is loop 1000A: who pays.
type Payer struct {
	Name string `yaml:"name"` // N102, required
	// ID is the payer identification number, written as REF*2U (N103/N104
	// of the payer take only a CMS PlanID, XV, which we do not have).
	ID string `yaml:"id"`
	// TIN is the payer's 9-digit federal tax id: TRN03 and, for an EFT,
	// BPR10 are "1" followed by it.
	TIN              string  `yaml:"tin"`
	Address          Address `yaml:"address"`           // N3/N4, required by the 835
	TechnicalContact Contact `yaml:"technical_contact"` // PER*BL, required by the 835
}

// Address is an N3/N4 pair.
type Address struct {
	Line1      string `yaml:"line1"`       // N301, required
	Line2      string `yaml:"line2"`       // N302
	City       string `yaml:"city"`        // N401, required
	State      string `yaml:"state"`       // N402, 2 letters; required when country is US
	PostalCode string `yaml:"postal_code"` // N403; required when country is US
	Country    string `yaml:"country"`     // N404, ISO 3166 alpha-2; "" = US
}

// Contact is a PER segment: a name and at least one of phone, email, url.
type Contact struct {
	Name  string `yaml:"name"`
	Phone string `yaml:"phone"`
	Email string `yaml:"email"`
	URL   string `yaml:"url"`
}

// Payment is what BPR says about how money moves.
type Payment struct {
	// Method is BPR04 for a non-zero payment: ACH, BOP, CHK or FWT;
	// required in a file. A zero payment is always BPR01 H with BPR04 NON.
	Method string `yaml:"method"`
	// Handling is BPR01 for a non-zero payment: "I" (remittance information
	// only: the money moves separately and TRN reassociates them) or "C"
	// (payment accompanies the remittance advice); "" = "I".
	Handling string `yaml:"handling"`
	// Format is BPR05 for ACH: "CCP" or "CTX"; "" = "CCP".
	Format string `yaml:"format"`
	// Bank is the payer's account (BPR06-BPR09); required when any payment
	// is ACH, BOP or FWT.
	Bank *Bank `yaml:"bank"`
}

// Bank is an account at a depository financial institution.
type Bank struct {
	DFIQualifier     string `yaml:"dfi_qualifier"`     // "01" ABA routing number or "04" Canadian; "" = "01"
	DFIID            string `yaml:"dfi_id"`            // routing number, 3 to 12 characters
	AccountQualifier string `yaml:"account_qualifier"` // "DA" demand deposit or "SG" savings (payee only); "" = "DA"
	Account          string `yaml:"account"`           // 1 to 35 characters
}

// PayeeInfo is what the configuration knows of one provider payee.
type PayeeInfo struct {
	Name string `yaml:"name"` // N102; "" = the provider_id
	// NPI (10 digits, valid check digit) is N104 with qualifier XX; else TIN
	// with FI; else the provider_id with UnknownPayeeQualifier. With both,
	// the TIN is also sent as REF*TJ.
	NPI string `yaml:"npi"`
	TIN string `yaml:"tin"`
	// InterchangeID is this payee's ISA08/GS03 when the interchange has no
	// common receiver_id; "" = the default described at Interchange.
	InterchangeID string   `yaml:"interchange_id"`
	Address       *Address `yaml:"address"` // N3/N4 of the payee; optional
	// PaymentMethod overrides Payment.Method for this payee.
	PaymentMethod string `yaml:"payment_method"`
	Bank          *Bank  `yaml:"bank"` // BPR12-BPR15; required when this payee is paid by ACH, BOP or FWT
}

// DefaultConfig returns the configuration used when no file is given. Its
// identifiers are placeholders (payer tax id 999999999, contact at
// example.com), so its interchanges say ISA15 = T: test data, not to be
// loaded as production remittances.
func DefaultConfig() *Config {
	c := &Config{
		Interchange: Interchange{SenderQualifier: "ZZ", SenderID: "CLOSECARE", Usage: "T"},
		Payer: Payer{
			Name: "CLOSE CARE",
			ID:   "CLOSECARE",
			TIN:  "999999999",
			Address: Address{
				Line1: "ADDRESS NOT CONFIGURED", City: "NOT CONFIGURED", Country: "GB",
			},
			TechnicalContact: Contact{Name: "EDI SUPPORT", Email: "edi@example.com"},
		},
		Payment:               Payment{Method: "CHK", Handling: "I"},
		ClaimFilingIndicator:  "15",
		LocalCodeQualifier:    "ER",
		UnknownPayeeQualifier: "FI",
	}
	c.applyDefaults()
	return c
}

// LoadConfig reads and validates the configuration file at path.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return ParseConfig(path, data)
}

// ParseConfig validates a configuration from its YAML bytes; name is used in
// messages. Unknown keys are rejected. Every problem is reported at once, one
// per line, each with its key (or its line, for a key the decoder rejects).
// Optional keys left out take the defaults their field docs give.
func ParseConfig(name string, data []byte) (*Config, error) {
	var c Config
	var problems []string
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		var te *yaml.TypeError
		switch {
		case errors.As(err, &te):
			// The decoder went on past these; what it decoded is checked too.
			for _, e := range te.Errors {
				problems = append(problems, strings.TrimPrefix(e, "yaml: "))
			}
		case errors.Is(err, io.EOF):
			problems = append(problems, "the file is empty")
		default:
			return nil, fmt.Errorf("%w: %s: %s", ErrConfig, name, strings.TrimPrefix(err.Error(), "yaml: "))
		}
	}
	c.applyDefaults()
	problems = append(problems, c.validate()...)
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s:\n  %s", ErrConfig, name, strings.Join(problems, "\n  "))
	}
	return &c, nil
}

func (c *Config) applyDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Interchange.SenderQualifier, "ZZ")
	def(&c.Payment.Handling, "I")
	def(&c.Payment.Format, "CCP")
	def(&c.ClaimFilingIndicator, "15")
	def(&c.LocalCodeQualifier, "ER")
	def(&c.UnknownPayeeQualifier, "FI")
	def(&c.Payer.Address.Country, "US")
	bank := func(b *Bank) {
		if b != nil {
			def(&b.DFIQualifier, "01")
			def(&b.AccountQualifier, "DA")
		}
	}
	bank(c.Payment.Bank)
	for id, p := range c.Payees {
		bank(p.Bank)
		if p.Address != nil {
			def(&p.Address.Country, "US")
		}
		c.Payees[id] = p
	}
}

// Code lists of the 005010X221A1 elements the configuration sets.
var (
	interchangeQualifiers = []string{"01", "14", "20", "27", "28", "29", "30", "33", "ZZ"}
	paymentMethods        = []string{"ACH", "BOP", "CHK", "FWT"}
	claimFilingCodes      = []string{"12", "13", "14", "15", "16", "17", "AM", "CH", "DS", "HM", "LM", "MA", "MB", "MC", "OF", "TV", "VA", "WC", "ZZ"}
	// SVC01-1 qualifiers of the TR3 that suit a code the payer defines,
	// and ZZ (mutually defined) for trading partners that agree on it.
	localQualifiers = []string{"ER", "WK", "ZZ"}
	// N103 of the payee per the TR3 (FI, XV, XX), and ZZ likewise.
	payeeQualifiers = []string{"FI", "XV", "XX", "ZZ"}
)

// validate returns every problem, each starting with its key.
func (c *Config) validate() []string {
	var v problemList
	ic := c.Interchange
	v.oneOf("interchange.sender_qualifier", ic.SenderQualifier, interchangeQualifiers)
	v.required("interchange.sender_id", ic.SenderID)
	v.text("interchange.sender_id", ic.SenderID, 15)
	if ic.ReceiverQualifier != "" || ic.ReceiverID != "" {
		v.oneOf("interchange.receiver_qualifier", ic.ReceiverQualifier, interchangeQualifiers)
		v.required("interchange.receiver_id", ic.ReceiverID)
		v.text("interchange.receiver_id", ic.ReceiverID, 15)
	}
	v.required("interchange.usage", ic.Usage)
	if ic.Usage != "" {
		v.oneOf("interchange.usage", ic.Usage, []string{"P", "T"})
	}
	v.text("group.sender_code", c.Group.SenderCode, 15)
	v.text("group.receiver_code", c.Group.ReceiverCode, 15)

	p := c.Payer
	v.required("payer.name", p.Name)
	v.text("payer.name", p.Name, 60)
	v.required("payer.id", p.ID)
	v.text("payer.id", p.ID, 50)
	v.required("payer.tin", p.TIN)
	v.digits("payer.tin", p.TIN, 9)
	v.address("payer.address", &p.Address)
	v.contact("payer.technical_contact", p.TechnicalContact)

	pay := c.Payment
	v.required("payment.method", pay.Method)
	if pay.Method != "" {
		v.oneOf("payment.method", pay.Method, paymentMethods)
	}
	v.oneOf("payment.handling", pay.Handling, []string{"C", "I"})
	v.oneOf("payment.format", pay.Format, []string{"CCP", "CTX"})
	if pay.Bank != nil {
		v.bank("payment.bank", pay.Bank, false)
	} else if needsBank(pay.Method) {
		v.add("payment.bank", "is required when payment.method is %s", pay.Method)
	}
	v.oneOf("claim_filing_indicator", c.ClaimFilingIndicator, claimFilingCodes)
	v.oneOf("local_code_qualifier", c.LocalCodeQualifier, localQualifiers)
	v.oneOf("unknown_payee_qualifier", c.UnknownPayeeQualifier, payeeQualifiers)

	ids := make([]string, 0, len(c.Payees))
	for id := range c.Payees {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		pe := c.Payees[id]
		key := "payees." + id
		if id == "" {
			v.add("payees", "has an empty provider_id")
		}
		v.text(key, id, 80)
		v.text(key+".name", pe.Name, 60)
		if pe.NPI != "" && !validNPI(pe.NPI) {
			v.add(key+".npi", "%q is not an NPI (10 digits with a valid check digit)", pe.NPI)
		}
		v.digits(key+".tin", pe.TIN, 9)
		v.text(key+".interchange_id", pe.InterchangeID, 15)
		if pe.Address != nil {
			v.address(key+".address", pe.Address)
		}
		if pe.PaymentMethod != "" {
			v.oneOf(key+".payment_method", pe.PaymentMethod, paymentMethods)
		}
		if pe.Bank != nil {
			v.bank(key+".bank", pe.Bank, true)
		}
		method := pe.PaymentMethod
		if method == "" {
			method = pay.Method
		}
		if needsBank(method) {
			if pe.Bank == nil {
				v.add(key+".bank", "is required when the payee is paid by %s", method)
			}
			if pay.Bank == nil && pe.PaymentMethod != "" {
				v.add("payment.bank", "is required when a payee is paid by %s (%s)", method, key)
			}
		}
	}
	return v.list
}

// needsBank reports whether BPR04 = method needs the DFI and account
// elements (BPR06-BPR15).
func needsBank(method string) bool {
	return method == "ACH" || method == "BOP" || method == "FWT"
}

type problemList struct{ list []string }

func (v *problemList) add(key, format string, args ...any) {
	v.list = append(v.list, key+": "+fmt.Sprintf(format, args...))
}

func (v *problemList) required(key, s string) {
	if s == "" {
		v.add(key, "is missing")
	}
}

func (v *problemList) oneOf(key, s string, codes []string) {
	if !slices.Contains(codes, s) {
		v.add(key, "%q is not one of %s", s, strings.Join(codes, ", "))
	}
}

// text checks that s fits an X12 element of max characters and uses only
// characters an 835 can carry.
func (v *problemList) text(key, s string, max int) {
	if len(s) > max {
		v.add(key, "%q is longer than %d characters", s, max)
	}
	if err := checkValue(s); err != nil {
		v.add(key, "%v", err)
	}
}

func (v *problemList) digits(key, s string, n int) {
	if s == "" {
		return
	}
	if len(s) != n || strings.Trim(s, "0123456789") != "" {
		v.add(key, "%q is not %d digits", s, n)
	}
}

func (v *problemList) address(key string, a *Address) {
	v.required(key+".line1", a.Line1)
	v.text(key+".line1", a.Line1, 55)
	v.text(key+".line2", a.Line2, 55)
	v.required(key+".city", a.City)
	v.text(key+".city", a.City, 30)
	if len(a.Country) != 2 || strings.Trim(a.Country, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		v.add(key+".country", "%q is not an ISO 3166 alpha-2 code", a.Country)
	}
	if a.Country == "US" {
		v.required(key+".state", a.State)
		v.required(key+".postal_code", a.PostalCode)
	}
	if a.State != "" && (len(a.State) != 2 || strings.Trim(a.State, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
		v.add(key+".state", "%q is not a 2-letter code", a.State)
	}
	v.text(key+".postal_code", a.PostalCode, 15)
}

func (v *problemList) contact(key string, c Contact) {
	v.text(key+".name", c.Name, 60)
	v.text(key+".phone", c.Phone, 256)
	v.text(key+".email", c.Email, 256)
	v.text(key+".url", c.URL, 256)
	if c.Phone == "" && c.Email == "" && c.URL == "" {
		v.add(key, "needs at least one of phone, email, url")
	}
}

func (v *problemList) bank(key string, b *Bank, payee bool) {
	v.oneOf(key+".dfi_qualifier", b.DFIQualifier, []string{"01", "04"})
	accountQualifiers := []string{"DA"}
	if payee {
		accountQualifiers = append(accountQualifiers, "SG")
	}
	v.oneOf(key+".account_qualifier", b.AccountQualifier, accountQualifiers)
	v.required(key+".dfi_id", b.DFIID)
	if b.DFIID != "" && (len(b.DFIID) < 3 || len(b.DFIID) > 12) {
		v.add(key+".dfi_id", "%q is not 3 to 12 characters", b.DFIID)
	}
	v.text(key+".dfi_id", b.DFIID, 12)
	v.required(key+".account", b.Account)
	v.text(key+".account", b.Account, 35)
}

// validNPI checks an NPI's Luhn check digit, computed over the NPI prefixed
// with 80840 (the card issuer prefix for US health applications).
func validNPI(s string) bool {
	if len(s) != 10 || strings.Trim(s, "0123456789") != "" {
		return false
	}
	sum := 24 // the doubled-and-summed digits of the 80840 prefix
	for i := 8; i >= 0; i-- {
		d := int(s[i] - '0')
		if (8-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return (10-sum%10)%10 == int(s[9]-'0')
}
