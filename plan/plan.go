// Package plan loads and validates a benefit plan: modules, cost-share options,
// benefits, groups and the plan-wide limits of SPEC section 6.
//
// A plan is data: a YAML file (closecare.yaml, embedded in the binary, is the
// default). Load validates every value and fails with every problem at once
// (a ValidationError), each naming the file's line, the key and what is
// wrong in the words of the file, never of the Go types behind it, so an
// actuary who edits a copy learns at once everything to fix. The loaded Plan is read-only and safe to share between
// goroutines; amounts are held per currency in claim.Money, indexed by the
// position of the currency in Plan.Currencies, so the engine never looks a
// currency up by name in its hot path.
//
// It may import only claim.
package plan

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"

	"claimsbatch/claim"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"
)

//go:embed closecare.yaml
var closeCareYAML []byte

// DefaultName is the name reported for the embedded plan.
const DefaultName = "closecare.yaml (built in)"

// ErrInvalid is wrapped by every validation error of Load and Parse.
var ErrInvalid = errors.New("plan: invalid plan")

// Amounts holds one amount per plan currency, in the order of Plan.Currencies.
// A nil Amounts means "no such limit".
type Amounts []claim.Money

// Period says how long a limit accumulates.
type Period uint8

// Periods.
const (
	PolicyYear Period = iota // resets at each policy year
	Lifetime                 // never resets
)

// Module holds one module's annual maximum and cost-share options.
type Module struct {
	Present       bool
	AnnualMaximum Amounts         // nil = no annual maximum
	Deductibles   [][]claim.Money // per currency: the allowed deductibles (ascending)
	Coinsurance   []int64         // allowed coinsurance in basis points (ascending)
	OOPMaximums   [][]claim.Money // per currency: the allowed out-of-pocket maximums (ascending)
}

// Group is a combined limit shared by several benefits.
type Group struct {
	Name  string
	Limit Amounts // nil = no amount limit
	Days  int32   // 0 = no day limit; counts the units of the group's lines
}

// Benefit is one benefit code of the plan.
type Benefit struct {
	Code          string
	Module        claim.Module
	Description   string
	Group         int     // index in Plan.Groups, -1 for none
	Limit         Amounts // nil = full
	LimitPerItem  bool    // the limit applies per item_code (item_code is then required)
	Period        Period  // of Limit
	PerLineLimit  Amounts // per line (per exam) limit; nil = none
	Days          int32   // 0 = no day limit; counts units
	LinesPerYear  int32   // 0 = no count limit
	CashPerUnit   Amounts // non-nil for cash benefits: charge = per unit × units
	MinAge        int     // -1 = none
	MaxAge        int     // -1 = none
	WaitingMonths int     // 0 = none
	Reimbursement int64   // dental: plan share in basis points; 0 otherwise
}

// IsCash reports whether the benefit pays a fixed amount per unit.
func (b *Benefit) IsCash() bool { return b.CashPerUnit != nil }

// Plan is a validated benefit plan.
type Plan struct {
	Name       string
	Source     string // the file it came from, for messages and the manifest
	SHA256     string // hex SHA-256 of the file's bytes
	Currencies []string
	Modules    [4]Module // indexed by claim.Module

	ConditionCap        Amounts
	ConditionCapModules claim.ModuleSet

	OutOfAreaLimit       Amounts
	OutOfAreaDaysPerTrip int32
	OutOfAreaDaysPerYear int32
	TripGapDays          int32

	OriginDaysPerYear int32 // 0 = no limit

	// TimelyFilingDays is the filing limit: a line received more than this
	// many days after its service date is denied PR-29. 0 = no limit (the
	// built-in plan: the brochure sets none).
	TimelyFilingDays int32

	Groups   []Group
	Benefits []Benefit

	byCode map[string]claim.BenefitID
	codes  codeTable // byCode for Lookup
}

