package synth

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"claimsbatch/claim"
)

// readParquetAsText reads a generated Parquet file back and renders each row
// the way the CSV writer would, header first, so the two can be compared.
// It also checks the physical types the brief asks for.
func readParquetAsText(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	sc := pf.MetaData().Schema
	for i := 0; i < sc.NumColumns(); i++ {
		col := sc.Column(i)
		want := "String"
		switch col.Name() {
		case "service_date", "service_end_date", "received_date", "coverage_start", "coverage_end", "date_of_birth", "date":
			want = "Date"
		case "billed_amount", "core_deductible", "core_oop_max", "outpatient_deductible", "outpatient_oop_max":
			want = "Decimal(precision=18, scale=2)"
		case "rate":
			want = "Decimal(precision=18, scale=6)"
		case "line_no", "units":
			want = "Int(bitWidth=32, isSigned=true)"
		}
		if got := col.LogicalType().String(); got != want {
			t.Errorf("%s: column %s has logical type %s, want %s", path, col.Name(), got, want)
		}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1 << 16}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()

	var header []string
	for _, fld := range tbl.Schema().Fields() {
		header = append(header, fld.Name)
	}
	rows := [][]string{header}
	n := int(tbl.NumRows())
	for i := 0; i < n; i++ {
		rows = append(rows, make([]string, len(header)))
	}
	for c := 0; c < int(tbl.NumCols()); c++ {
		row := 1
		for _, chunk := range tbl.Column(c).Data().Chunks() {
			for j := 0; j < chunk.Len(); j, row = j+1, row+1 {
				if chunk.IsNull(j) {
					continue
				}
				rows[row][c] = cellText(t, chunk, j)
			}
		}
	}
	return rows
}

func cellText(t *testing.T, a arrow.Array, j int) string {
	switch a := a.(type) {
	case *array.String:
		return a.Value(j)
	case *array.Int32:
		return strconv.Itoa(int(a.Value(j)))
	case *array.Date32:
		return claim.Date(a.Value(j)).String()
	case *array.Decimal128:
		v := a.Value(j)
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		if scale == 6 {
			return string(appendRate(nil, int64(v.LowBits())))
		}
		return claim.Money(int64(v.LowBits())).String()
	}
	t.Fatalf("unexpected column type %T", a)
	return ""
}
