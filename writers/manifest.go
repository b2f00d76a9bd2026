package writers

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"sort"
	"strings"

	"claimsbatch/claim"
)

// Manifest is the content of manifest.json (SPEC section 7). Its JSON field
// order is the order of the struct fields; amounts are JSON strings with
// exactly two decimals ("123.45"), never floats.
type Manifest struct {
	RunID         string        `json:"run_id"`
	ToolVersion   string        `json:"tool_version"`
	Plan          PlanRef       `json:"plan"`
	StateIn       *StateRef     `json:"state_in,omitempty"` // nil when the run had no --state-in
	Inputs        []Input       `json:"inputs"`
	Outputs       []Output      `json:"outputs"`
	ControlTotals ControlTotals `json:"control_totals"`
	Notes         []string      `json:"notes,omitempty"`
}

// PlanRef names the plan the run used.
type PlanRef struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"` // hex, of the plan file's bytes
	// Path is the --plan file as given (relative to where the run started);
	// empty for the built-in plan. claimsbatch explain reloads it from here.
	Path string `json:"path,omitempty"`
}

// StateRef is the state file a run continued from.
type StateRef struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Input roles.
const (
	RoleClaims  = "claims"
	RoleMembers = "members"
	RoleFX      = "fx"
)

// Input is one input file: its role (RoleClaims, RoleMembers or RoleFX), the
// path as given, the SHA-256 of its bytes, its number of data records and
// how they were accounted for: for a claims file Rows = Adjudicated +
// Exceptions; members and FX rows are not adjudicated, so Adjudicated is 0
// there and left out of the JSON.
type Input struct {
	Role        string `json:"role"`
	Path        string `json:"path"`
	SHA256      string `json:"sha256"`
	Rows        int64  `json:"rows"`
	Adjudicated int64  `json:"adjudicated,omitempty"`
	Exceptions  int64  `json:"exceptions"` // rows written to the exceptions table
}

// Output is one published output file other than the manifest.
type Output struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Rows   int64  `json:"rows"`
}

// ControlTotals are the run's totals for reconciliation. The zero value is
// ready for AddResult and AddException.
type ControlTotals struct {
	LinesRead        int64                         `json:"lines_read"`
	LinesAdjudicated int64                         `json:"lines_adjudicated"`
	Exceptions       int64                         `json:"exceptions"`
	ExceptionsByCode map[claim.ExceptionCode]int64 `json:"exceptions_by_code"` // written with sorted keys
	PerCurrency      []CurrencyTotals              `json:"per_currency"`       // sorted by PlanCurrency
}

// CurrencyTotals are the totals of the adjudicated lines of one plan
// currency. Charge = PlanPaid + Deductible + Coinsurance + NotCovered, and
// PaidByModule adds up to PlanPaid.
type CurrencyTotals struct {
	PlanCurrency         string
	Lines                int64
	Charge               claim.Money
	PlanPaid             claim.Money
	Deductible           claim.Money
	Coinsurance          claim.Money
	NotCovered           claim.Money
	MemberResponsibility claim.Money
	PaidByModule         ModuleTotals
}

// ModuleTotals is the plan's payment per module.
type ModuleTotals struct {
	Core       claim.Money
	Outpatient claim.Money
	Dental     claim.Money
}