// Lookup resolves a benefit code. It satisfies readers.BenefitLookup.
func (p *Plan) Lookup(code string) (id claim.BenefitID, needsItemCode bool, ok bool) {
	id, ok = p.codes.find(code)
	if !ok {
		return 0, false, false
	}
	return id, p.Benefits[id].LimitPerItem, true
}

// Benefit returns the benefit with the given id.
func (p *Plan) Benefit(id claim.BenefitID) *Benefit { return &p.Benefits[id] }

// CurrencyIndex returns the position of code in Currencies, or -1.
func (p *Plan) CurrencyIndex(code string) int {
	for i, c := range p.Currencies {
		if c == code {
			return i
		}
	}
	return -1
}

// Default returns the built-in Close Care plan.
func Default() *Plan {
	p, err := Parse(DefaultName, closeCareYAML)
	if err != nil {
		panic("plan: the embedded plan is invalid: " + err.Error()) // a build defect, caught by tests
	}
	return p
}

// DefaultYAML returns the embedded plan file's bytes (for `claimsbatch plan`).
func DefaultYAML() []byte { return bytes.Clone(closeCareYAML) }

// Load reads and validates the plan file at path.
func Load(path string) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	return Parse(path, data)
}

// The YAML shape. Amount and percent scalars are decoded from their text, never
// through float64, so "1500.10" is exactly 150010 cents.
type fileModule struct {
	AnnualMaximum      map[string]yamlMoney   `yaml:"annual_maximum"`
	DeductibleOptions  map[string][]yamlMoney `yaml:"deductible_options"`
	CoinsuranceOptions []yamlPercent          `yaml:"coinsurance_options"`
	OOPMaximumOptions  map[string][]yamlMoney `yaml:"oop_maximum_options"`
}

type fileGroup struct {
	Limit map[string]yamlMoney `yaml:"limit"`
	Days  int32                `yaml:"days"`
}

type fileBenefit struct {
	Code          string               `yaml:"code"`
	Module        string               `yaml:"module"`
	Description   string               `yaml:"description"`
	Group         string               `yaml:"group"`
	Limit         map[string]yamlMoney `yaml:"limit"`
	LimitPer      string               `yaml:"limit_per"`
	Period        string               `yaml:"period"`
	PerLineLimit  map[string]yamlMoney `yaml:"per_line_limit"`
	Days          int32                `yaml:"days"`
	LinesPerYear  int32                `yaml:"lines_per_year"`
	CashPerUnit   map[string]yamlMoney `yaml:"cash_per_unit"`
	MinAge        *int                 `yaml:"min_age"`
	MaxAge        *int                 `yaml:"max_age"`
	WaitingMonths int                  `yaml:"waiting_months"`
	Reimbursement *yamlPercent         `yaml:"reimbursement"`
}

type file struct {
	Name       string                `yaml:"name"`
	Currencies []string              `yaml:"currencies"`
	Modules    map[string]fileModule `yaml:"modules"`
	Condition  struct {
		Amount  map[string]yamlMoney `yaml:"amount"`
		Modules []string             `yaml:"modules"`
	} `yaml:"per_condition_cap"`
	OutOfArea struct {
		Amount      map[string]yamlMoney `yaml:"amount"`
		DaysPerTrip int32                `yaml:"days_per_trip"`
		DaysPerYear int32                `yaml:"days_per_year"`
		TripGapDays int32                `yaml:"trip_gap_days"`
	} `yaml:"out_of_area"`
	Origin struct {
		DaysPerYear int32 `yaml:"days_per_year"`
	} `yaml:"country_of_origin"`
	Groups           map[string]fileGroup `yaml:"groups"`
	Benefits         []fileBenefit        `yaml:"benefits"`
	TimelyFilingDays int32                `yaml:"timely_filing_days"`
}

type yamlMoney struct{ v claim.Money }

