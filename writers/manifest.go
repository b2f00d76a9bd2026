package writers

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"slices"
	"sort"
	"strings"

	"claimsbatch/claim"
)

// Manifest is the content of manifest.json (SPEC section 7). Its JSON field
// order is the order of the struct fields; amounts are JSON strings with
// exactly two decimals ("123.45"), never floats.
type Manifest struct {
	RunID       string `json:"run_id"`
	ToolVersion string `json:"tool_version"`
	// AsOf is the date the run adjudicated on (YYYY-MM-DD, its --as-of);
	// empty in manifests of releases before it was recorded.
	AsOf          string        `json:"as_of,omitempty"`
	Plan          PlanRef       `json:"plan"`
	StateIn       *StateRef     `json:"state_in,omitempty"` // nil when the run had no --state-in
	Inputs        []Input       `json:"inputs"`
	Outputs       []Output      `json:"outputs"`
	ControlTotals ControlTotals `json:"control_totals"`
	// Turnaround measures the adjudicated lines against the plan's
	// 5-business-day promise; nil (left out) for a validate run and in
	// manifests of releases before it was recorded.
	Turnaround *Turnaround `json:"turnaround,omitempty"`
	Notes      []string    `json:"notes,omitempty"`
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
// there and left out of the JSON. ExceptionsByCode splits Exceptions by
// code (written with sorted keys; left out when there are none).
type Input struct {
	Role             string                        `json:"role"`
	Path             string                        `json:"path"`
	SHA256           string                        `json:"sha256"`
	Rows             int64                         `json:"rows"`
	Adjudicated      int64                         `json:"adjudicated,omitempty"`
	Exceptions       int64                         `json:"exceptions"` // rows written to the exceptions table
	ExceptionsByCode map[claim.ExceptionCode]int64 `json:"exceptions_by_code,omitempty"`
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
	// ServiceDates is the range of the adjudicated lines' service dates;
	// nil (left out) when no line was adjudicated.
	ServiceDates *DateRange `json:"service_dates,omitempty"`
	// BilledPerCurrency is what the adjudicated lines billed, per billed
	// currency (the remittance's billed_currency and billed_amount), sorted
	// by currency.
	BilledPerCurrency []BilledTotals   `json:"billed_per_currency,omitempty"`
	PerCurrency       []CurrencyTotals `json:"per_currency"` // sorted by PlanCurrency
}

// CurrencyPlaces remembers where AddResultAt put each currency in one
// ControlTotals' BilledPerCurrency and PerCurrency, so that a line's
// totals are found without a binary search of string comparisons (about
// 1.5 % of a run's CPU, once per line). It belongs to that one
// ControlTotals, used from its start; the zero value is ready.
type CurrencyPlaces struct {
	billed, plan claim.CodeIndex
}

// DateRange is a range of dates, both ends included.
type DateRange struct {
	From, To claim.Date
}

type dateRangeJSON struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// MarshalJSON writes {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}.
func (r DateRange) MarshalJSON() ([]byte, error) {
	return json.Marshal(dateRangeJSON{r.From.String(), r.To.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *DateRange) UnmarshalJSON(data []byte) error {
	var j dateRangeJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	from, err1 := claim.ParseDate(j.From)
	to, err2 := claim.ParseDate(j.To)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("writers: date range %s: want YYYY-MM-DD dates", data)
	}
	*r = DateRange{from, to}
	return nil
}

// BilledTotals are the adjudicated lines of one billed currency.
type BilledTotals struct {
	Currency string
	Lines    int64
	Billed   claim.Money
}

type billedTotalsJSON struct {
	Currency string     `json:"billed_currency"`
	Lines    int64      `json:"lines"`
	Billed   jsonAmount `json:"billed_amount"`
}

// MarshalJSON writes the amount as a string.
func (b BilledTotals) MarshalJSON() ([]byte, error) {
	return json.Marshal(billedTotalsJSON{b.Currency, b.Lines, jsonAmount(b.Billed)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (b *BilledTotals) UnmarshalJSON(data []byte) error {
	var j billedTotalsJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*b = BilledTotals{j.Currency, j.Lines, claim.Money(j.Billed)}
	return nil
}

// CurrencyTotals are the totals of the adjudicated lines of one plan
// currency. Charge = PlanPaid + Deductible + Coinsurance + NotCovered, and
// PaidByModule and PaidByPayee each add up to PlanPaid.
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
	PaidByPayee          PayeeTotals
}

// PayeeTotals is the plan's payment per payee type: to providers, and to
// members (reimbursements).
type PayeeTotals struct {
	Provider claim.Money
	Member   claim.Money
}

// ModuleTotals is the plan's payment per module.
type ModuleTotals struct {
	Core       claim.Money
	Outpatient claim.Money
	Dental     claim.Money
}

// AddResult adds one adjudicated line to the totals: LinesAdjudicated, the
// service dates, the line's billed currency and its plan currency.
func (c *ControlTotals) AddResult(r *claim.Result) {
	var at CurrencyPlaces
	c.AddResultAt(r, &at)
}

// AddResultAt is AddResult with the currencies' places remembered in at,
// which must have seen every AddResultAt of c and nothing else.
func (c *ControlTotals) AddResultAt(r *claim.Result, at *CurrencyPlaces) {
	c.LinesAdjudicated++
	if d := r.Line.ServiceDate; c.ServiceDates == nil {
		c.ServiceDates = &DateRange{d, d}
	} else {
		c.ServiceDates.From = min(c.ServiceDates.From, d)
		c.ServiceDates.To = max(c.ServiceDates.To, d)
	}
	j, ok := at.billed.Find(r.Line.Currency)
	if !ok {
		j = codePlace(&c.BilledPerCurrency, &at.billed, r.Line.Currency,
			func(b *BilledTotals) string { return b.Currency }, func(code string) BilledTotals { return BilledTotals{Currency: code} })
	}
	c.BilledPerCurrency[j].Lines++
	c.BilledPerCurrency[j].Billed += r.Line.Billed
	i, ok := at.plan.Find(r.Line.PlanCurrency)
	if !ok {
		i = codePlace(&c.PerCurrency, &at.plan, r.Line.PlanCurrency,
			func(t *CurrencyTotals) string { return t.PlanCurrency }, func(code string) CurrencyTotals { return CurrencyTotals{PlanCurrency: code} })
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
	if r.Line.Payee == claim.PayeeProvider {
		t.PaidByPayee.Provider += r.PlanPaid
	} else {
		t.PaidByPayee.Member += r.PlanPaid
	}
}

// codePlace returns code's place in rows (sorted by codeOf), adding
// newRow(code) in order if it is new, and keeps at in step with the
// places: AddResult's slow path, once per currency, or per line for a
// code CodeIndex does not hold.
func codePlace[T any](rows *[]T, at *claim.CodeIndex, code string, codeOf func(*T) string, newRow func(string) T) int32 {
	i, found := sort.Find(len(*rows), func(i int) int { return strings.Compare(code, codeOf(&(*rows)[i])) })
	if found {
		at.Put(code, int32(i))
		return int32(i)
	}
	*rows = slices.Insert(*rows, i, newRow(strings.Clone(code))) // not the caller's buffer
	// The places from i on moved: put every code again (Put replaces a
	// held code's place).
	for k := range *rows {
		at.Put(codeOf(&(*rows)[k]), int32(k))
	}
	return int32(i)
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
		if p := t.PaidByPayee; p.Provider+p.Member != t.PlanPaid && p != (PayeeTotals{}) {
			return fmt.Errorf("writers: control totals %s: plan_paid %v != paid to providers %v + members %v", t.PlanCurrency, t.PlanPaid, p.Provider, p.Member)
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
		PaidByPayee          *payeeTotalsJSON `json:"paid_by_payee_type,omitempty"`
	}
	payeeTotalsJSON struct {
		Provider jsonAmount `json:"provider"`
		Member   jsonAmount `json:"member"`
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
		PaidByPayee: &payeeTotalsJSON{
			Provider: jsonAmount(t.PaidByPayee.Provider),
			Member:   jsonAmount(t.PaidByPayee.Member),
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
	if p := j.PaidByPayee; p != nil {
		t.PaidByPayee = PayeeTotals{Provider: claim.Money(p.Provider), Member: claim.Money(p.Member)}
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