// AddResult adds one adjudicated line to the totals: LinesAdjudicated and
// the line's plan currency.
func (c *ControlTotals) AddResult(r *claim.Result) {
	c.LinesAdjudicated++
	cur := r.Line.PlanCurrency
	i := sort.Search(len(c.PerCurrency), func(i int) bool { return c.PerCurrency[i].PlanCurrency >= cur })
	if i == len(c.PerCurrency) || c.PerCurrency[i].PlanCurrency != cur {
		c.PerCurrency = append(c.PerCurrency, CurrencyTotals{})
		copy(c.PerCurrency[i+1:], c.PerCurrency[i:])
		c.PerCurrency[i] = CurrencyTotals{PlanCurrency: strings.Clone(cur)} // not the caller's buffer
	}
	t := &c.PerCurrency[i]
	t.Lines++
	t.Charge += r.Charge
	t.PlanPaid += r.PlanPaid
	t.Deductible += r.Deductible
	t.Coinsurance += r.Coinsurance
	t.NotCovered += r.NotCovered
	t.MemberResponsibility += r.MemberResponsibility()
	switch r.Module {
	case claim.Core:
		t.PaidByModule.Core += r.PlanPaid
	case claim.Outpatient:
		t.PaidByModule.Outpatient += r.PlanPaid
	case claim.Dental:
		t.PaidByModule.Dental += r.PlanPaid
	}
}

// AddException counts one exception row.
func (c *ControlTotals) AddException(code claim.ExceptionCode) {
	c.Exceptions++
	if c.ExceptionsByCode == nil {
		c.ExceptionsByCode = make(map[claim.ExceptionCode]int64)
	}
	c.ExceptionsByCode[code]++
}

// Check verifies the identities the SPEC promises: lines read = adjudicated
// + exceptions, the exceptions by code add up to the exceptions, and per
// plan currency charge = plan_paid + deductible + coinsurance + not_covered,
// member_responsibility = deductible + coinsurance + not_covered and the
// payments by module add up to plan_paid. It returns the first that fails.
func (c *ControlTotals) Check() error {
	if c.LinesRead != c.LinesAdjudicated+c.Exceptions {
		return fmt.Errorf("writers: control totals: lines_read %d != lines_adjudicated %d + exceptions %d",
			c.LinesRead, c.LinesAdjudicated, c.Exceptions)
	}
	var byCode int64
	for _, n := range c.ExceptionsByCode {
		byCode += n
	}
	if byCode != c.Exceptions {
		return fmt.Errorf("writers: control totals: exceptions_by_code add up to %d, exceptions is %d", byCode, c.Exceptions)
	}
	for _, t := range c.PerCurrency {
		if sum := t.PlanPaid + t.Deductible + t.Coinsurance + t.NotCovered; t.Charge != sum {
			return fmt.Errorf("writers: control totals %s: charge %v != plan_paid + deductible + coinsurance + not_covered %v",
				t.PlanCurrency, t.Charge, sum)
		}
		if sum := t.Deductible + t.Coinsurance + t.NotCovered; t.MemberResponsibility != sum {
			return fmt.Errorf("writers: control totals %s: member_responsibility %v != deductible + coinsurance + not_covered %v",
				t.PlanCurrency, t.MemberResponsibility, sum)
		}
		m := t.PaidByModule
		if sum := m.Core + m.Outpatient + m.Dental; t.PlanPaid != sum {
			return fmt.Errorf("writers: control totals %s: plan_paid %v != paid by module %v", t.PlanCurrency, t.PlanPaid, sum)
		}
	}
	return nil
}

// jsonAmount is claim.Money in JSON: a string with exactly two decimals.
type jsonAmount claim.Money

func (a jsonAmount) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 24)
	b = append(b, '"')
	b = claim.Money(a).AppendTo(b)
	return append(b, '"'), nil
}

func (a *jsonAmount) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("writers: amount %s: want a JSON string", data)
	}
	m, err := claim.ParseMoney(s)
	if err != nil {
		return fmt.Errorf("writers: amount %q: %w", s, err)
	}
	*a = jsonAmount(m)
	return nil
}

// The JSON forms of CurrencyTotals and ModuleTotals: same fields, amounts as
// strings. The field order here is the order in manifest.json.
type (
	currencyTotalsJSON struct {
		PlanCurrency         string           `json:"plan_currency"`
		Lines                int64            `json:"lines"`
		Charge               jsonAmount       `json:"charge"`
		PlanPaid             jsonAmount       `json:"plan_paid"`
		Deductible           jsonAmount       `json:"deductible"`
		Coinsurance          jsonAmount       `json:"coinsurance"`
		NotCovered           jsonAmount       `json:"not_covered"`
		MemberResponsibility jsonAmount       `json:"member_responsibility"`
		PaidByModule         moduleTotalsJSON `json:"paid_by_module"`
	}
	moduleTotalsJSON struct {
		Core       jsonAmount `json:"core"`
		Outpatient jsonAmount `json:"outpatient"`
		Dental     jsonAmount `json:"dental"`
	}
)