// UnmarshalYAML reads an amount from its text. Its errors are
// yaml.TypeErrors, which the decoder collects, so that one bad amount does
// not hide the file's other problems.
func (m *yamlMoney) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: expected an amount, found %s", n.Line, nodeKind(n))}}
	}
	v, err := claim.ParseMoney(n.Value)
	if err != nil {
		why := "is not a decimal amount"
		switch {
		case errors.Is(err, claim.ErrMoneyPrecision):
			why = "has more than 2 decimals"
		case errors.Is(err, claim.ErrMoneyRange):
			why = "is too large"
		}
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: amount %q %s", n.Line, n.Value, why)}}
	}
	m.v = v
	return nil
}

// yamlPercent is a percentage with up to two decimals, held in basis points.
type yamlPercent struct{ bp int64 }

// maxPercent bounds the percentages read exactly; a larger one reads as
// math.MaxInt64 basis points, which validation rejects.
var maxPercent = decimal.NewFromInt(1_000_000)

func (p *yamlPercent) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: expected a percentage, found %s", n.Line, nodeKind(n))}}
	}
	d, err := decimal.NewFromString(n.Value)
	if err != nil || d.Exponent() < -2 && !d.Equal(d.Round(2)) {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: percentage %q is not a number with at most 2 decimals", n.Line, n.Value)}}
	}
	if d.Abs().GreaterThan(maxPercent) {
		// IntPart would wrap past int64 (184467440737095517 would read as
		// 0.84 %); so large a value is outside every range the checks allow.
		p.bp = math.MaxInt64
		return nil
	}
	p.bp = d.Shift(2).IntPart()
	return nil
}

