package writers

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

var textCols = []TextColumn{
	{Name: "id", Kind: Text},
	{Name: "line_no", Kind: Integer},
	{Name: "from", Kind: Date},
	{Name: "to", Kind: OptionalDate},
	{Name: "amount", Kind: Amount},
}

func TestTextTableCSV(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewTextTableWriter(&buf, CSV, "claims", textCols)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range [][]string{
		{"A,1", "1", "2024-01-31", "", "10.00"},
		{"B", "2", "2024-02-29", "2024-03-01", "0.05"},
	} {
		if err := w.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := "id,line_no,from,to,amount\n\"A,1\",1,2024-01-31,,10.00\nB,2,2024-02-29,2024-03-01,0.05\n"
	if buf.String() != want || w.Rows() != 2 {
		t.Errorf("CSV %q (%d rows), want %q", buf.String(), w.Rows(), want)
	}
}

func TestTextTableParquetTypes(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewTextTableWriter(&buf, Parquet, "claims", textCols)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range [][]string{
		{"A", "1", "1970-01-02", "", "10.00"},
		{"B", "7", "1970-01-01", "1970-01-11", "-0.05"},
	} {
		if err := w.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	schema := textSchema(textCols)
	got := readWithXitongsys(t, buf.Bytes(), schema)
	want := "[[A 1 1 <nil> 1000] [B 7 0 10 -5]]"
	if s := fmt.Sprint(got); s != want {
		t.Errorf("Parquet rows %s, want %s", s, want)
	}
}

func TestTextTableRejectsBadValues(t *testing.T) {
	for _, tc := range []struct {
		row  []string
		want string
	}{
		{[]string{"A", "x", "2024-01-01", "", "1"}, `column line_no: "x" is not an integer`},
		{[]string{"A", "1", "", "", "1"}, `column from: "" is not a YYYY-MM-DD date`},
		{[]string{"A", "1", "2024-01-01", "20240101", "1"}, `column to: "20240101" is not a YYYY-MM-DD date`},
		{[]string{"A", "1", "2024-01-01", "", "1.234"}, `column amount: "1.234"`},
		{[]string{"A", "1"}, "row has 2 values, the table 5 columns"},
	} {
		w, err := NewTextTableWriter(&bytes.Buffer{}, Parquet, "claims", textCols)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(tc.row); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Write(%q) = %v, want an error containing %q", tc.row, err, tc.want)
		}
		w.Close()
	}
}
