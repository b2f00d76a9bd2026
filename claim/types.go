package claim

import (
	"cmp"
	"strings"
)

// BenefitID indexes a benefit in the plan's benefit table (plan.Plan.Benefits).
type BenefitID int16

// Module is one of the plan's modules.
type Module uint8

// The modules of the Close Care plan. The zero value is not a module.
const (
	Core Module = iota + 1
	Outpatient
	Dental
)

// String returns the module's name as written in files: core, outpatient, dental.
func (m Module) String() string {
	switch m {
	case Core:
		return "core"
	case Outpatient:
		return "outpatient"
	case Dental:
		return "dental"
	}
	return ""
}

// ParseModule returns the module named s, or 0 and false.
func ParseModule(s string) (Module, bool) {
	switch s {
	case "core":
		return Core, true
	case "outpatient":
		return Outpatient, true
	case "dental":
		return Dental, true
	}
	return 0, false
}

// ModuleSet is a set of modules, bit (1 << Module).
type ModuleSet uint8

// Has reports whether m is in the set.
func (s ModuleSet) Has(m Module) bool { return s&(1<<m) != 0 }

// With returns the set plus m.
func (s ModuleSet) With(m Module) ModuleSet { return s | 1<<m }

// PayeeType says who receives the plan's payment for a line.
type PayeeType uint8

// Payee types. The zero value means "not given" (the reader's default applies).
const (
	PayeeProvider PayeeType = iota + 1
	PayeeMember
)

// String returns "provider" or "member".
func (p PayeeType) String() string {
	switch p {
	case PayeeProvider:
		return "provider"
	case PayeeMember:
		return "member"
	}
	return ""
}

// Line is one claim line as read and validated. Strings point into memory the
// reader hands over with the line; the line owns them from then on.
type Line struct {
	ClaimID        string
	LineNo         int32
	MemberID       string
	ServiceDate    Date
	ServiceEndDate Date // = ServiceDate when not given
	ReceivedDate   Date // = ServiceDate when not given
	BenefitCode    string
	Benefit        BenefitID // resolved from BenefitCode by the reader
	Diagnosis      string    // as given; "" when absent
	// DiagnosisSystem is the code system of Diagnosis (ICD10 when not given).
	DiagnosisSystem DiagnosisSystem
	// Condition keys the per-condition cap: for ICD-10 the category (first
	// three characters, upper case, dot removed, e.g. "C50"); for the other
	// systems the system's name, a colon and its condition (ICD-9 "ICD9:250",
	// "ICD9:E880", "ICD9:V04"; SNOMED "SNOMED:195967001"; OTHER "OTHER:X1").
	// ICD-10 categories carry no prefix, as in state files before version 3.
	// "" when there is no diagnosis.
	Condition     string
	ProcedureCode string // procedure, service or drug code as written (CPT, HCPCS, SNOMED, local); "" when absent
	ItemCode      string
	Country       string // ISO 3166-1 alpha-2, upper case
	Emergency     bool
	TripID        string
	ProviderID    string
	Payee         PayeeType // defaulted by the reader: provider when ProviderID is set, else member
	Currency      string    // ISO 4217 of Billed
	Billed        Money     // in Currency
	Units         int32     // ≥ 1

	// Set by the pipeline before adjudication.
	Charge       Money  // Billed converted to the plan currency (ignored for cash benefits)
	FXRate       string // the rate used, as written in the FX file; "1" when no conversion
	PlanCurrency string

	// Where the line came from, for exceptions and input-order tie breaks.
	Source int32 // index of the input file in the run's --claims list
	Row    int64 // data record number in that file, from 1
}

// DiagnosisSystem is the code system of a line's diagnosis_code (SPEC 3.1,
// version 2). The zero value is ICD10, the default.
type DiagnosisSystem uint8

// Diagnosis systems.
const (
	ICD10 DiagnosisSystem = iota
	ICD9
	SNOMED
	OtherSystem
)

var diagnosisSystemNames = [...]string{"ICD10", "ICD9", "SNOMED", "OTHER"}

