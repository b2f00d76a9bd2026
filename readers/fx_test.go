package readers

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"claimsbatch/claim"
)

func TestFX(t *testing.T) {
	good := "2024-01-01,usd,EUR,0.9123"
	tests := []struct {
		name    string
		row     string
		field   string
		code    claim.ExceptionCode
		message string
	}{
		{"date empty", ",USD,EUR,0.9", "date", claim.MissingField, "date is empty"},
		{"rate empty", "2024-01-01,USD,EUR, ", "rate", claim.MissingField, "rate is empty"},
		{"date bad", "2024-13-01,USD,EUR,0.9", "date", claim.InvalidValue, "date 2024-13-01 is not a valid YYYY-MM-DD date"},
		{"currency bad", "2024-01-01,US$,EUR,0.9", "currency", claim.InvalidValue, "currency US$ is not 3 ASCII letters"},
		{"plan_currency bad", "2024-01-01,USD,E,0.9", "plan_currency", claim.InvalidValue, "plan_currency E is not 3 ASCII letters"},
		{"rate text", "2024-01-01,USD,EUR,abc", "rate", claim.InvalidValue, "rate abc is not a decimal number"},
		{"rate zero", "2024-01-01,USD,EUR,0.000", "rate", claim.InvalidValue, "rate 0.000 is not greater than 0"},
		// Issue 12, finding 7: dates outside 1900-01-01..2199-12-31; finding
		// 9: a rate must fit the remittance's fx_rate DECIMAL(38,18).
		{"date in 9999", "9999-01-01,USD,EUR,0.9", "date", claim.InvalidValue, "date 9999-01-01 is outside 1900-01-01..2199-12-31"},
		{"date in year 1", "0001-01-01,USD,EUR,0.9", "date", claim.InvalidValue, "date 0001-01-01 is outside 1900-01-01..2199-12-31"},
		{"rate 19 decimals", "2024-01-01,USD,EUR,0.9123456789012345678", "rate", claim.InvalidValue, "rate 0.9123456789012345678 has more than 18 decimals"},
		{"rate too large", "2024-01-01,USD,EUR,100000000000000000000", "rate", claim.InvalidValue, "rate 100000000000000000000 has more than 20 digits before the decimal point"},
		{"rate negative", "2024-01-01,USD,EUR,-1.2", "rate", claim.InvalidValue, "rate -1.2 is not greater than 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := "rate,plan_currency,currency,date,source\n" + reorderFX(good) + "\n" + reorderFX(tt.row) + "\n"
			rates, exceptions, rows, err := ReadFX(writeFile(t, "fx.csv", []byte(data)))
			if err != nil || rows != 2 || len(rates) != 1 || len(exceptions) != 1 {
				t.Fatalf("err %v, rows %d, rates %+v, exceptions %+v", err, rows, rates, exceptions)
			}
			want := claim.Exception{Source: "fx.csv", Row: 2, Code: tt.code, Field: tt.field, Message: tt.message, Raw: reorderFX(tt.row)}
			if exceptions[0] != want {
				t.Errorf("exception\n got %+v\nwant %+v", exceptions[0], want)
			}
			r := rates[0]
			if r.Date != mustDate(t, "2024-01-01") || r.Currency != "USD" || r.PlanCurrency != "EUR" || r.Text != "0.9123" || r.Rate.String() != "0.9123" || r.Row != 1 {
				t.Errorf("rate %+v", r)
			}
		})
	}
}

// reorderFX turns "date,currency,plan_currency,rate" into the test file's
// column order "rate,plan_currency,currency,date,source".
func reorderFX(row string) string {
	f := strings.Split(row, ",")
	return f[3] + "," + f[2] + "," + f[1] + "," + f[0] + ",ecb"
}

func TestFXParquet(t *testing.T) {
	input := []map[string]string{
		{"date": "2024-01-01", "currency": "USD", "plan_currency": "EUR", "rate": "0.912300", "rate2": "0.9123"},
		{"date": "2024-01-02", "currency": "GBP", "plan_currency": "EUR", "rate": "1.150000", "rate2": "1.15"},
		{"date": "2024-01-03", "currency": "CHF", "plan_currency": "EUR", "rate": "0.000000", "rate2": "0"},
	}
	for _, tt := range []struct {
		name  string
		typ   arrow.DataType
		texts []string
	}{
		{"decimal", &arrow.Decimal128Type{Precision: 12, Scale: 6}, []string{"0.912300", "1.150000"}},
		{"double", arrow.PrimitiveTypes.Float64, []string{"0.9123", "1.15"}},
		{"string", arrow.BinaryTypes.String, []string{"0.912300", "1.150000"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cols := []arrowColumn{{"date", arrow.FixedWidthTypes.Date32}, {"currency", arrow.BinaryTypes.String},
				{"plan_currency", arrow.BinaryTypes.String}, {"rate", tt.typ}}
			rates, exceptions, rows, err := ReadFX(writeFile(t, "fx.parquet", writeArrow(t, cols, input, 2)))
			if err != nil || rows != 3 || len(rates) != 2 || len(exceptions) != 1 {
				t.Fatalf("err %v, rows %d, rates %+v, exceptions %+v", err, rows, rates, exceptions)
			}
			for i, r := range rates {
				if r.Text != tt.texts[i] || r.Rate.String() != input[i]["rate2"] {
					t.Errorf("rate %d: text %q value %s", i, r.Text, r.Rate)
				}
			}
			if e := exceptions[0]; e.Field != "rate" || e.Code != claim.InvalidValue || e.Row != 3 {
				t.Errorf("exception %+v", e)
			}
		})
	}
	_, _, _, err := ReadFX(writeFile(t, "fx.parquet", writeArrow(t, []arrowColumn{{"date", arrow.PrimitiveTypes.Int64},
		{"currency", arrow.BinaryTypes.String}, {"plan_currency", arrow.BinaryTypes.String}, {"rate", arrow.BinaryTypes.String}},
		[]map[string]string{{"date": "20240101", "currency": "USD", "plan_currency": "EUR", "rate": "1"}}, 2)))
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "column date") {
		t.Errorf("int64 date column: err = %v", err)
	}
}
