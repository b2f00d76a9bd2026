package readers

import (
	"github.com/shopspring/decimal"

	"claimsbatch/claim"
)

// The FX columns (SPEC 3.3), in the order the checks run.
const (
	fxDate = iota
	fxCurrency
	fxPlanCurrency
	fxRate
	numFXColumns
)

var fxColumns = [numFXColumns]column{
	fxDate:         {"date", kindDate, true},
	fxCurrency:     {"currency", kindString, true},
	fxPlanCurrency: {"plan_currency", kindString, true},
	fxRate:         {"rate", kindDecimal, true},
}

// ReadFX reads a whole FX-rate file (.csv, .csv.gz or .parquet). Like the
// members file it is a small dimension table the pipeline needs in full, so
// it is loaded rather than streamed.
//
// A good row becomes an FXRate whose Text is the rate as written (trimmed;
// for a Parquet DECIMAL its plain decimal form with the column's scale, for a
// Parquet double the shortest decimal that reads back as the same double).
// A bad row (a missing field, a bad date or one outside 1900-01-01 to
// 2199-12-31, a bad currency code, a rate that is not a decimal, not > 0, or
// with more than claim.FXRateScale decimals or claim.FXRateIntDigits digits
// before the point) becomes an exception with SourceNo 0.
// err wraps ErrOpen, ErrFormat, ErrMissingColumn or ErrCorrupt.
func ReadFX(path string) (rates []claim.FXRate, exceptions []claim.Exception, rows int64, err error) {
	t, err := openTable(path, fxColumns[:], Options{})
	if err != nil {
		return nil, nil, 0, err
	}
	return readFX(t)
}

func readFX(t *table) (rates []claim.FXRate, exceptions []claim.Exception, rows int64, err error) {
	return readWhole(t, 0, -1, func(in *interner, rec []string, rate *claim.FXRate) rowCheck {
		return parseFX(t, in, rec, rate)
	})
}

// maxRate is the first rate too large for the fx_rate column.
var maxRate = decimal.New(1, claim.FXRateIntDigits)

func parseFX(t *table, in *interner, rec []string, rate *claim.FXRate) rowCheck {
	var f [numFXColumns]string
	for c := range f {
		f[c] = t.field(rec, c)
	}
	for c := range f {
		if f[c] == "" {
			return missing(fxColumns[c].name)
		}
	}
	date, check := dateCheck("date", f[fxDate])
	if check.code != "" {
		return check
	}
	currency, check := in.codeCheck("currency", f[fxCurrency], 3)
	if check.code != "" {
		return check
	}
	plan, check := in.codeCheck("plan_currency", f[fxPlanCurrency], 3)
	if check.code != "" {
		return check
	}
	value, err := decimal.NewFromString(f[fxRate])
	if err != nil {
		return invalid("rate", "rate %s is not a decimal number", shorten(f[fxRate]))
	}
	if value.Sign() <= 0 {
		return invalid("rate", "rate %s is not greater than 0", shorten(f[fxRate]))
	}
	if !value.Equal(value.Truncate(claim.FXRateScale)) {
		return invalid("rate", "rate %s has more than %d decimals", shorten(f[fxRate]), claim.FXRateScale)
	}
	if value.GreaterThanOrEqual(maxRate) {
		return invalid("rate", "rate %s has more than %d digits before the decimal point", shorten(f[fxRate]), claim.FXRateIntDigits)
	}
	*rate = claim.FXRate{Date: date, Currency: currency, PlanCurrency: plan, Rate: value, Text: f[fxRate], Row: t.rows}
	return rowCheck{}
}
