package explain

import (
	"encoding/json"
	"io"

	"claimsbatch/engine"
)

// Report is what explain found for one claim (or one line) of a run: the
// member's lines in SPEC order up to and including the asked ones, each with
// the steps that applied, the accumulators it touched and its remittance
// values, checked against the published row. Its JSON form (WriteJSON) is
// stable: fields in this order, amounts as strings with two decimals, counts
// as strings too where an accumulator may hold either.
type Report struct {
	RunID    string   `json:"run_id"`
	Plan     PlanInfo `json:"plan"`
	AsOf     string   `json:"as_of"` // the run's as-of date; "" when it has none
	ClaimID  string   `json:"claim_id"`
	LineNo   int32    `json:"line_no,omitempty"` // 0: every line of the claim
	MemberID string   `json:"member_id,omitempty"`
	// StateIn is the run's --state-in, whose records for the member are
	// the starting point of the accumulators; nil without one.
	StateIn *StateInfo `json:"state_in,omitempty"`
	// Lines are the member's lines from the first up to and including the
	// last asked one, in SPEC order (service_date, received_date, claim_id,
	// line_no).
	Lines []Line `json:"lines"`
	// NotAdjudicated are the claim's rows (or the asked row) that the run
	// turned into exceptions, from its exceptions file.
	NotAdjudicated []Rejected `json:"not_adjudicated"`
	// NotReproduced are the published remittance rows of the member that
	// the re-adjudication has no line for (the run accepted a line that
	// explain, reading the same inputs, did not): a mismatch.
	NotReproduced []PublishedRow `json:"not_reproduced"`
	// Matches is true when every line's remittance values equal the
	// published remittance row's, and every published row of the member is
	// reproduced.
	Matches bool `json:"matches_published"`
}

// PublishedRow names a row of the published remittance.
type PublishedRow struct {
	Row     int64  `json:"row"`
	ClaimID string `json:"claim_id"`
	LineNo  string `json:"line_no"`
}

// PlanInfo is the plan the run used.
type PlanInfo struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// StateInfo is the run's --state-in and what it held for the member.
type StateInfo struct {
	Path    string `json:"path"`
	Records int    `json:"member_records"` // the member's records, LINE rows included
}

// Line is one adjudicated line of the member.
type Line struct {
	ClaimID string `json:"claim_id"`
	LineNo  int32  `json:"line_no"`
	Asked   bool   `json:"asked"` // a line of the asked claim (and line)
	Source  string `json:"source"`
	Row     int64  `json:"row"`

	ServiceDate    string `json:"service_date"`
	ServiceEndDate string `json:"service_end_date"`
	ReceivedDate   string `json:"received_date"`
	BenefitCode    string `json:"benefit_code"`
	Module         string `json:"module"`
	Country        string `json:"country"`
	Emergency      bool   `json:"emergency"`
	TripID         string `json:"trip_id,omitempty"`
	Condition      string `json:"condition,omitempty"`
	ItemCode       string `json:"item_code,omitempty"`
	ProviderID     string `json:"provider_id,omitempty"`
	ProcedureCode  string `json:"procedure_code,omitempty"`
	Units          int32  `json:"units"`
	Billed         string `json:"billed_amount"`
	BilledCurrency string `json:"billed_currency"`
	PlanCurrency   string `json:"plan_currency"`
	FXRate         string `json:"fx_rate"`

	Steps        []Step        `json:"steps"`
	Accumulators []Accumulator `json:"accumulators"`
	Remittance   Remittance    `json:"remittance"`
	Published    Published     `json:"published"`
}

// Step is one step of SPEC section 5 for a line (engine.StepTrace).
type Step struct {
	Step    int    `json:"step"`
	Name    string `json:"name"`
	Outcome string `json:"outcome"` // passed, denied, applied, not applicable
	Detail  string `json:"detail,omitempty"`
	Reason  string `json:"reason,omitempty"` // of a denial or a cut
	Remark  string `json:"remark,omitempty"`
	Cut     string `json:"cut,omitempty"`
	// Amount is the step's result (see engine.StepTrace.Amount).
	Amount      string `json:"amount,omitempty"`
	Deductible  string `json:"deductible,omitempty"`
	Coinsurance string `json:"coinsurance,omitempty"`
	Covered     int64  `json:"covered,omitempty"` // step 7: units or dates covered ...
	Of          int64  `json:"of,omitempty"`      // ... of the line's

	trace engine.StepTrace
}

// Accumulator is one accumulator a line touched (engine.AccTrace).
type Accumulator struct {
	Step    int    `json:"step"`
	Kind    string `json:"kind"`
	Label   string `json:"label"`
	Subject string `json:"subject,omitempty"`
	Key     string `json:"key,omitempty"`
	Unit    string `json:"unit"` // amount, units, dates or lines
	Before  string `json:"before"`
	After   string `json:"after"`
	Limit   string `json:"limit"`
	Reason  string `json:"reason,omitempty"`
	Cut     string `json:"cut,omitempty"`

	trace engine.AccTrace
}

// Remittance is the line's remittance values as re-adjudicated.
type Remittance struct {
	PolicyID             string `json:"policy_id"`
	PolicyYearStart      string `json:"policy_year_start"`
	Charge               string `json:"charge"`
	Deductible           string `json:"deductible"`
	Coinsurance          string `json:"coinsurance"`
	NotCovered           string `json:"not_covered"`
	PlanPaid             string `json:"plan_paid"`
	MemberResponsibility string `json:"member_responsibility"`
	Status               string `json:"status"`
	Adjustments          string `json:"adjustments"`
	Remark               string `json:"remark"`
}

// Published is the check of a line against the published remittance.
type Published struct {
	Row         int64        `json:"row"` // data row of the remittance file; 0 when the run has none for the line
	Matches     bool         `json:"matches"`
	Differences []Difference `json:"differences"`
}

// Difference is one remittance column whose published value differs from
// the re-adjudicated one.
type Difference struct {
	Column    string `json:"column"`
	Published string `json:"published"`
	Explained string `json:"explained"`
}

// Rejected is a row of the claim that the run did not adjudicate.
type Rejected struct {
	Source  string `json:"source"`
	Row     int64  `json:"row"`
	LineNo  string `json:"line_no"`
	Code    string `json:"code"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// WriteJSON writes the report as indented JSON ending in a newline.
func (r *Report) WriteJSON(w io.Writer) error {
	c := *r
	if c.Lines == nil {
		c.Lines = []Line{}
	}
	if c.NotAdjudicated == nil {
		c.NotAdjudicated = []Rejected{}
	}
	if c.NotReproduced == nil {
		c.NotReproduced = []PublishedRow{}
	}
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