// Parse validates a plan from its YAML bytes; name is used in messages.
// Every problem is reported at once, with its line (a ValidationError); a
// file that is not YAML at all reports its first syntax error.
func Parse(name string, data []byte) (*Plan, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &ValidationError{File: name, Problems: []Problem{syntaxProblem(err)}}
	}
	v := validator{file: name, root: &root}
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			if errors.Is(err, io.EOF) {
				return nil, &ValidationError{File: name, Problems: []Problem{{Line: 1, Message: "the file is empty"}}}
			}
			return nil, &ValidationError{File: name, Problems: []Problem{syntaxProblem(err)}}
		}
		// The decoder went on past each of these: the rest is validated
		// too, with what did decode.
		for _, msg := range te.Errors {
			v.typeProblem(msg)
		}
	}
	sum := sha256.Sum256(data)
	p := &Plan{Name: f.Name, Source: name, SHA256: hex.EncodeToString(sum[:]), byCode: map[string]claim.BenefitID{}}
	if f.Name == "" {
		v.failf("name", "is missing")
	}
	if len(f.Currencies) == 0 {
		v.failf("currencies", "is missing")
	}
	for i, c := range f.Currencies {
		if len(c) != 3 || strings.ToUpper(c) != c {
			v.failf(fmt.Sprintf("currencies[%d]", i), "%q is not an ISO 4217 code", c)
		}
		for _, prev := range p.Currencies {
			if prev == c {
				v.failf(fmt.Sprintf("currencies[%d]", i), "%s is listed twice", c)
			}
		}
		p.Currencies = append(p.Currencies, c)
	}
	amounts := func(key string, m map[string]yamlMoney, required bool) Amounts {
		if m == nil {
			if required {
				v.failf(key, "is missing")
			}
			return nil
		}
		out := make(Amounts, len(p.Currencies))
		for i, c := range p.Currencies {
			a, ok := m[c]
			if !ok {
				v.failf(key, "missing currency %s", c)
				continue
			}
			if a.v < 0 {
				v.failf(key+"."+c, "negative amount %s", a.v)
			}
			out[i] = a.v
		}
		for _, c := range sortedKeys(m) {
			if p.CurrencyIndex(c) < 0 {
				v.failf(key+"."+c, "currency %s is not in currencies", c)
			}
		}
		return out
	}
	options := func(key string, m map[string][]yamlMoney) [][]claim.Money {
		if m == nil {
			return nil
		}
		out := make([][]claim.Money, len(p.Currencies))
		for i, c := range p.Currencies {
			list, ok := m[c]
			if !ok || len(list) == 0 {
				v.failf(key, "missing currency %s", c)
				continue
			}
			for j, a := range list {
				if a.v < 0 {
					v.failf(fmt.Sprintf("%s.%s[%d]", key, c, j), "negative amount %s", a.v)
				}
				out[i] = append(out[i], a.v)
			}
			sort.Slice(out[i], func(a, b int) bool { return out[i][a] < out[i][b] })
		}
		for _, c := range sortedKeys(m) {
			if p.CurrencyIndex(c) < 0 {
				v.failf(key+"."+c, "currency %s is not in currencies", c)
			}
		}
		return out
	}

	for _, name := range sortedKeys(f.Modules) {
		fm := f.Modules[name]
		mod, ok := claim.ParseModule(name)
		key := "modules." + name
		if !ok {
			v.failf(key, "unknown module %q (want core, outpatient or dental)", name)
			continue
		}
		m := &p.Modules[mod]
		m.Present = true
		m.AnnualMaximum = amounts(key+".annual_maximum", fm.AnnualMaximum, false)
		m.Deductibles = options(key+".deductible_options", fm.DeductibleOptions)
		m.OOPMaximums = options(key+".oop_maximum_options", fm.OOPMaximumOptions)
		for i, c := range fm.CoinsuranceOptions {
			if c.bp < 0 || c.bp > 10000 {
				v.failf(fmt.Sprintf("%s.coinsurance_options[%d]", key, i), "must be between 0 and 100")
			}
			m.Coinsurance = append(m.Coinsurance, c.bp)
		}
		sort.Slice(m.Coinsurance, func(a, b int) bool { return m.Coinsurance[a] < m.Coinsurance[b] })
	}
	if !p.Modules[claim.Core].Present {
		v.failf("modules.core", "is missing (core is mandatory)")
	}

	p.ConditionCap = amounts("per_condition_cap.amount", f.Condition.Amount, false)
	for i, name := range f.Condition.Modules {
		mod, ok := claim.ParseModule(name)
		if !ok {
			v.failf(fmt.Sprintf("per_condition_cap.modules[%d]", i), "unknown module %q", name)
			continue
		}
		p.ConditionCapModules = p.ConditionCapModules.With(mod)
	}
	p.OutOfAreaLimit = amounts("out_of_area.amount", f.OutOfArea.Amount, false)
	p.OutOfAreaDaysPerTrip = nonNegative(&v, "out_of_area.days_per_trip", f.OutOfArea.DaysPerTrip)
	p.OutOfAreaDaysPerYear = nonNegative(&v, "out_of_area.days_per_year", f.OutOfArea.DaysPerYear)
	p.TripGapDays = nonNegative(&v, "out_of_area.trip_gap_days", f.OutOfArea.TripGapDays)
	p.OriginDaysPerYear = nonNegative(&v, "country_of_origin.days_per_year", f.Origin.DaysPerYear)
	p.TimelyFilingDays = nonNegative(&v, "timely_filing_days", f.TimelyFilingDays)

	groupIndex := map[string]int{}
	for _, name := range sortedKeys(f.Groups) {
		fg := f.Groups[name]
		key := "groups." + name
		groupIndex[name] = len(p.Groups)
		p.Groups = append(p.Groups, Group{
			Name:  name,
			Limit: amounts(key+".limit", fg.Limit, false),
			Days:  nonNegative(&v, key+".days", fg.Days),
		})
	}

	for i, fb := range f.Benefits {
		key := fmt.Sprintf("benefits[%d]", i)
		if fb.Code != "" {
			key += " (" + fb.Code + ")"
		}
		b := Benefit{Code: fb.Code, Description: fb.Description, Group: -1, MinAge: -1, MaxAge: -1}
		if fb.Code == "" {
			v.failf(key+".code", "is missing")
		} else if _, dup := p.byCode[fb.Code]; dup {
			v.failf(key+".code", "%s is defined twice", fb.Code)
		}
		mod, ok := claim.ParseModule(fb.Module)
		switch {
		case !ok:
			v.failf(key+".module", "unknown module %q", fb.Module)
		case !p.Modules[mod].Present:
			v.failf(key+".module", "module %s is not defined under modules", fb.Module)
		}
		b.Module = mod
		if fb.Group != "" {
			g, ok := groupIndex[fb.Group]
			if !ok {
				v.failf(key+".group", "group %q is not defined under groups", fb.Group)
			}
			b.Group = g
			if !ok {
				b.Group = -1
			}
		}
		b.Limit = amounts(key+".limit", fb.Limit, false)
		switch fb.LimitPer {
		case "":
		case "item_code":
			b.LimitPerItem = true
			if b.Limit == nil {
				v.failf(key+".limit_per", "needs a limit")
			}
		default:
			v.failf(key+".limit_per", "unknown value %q (want item_code)", fb.LimitPer)
		}
		switch fb.Period {
		case "", "policy_year":
		case "lifetime":
			b.Period = Lifetime
			if b.Limit == nil {
				v.failf(key+".period", "needs a limit")
			}
		default:
			v.failf(key+".period", "unknown value %q (want policy_year or lifetime)", fb.Period)
		}
		b.PerLineLimit = amounts(key+".per_line_limit", fb.PerLineLimit, false)
		b.Days = nonNegative(&v, key+".days", fb.Days)
		b.LinesPerYear = nonNegative(&v, key+".lines_per_year", fb.LinesPerYear)
		b.CashPerUnit = amounts(key+".cash_per_unit", fb.CashPerUnit, false)
		if fb.MinAge != nil {
			b.MinAge = *fb.MinAge
			if b.MinAge < 0 {
				v.failf(key+".min_age", "must not be negative")
			}
		}
		if fb.MaxAge != nil {
			b.MaxAge = *fb.MaxAge
			if b.MaxAge < 0 {
				v.failf(key+".max_age", "must not be negative")
			}
		}
		b.WaitingMonths = fb.WaitingMonths
		if b.WaitingMonths < 0 {
			v.failf(key+".waiting_months", "must not be negative")
		}
		if fb.Reimbursement != nil {
			b.Reimbursement = fb.Reimbursement.bp
			if b.Reimbursement < 0 || b.Reimbursement > 10000 {
				v.failf(key+".reimbursement", "must be between 0 and 100")
			}
			if mod != claim.Dental {
				v.failf(key+".reimbursement", "only dental benefits have a reimbursement rate")
			}
		} else if mod == claim.Dental {
			v.failf(key+".reimbursement", "is missing (dental benefits need a reimbursement rate)")
		}
		if b.IsCash() && mod == claim.Dental {
			v.failf(key+".cash_per_unit", "a dental benefit cannot be a cash benefit")
		}
		if fb.Code != "" {
			p.byCode[fb.Code] = claim.BenefitID(len(p.Benefits))
		}
		p.Benefits = append(p.Benefits, b)
	}
	if len(p.Benefits) == 0 {
		v.failf("benefits", "is missing")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	p.codes = newCodeTable(p.byCode)
	return p, nil
}

func nonNegative(v *validator, key string, n int32) int32 {
	if n < 0 {
		v.failf(key, "must not be negative")
		return 0
	}
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// validator collects every problem so that one run of Load reports them all.
type validator struct {
	file     string
	root     *yaml.Node // the document, to find each key's line
	problems []Problem
}

func (v *validator) failf(key, format string, args ...any) {
	v.problems = append(v.problems, Problem{Line: lineOf(v.root, key), Key: key, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	// A value that did not decode (a type problem, without a key) is
	// missing to the checks after it: what they say about the same line
	// follows from it and would only add noise.
	typed := map[int]bool{}
	for _, p := range v.problems {
		if p.Key == "" && p.Line > 0 {
			typed[p.Line] = true
		}
	}
	problems := slices.DeleteFunc(v.problems, func(p Problem) bool { return p.Key != "" && typed[p.Line] })
	slices.SortStableFunc(problems, func(a, b Problem) int { return a.Line - b.Line })
	return &ValidationError{File: v.file, Problems: problems}
}
