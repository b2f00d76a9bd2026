package importer

import (
	"claimsbatch/writers"
)

// target is one file the import writes for `claimsbatch run`: claims, members
// or fx, with the columns of SPEC section 3 in the SPEC's order.
type target struct {
	name    string // claims, members, fx: the YAML key and the output file's stem
	columns []targetColumn
}

type targetColumn struct {
	name     string
	kind     writers.ColumnKind
	required bool
	positive bool // an integer >= 1 when given (line_no, units)
	nonNeg   bool // an amount >= 0 (billed_amount)
}

func (t *target) column(name string) int {
	for i, c := range t.columns {
		if c.name == name {
			return i
		}
	}
	return -1
}

func (t *target) names() []string {
	out := make([]string, len(t.columns))
	for i, c := range t.columns {
		out[i] = c.name
	}
	return out
}

func (t *target) textColumns() []writers.TextColumn {
	out := make([]writers.TextColumn, len(t.columns))
	for i, c := range t.columns {
		out[i] = writers.TextColumn{Name: c.name, Kind: c.kind}
	}
	return out
}

var (
	claimsTarget = &target{name: "claims", columns: []targetColumn{
		{name: "claim_id", required: true},
		{name: "line_no", kind: writers.Integer, required: true, positive: true},
		{name: "member_id", required: true},
		{name: "service_date", kind: writers.Date, required: true},
		{name: "service_end_date", kind: writers.OptionalDate},
		{name: "received_date", kind: writers.OptionalDate},
		{name: "benefit_code", required: true},
		{name: "diagnosis_code"},
		{name: "diagnosis_system"},
		{name: "procedure_code"},
		{name: "item_code"},
		{name: "country", required: true},
		{name: "emergency"},
		{name: "trip_id"},
		{name: "provider_id"},
		{name: "payee"},
		{name: "currency", required: true},
		{name: "billed_amount", kind: writers.Amount, required: true, nonNeg: true},
		{name: "units", positive: true},
	}}
	membersTarget = &target{name: "members", columns: []targetColumn{
		{name: "member_id", required: true},
		{name: "policy_id", required: true},
		{name: "coverage_start", kind: writers.Date, required: true},
		{name: "coverage_end", kind: writers.OptionalDate},
		{name: "date_of_birth", kind: writers.Date, required: true},
		{name: "residence_country", required: true},
		{name: "origin_country", required: true},
		{name: "us_cover"},
		{name: "plan_currency", required: true},
		{name: "modules", required: true},
		{name: "core_deductible"},
		{name: "core_coinsurance"},
		{name: "core_oop_max"},
		{name: "outpatient_deductible"},
		{name: "outpatient_coinsurance"},
		{name: "outpatient_oop_max"},
	}}
	fxTarget = &target{name: "fx", columns: []targetColumn{
		{name: "date", kind: writers.Date, required: true},
		{name: "currency", required: true},
		{name: "plan_currency", required: true},
		{name: "rate", required: true},
	}}
	targets = []*target{claimsTarget, membersTarget, fxTarget}
)
