package readers

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"claimsbatch/claim"
)

const stateHeader = "kind,member_id,scope,key,amount,count,detail\n"

func TestState(t *testing.T) {
	data := stateHeader +
		"META,,,run,0.00,0,abc123\n" +
		"YEAR,M1,2024-03-01,deductible,375.00,2,\n" +
		"DATES,M1,2024-03-01,OUT_OF_AREA,0.00,3,\"2024-04-01 2024-04-02,2024-04-03\"\n" +
		"LINE,M2,, C1 ,-12.50,,\n"
	want := []claim.StateRecord{
		{Kind: "META", Scope: claim.NoDate, Key: "run", Detail: "abc123"},
		{Kind: "YEAR", MemberID: "M1", Scope: mustDate(t, "2024-03-01"), Key: "deductible", Amount: 37500, Count: 2},
		{Kind: "DATES", MemberID: "M1", Scope: mustDate(t, "2024-03-01"), Key: "OUT_OF_AREA", Count: 3, Detail: "2024-04-01 2024-04-02,2024-04-03"},
		{Kind: "LINE", MemberID: "M2", Scope: claim.NoDate, Key: " C1 ", Amount: -1250},
	}
	got, err := ReadState(writeFile(t, "state.csv", []byte(data)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}

	cols := []arrowColumn{{"kind", arrow.BinaryTypes.String}, {"member_id", arrow.BinaryTypes.String},
		{"scope", arrow.FixedWidthTypes.Date32}, {"key", arrow.BinaryTypes.String},
		{"amount", &arrow.Decimal128Type{Precision: 18, Scale: 2}}, {"count", arrow.PrimitiveTypes.Int64}, {"detail", arrow.BinaryTypes.String}}
	rows := []map[string]string{
		{"kind": "META", "key": "run", "amount": "0", "count": "0", "detail": "abc123"},
		{"kind": "YEAR", "member_id": "M1", "scope": "2024-03-01", "key": "deductible", "amount": "375", "count": "2"},
		{"kind": "DATES", "member_id": "M1", "scope": "2024-03-01", "key": "OUT_OF_AREA", "amount": "0", "count": "3", "detail": "2024-04-01 2024-04-02,2024-04-03"},
		{"kind": "LINE", "member_id": "M2", "key": " C1 ", "amount": "-12.5"},
	}
	got, err = ReadState(writeFile(t, "state.parquet", writeArrow(t, cols, rows, 3)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parquet got  %+v\nwant %+v", got, want)
	}
}

func TestStateErrors(t *testing.T) {
	tests := []struct {
		name     string
		data     string
		sentinel error
		text     string
	}{
		{"missing column", "kind,member_id,scope,key,amount,count\n", ErrMissingColumn, "state.csv: column detail"},
		{"empty kind", stateHeader + "YEAR,M1,,k,0,0,\n,M1,,k,0,0,\n", ErrCorrupt, "state.csv: row 2: column kind: kind is empty"},
		{"bad scope", stateHeader + "YEAR,M1,2024-02-30,k,0,0,\n", ErrCorrupt, "state.csv: row 1: column scope: 2024-02-30 is not a valid YYYY-MM-DD date"},
		{"bad amount", stateHeader + "YEAR,M1,,k,1.234,0,\n", ErrCorrupt, "state.csv: row 1: column amount: amount 1.234 has more than 2 decimals"},
		{"bad count", stateHeader + "YEAR,M1,,k,1,x,\n", ErrCorrupt, "state.csv: row 1: column count: count x is not an integer"},
		{"field count", stateHeader + "YEAR,M1,,k,1,1\n", ErrCorrupt, "state.csv: row 1: record has 6 fields, the header has 7"},
		{"bad quoting", stateHeader + "YEAR,M1,,k,1,1,\"x\n", ErrCorrupt, "state.csv: row 1: column detail: parse error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadState(writeFile(t, "state.csv", []byte(tt.data)))
			if !errors.Is(err, tt.sentinel) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("err = %v; want %v containing %q", err, tt.sentinel, tt.text)
			}
		})
	}
}