// String returns the system as written in files: ICD10, ICD9, SNOMED, OTHER.
func (s DiagnosisSystem) String() string {
	if int(s) < len(diagnosisSystemNames) {
		return diagnosisSystemNames[s]
	}
	return ""
}

// ParseDiagnosisSystem reads a diagnosis_system value; "" is ICD10.
func ParseDiagnosisSystem(s string) (DiagnosisSystem, bool) {
	if s == "" {
		return ICD10, true
	}
	for i, name := range diagnosisSystemNames {
		if s == name {
			return DiagnosisSystem(i), true
		}
	}
	return 0, false
}

// Compare orders lines as the SPEC adjudicates them within one member:
// (service_date, received_date, claim_id, line_no), then input order for
// exact ties (which only DUPLICATE_LINE rejects, so ties never reach the
// engine). It returns -1, 0 or +1, for slices.SortFunc.
func Compare(a, b *Line) int {
	if c := cmp.Compare(a.ServiceDate, b.ServiceDate); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ReceivedDate, b.ReceivedDate); c != 0 {
		return c
	}
	if c := strings.Compare(a.ClaimID, b.ClaimID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.LineNo, b.LineNo); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Source, b.Source); c != 0 {
		return c
	}
	return cmp.Compare(a.Row, b.Row)
}

// Less reports whether a comes before b in Compare's order.
func Less(a, b *Line) bool { return Compare(a, b) < 0 }

// Span is one coverage span of a member, with the member's cost-share options
// resolved against the plan (defaults filled in, values checked).
type Span struct {
	MemberID     string
	PolicyID     string
	Start        Date
	End          Date // inclusive; OpenEnd when open
	DateOfBirth  Date
	Residence    string
	Origin       string
	USCover      bool
	PlanCurrency string
	Modules      ModuleSet

	CoreDeductible   Money
	CoreCoinsurance  int64 // basis points: 20 % = 2000
	CoreOOPMax       Money
	OutpatientDeduct Money
	OutpatientCoins  int64 // basis points
	OutpatientOOPMax Money

	Source int32 // index of the members file (always 0 today)
	Row    int64 // data record number in the members file
}

// CurrencySpan returns the index of the span whose plan currency and policy
// apply to a line served on date d: the span that contains d, else the last
// span that starts before d, else the first span. spans must be sorted by
// start and non-empty. The pipeline prices lines with it; the engine labels
// the lines no span covers with it.
func CurrencySpan(spans []Span, d Date) int {
	best := 0
	for i := range spans {
		if spans[i].Start > d {
			break
		}
		best = i
	}
	return best
}

// RawSpan is a members-file row as parsed, before the plan's options are
// applied. Optional numeric columns that were empty hold -1.
type RawSpan struct {
	Span
	// Given options; -1 = column empty (use the plan's default).
	CoreDeductibleGiven   Money
	CoreCoinsGiven        int64
	CoreOOPMaxGiven       Money
	OutpatientDeductGiven Money
	OutpatientCoinsGiven  int64
	OutpatientOOPMaxGiven Money

	Raw string // the row as read, for exceptions the pipeline raises on it
}

// Status of an adjudicated line (SPEC section 5).
type Status uint8

// Statuses.
const (
	StatusPaid Status = iota
	StatusPartial
	StatusDenied
	StatusMemberPaid
)

// String returns the status as written in the remittance file.
func (s Status) String() string {
	switch s {
	case StatusPaid:
		return "PAID"
	case StatusPartial:
		return "PARTIAL"
	case StatusDenied:
		return "DENIED"
	case StatusMemberPaid:
		return "MEMBER_PAID"
	}
	return ""
}

// Reason is a claim adjustment reason code (CARC) with its group, in the order
// the adjustments column lists them: PR-1, PR-2, then by code number.
type Reason uint8