// MarshalJSON writes the totals with amounts as strings.
func (t CurrencyTotals) MarshalJSON() ([]byte, error) {
	return json.Marshal(currencyTotalsJSON{
		PlanCurrency:         t.PlanCurrency,
		Lines:                t.Lines,
		Charge:               jsonAmount(t.Charge),
		PlanPaid:             jsonAmount(t.PlanPaid),
		Deductible:           jsonAmount(t.Deductible),
		Coinsurance:          jsonAmount(t.Coinsurance),
		NotCovered:           jsonAmount(t.NotCovered),
		MemberResponsibility: jsonAmount(t.MemberResponsibility),
		PaidByModule: moduleTotalsJSON{
			Core:       jsonAmount(t.PaidByModule.Core),
			Outpatient: jsonAmount(t.PaidByModule.Outpatient),
			Dental:     jsonAmount(t.PaidByModule.Dental),
		},
	})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (t *CurrencyTotals) UnmarshalJSON(data []byte) error {
	var j currencyTotalsJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*t = CurrencyTotals{
		PlanCurrency:         j.PlanCurrency,
		Lines:                j.Lines,
		Charge:               claim.Money(j.Charge),
		PlanPaid:             claim.Money(j.PlanPaid),
		Deductible:           claim.Money(j.Deductible),
		Coinsurance:          claim.Money(j.Coinsurance),
		NotCovered:           claim.Money(j.NotCovered),
		MemberResponsibility: claim.Money(j.MemberResponsibility),
		PaidByModule: ModuleTotals{
			Core:       claim.Money(j.PaidByModule.Core),
			Outpatient: claim.Money(j.PaidByModule.Outpatient),
			Dental:     claim.Money(j.PaidByModule.Dental),
		},
	}
	return nil
}

// WriteManifest writes m to w as indented JSON (two spaces) ending in a
// newline. Empty lists are written as [] and an empty exceptions_by_code as
// {}, never null.
func WriteManifest(w io.Writer, m *Manifest) error {
	c := *m
	if c.Inputs == nil {
		c.Inputs = []Input{}
	}
	if c.Outputs == nil {
		c.Outputs = []Output{}
	}
	if c.ControlTotals.ExceptionsByCode == nil {
		c.ControlTotals.ExceptionsByCode = map[claim.ExceptionCode]int64{}
	}
	if c.ControlTotals.PerCurrency == nil {
		c.ControlTotals.PerCurrency = []CurrencyTotals{}
	}
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return fmt.Errorf("writers: manifest: %w", err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("writers: manifest: %w", err)
	}
	return nil
}

// ReadManifest decodes a manifest written by WriteManifest.
func ReadManifest(r io.Reader) (*Manifest, error) {
	var m Manifest
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return nil, fmt.Errorf("writers: manifest: %w", err)
	}
	return &m, nil
}

// HashingWriter passes writes through to an io.Writer and computes the
// SHA-256 and the count of the bytes that were written, so an output's
// manifest entry costs no second read of the file.
type HashingWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

// NewHashingWriter returns a HashingWriter writing to w.
func NewHashingWriter(w io.Writer) *HashingWriter {
	return &HashingWriter{w: w, h: sha256.New()}
}

// Write writes p to the underlying writer and hashes what it accepted.
func (h *HashingWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

// SHA256 returns the lowercase hex SHA-256 of the bytes written so far.
func (h *HashingWriter) SHA256() string {
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.h.Sum(sum[:0]))
}

// N returns the number of bytes written so far.
func (h *HashingWriter) N() int64 { return h.n }
