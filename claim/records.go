package claim

import "github.com/shopspring/decimal"

// An FX rate has at most FXRateScale decimals and FXRateIntDigits digits
// before the point, so that every rate fits the remittance's Parquet
// fx_rate column, DECIMAL(38,18), exactly; the FX reader rejects others.
const (
	FXRateScale     = 18
	FXRateIntDigits = 20
)

// FXRate is one row of the FX file: one unit of Currency is worth Rate units
// of PlanCurrency from Date on (until a later row for the same pair).
type FXRate struct {
	Date         Date
	Currency     string
	PlanCurrency string
	Rate         decimal.Decimal // > 0
	Text         string          // the rate as written, echoed in the remittance fx_rate column
	Row          int64
}

// StateRecord is one row of the state file (SPEC section 7): a flat, typed
// record the engine writes at the end of a run and reads back with --state-in.
// The meaning of Key, Amount, Count and Detail depends on Kind (state.go
// documents each kind). Rows are written in a deterministic order.
type StateRecord struct {
	Kind     string // one of the Kind constants (state.go)
	MemberID string
	Scope    Date   // the policy year start, or NoDate for lifetime and run-level rows
	Key      string // what is accumulated: a limit name, a trip id, a claim id ...
	Amount   Money
	Count    int64
	Detail   string // free text: a list of dates, a provider id, a hash ...
}