// Reason codes used by the engine.
const (
	PR1   Reason = iota // deductible
	PR2                 // coinsurance (and the member's share of dental)
	PR6                 // age rule not met
	OA18                // duplicate service
	PR26                // service before coverage
	PR27                // service after coverage ended or in a gap
	PR29                // the time limit for filing has expired (the plan's timely_filing_days)
	PR35                // lifetime benefit maximum reached
	PR96                // not covered: outside area of cover
	PR119               // benefit maximum reached (amount, days or count)
	PR179               // waiting period not met
	PR204               // service not covered by the member's modules
	NumReasons
)

var reasonNames = [NumReasons]string{"PR-1", "PR-2", "PR-6", "OA-18", "PR-26", "PR-27", "PR-29", "PR-35", "PR-96", "PR-119", "PR-179", "PR-204"}

// String returns the code as written: "PR-119", "OA-18".
func (r Reason) String() string {
	if r < NumReasons {
		return reasonNames[r]
	}
	return ""
}

// Adjustments holds one amount per reason code; zero entries are left out of
// the written form.
type Adjustments [NumReasons]Money

// AppendTo appends the SPEC's adjustments form, e.g. "PR-1:375.00 PR-2:165.00".
func (a *Adjustments) AppendTo(b []byte) []byte {
	return a.AppendWith(b, func(b []byte, m Money) []byte { return m.AppendTo(b) })
}

// AppendWith is AppendTo with each amount appended by appendMoney, which
// must append Money.AppendTo's form (a writer's own, faster formatting).
func (a *Adjustments) AppendWith(b []byte, appendMoney func([]byte, Money) []byte) []byte {
	first := true
	for r, amt := range a {
		if amt == 0 {
			continue
		}
		if !first {
			b = append(b, ' ')
		}
		first = false
		b = append(b, reasonNames[r]...)
		b = append(b, ':')
		b = appendMoney(b, amt)
	}
	return b
}

// String returns the adjustments form.
func (a *Adjustments) String() string { return string(a.AppendTo(nil)) }

// Result is one adjudicated line. It points at its Line; the identity
// Charge = PlanPaid + Deductible + Coinsurance + NotCovered always holds.
type Result struct {
	Line            *Line
	PolicyID        string
	PolicyYearStart Date // NoDate when the service date is outside every span
	Module          Module
	Charge          Money
	Deductible      Money
	Coinsurance     Money
	NotCovered      Money
	PlanPaid        Money
	Status          Status
	Adjustments     Adjustments
	Remark          string // why money was not covered, in words; "" when fully paid
}

// MemberResponsibility is deductible + coinsurance + not covered.
func (r *Result) MemberResponsibility() Money { return r.Deductible + r.Coinsurance + r.NotCovered }

// PayeeID is the provider id for provider payees and the member id otherwise.
func (r *Result) PayeeID() string {
	if r.Line.Payee == PayeeProvider {
		return r.Line.ProviderID
	}
	return r.Line.MemberID
}

// ExceptionCode is the SPEC section 7 code of a row that was not adjudicated.
type ExceptionCode string

// Exception codes in the order a claim row is checked.
const (
	ParseError     ExceptionCode = "PARSE_ERROR"
	MissingField   ExceptionCode = "MISSING_FIELD"
	InvalidValue   ExceptionCode = "INVALID_VALUE"
	UnknownBenefit ExceptionCode = "UNKNOWN_BENEFIT"
	UnknownMember  ExceptionCode = "UNKNOWN_MEMBER"
	InvalidMember  ExceptionCode = "INVALID_MEMBER"
	NoFXRate       ExceptionCode = "NO_FX_RATE"
	DuplicateLine  ExceptionCode = "DUPLICATE_LINE"
)

// Exception is one input row that was not adjudicated (or a bad members or
// FX row). Source is the input file's base name; Row counts data records from 1.
type Exception struct {
	Source   string
	SourceNo int32 // order of the file in the run, for sorting
	Row      int64
	ClaimID  string
	LineNo   string // as read (it may be what failed to parse)
	MemberID string
	Code     ExceptionCode
	Field    string
	Message  string
	Raw      string
}
