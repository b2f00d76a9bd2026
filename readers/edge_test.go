package readers

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// TestEdgeValues: FirstValue and LastValue of CSV (plain and gzip) and
// Parquet files.
func TestEdgeValues(t *testing.T) {
	known := func(v string) bool { return strings.HasPrefix(v, "M") }
	// n data rows: member M%05d for row i, and after them rows whose
	// member is not accepted.
	csvRows := func(n int, tail ...string) string {
		var b strings.Builder
		b.WriteString("\uFEFFclaim_id,member_id,note\n")
		for i := range n {
			fmt.Fprintf(&b, "C%d,M%05d,x\n", i, i)
		}
		for _, r := range tail {
			b.WriteString(r + "\n")
		}
		return b.String()
	}
	big := csvRows(20_000) // past the tail window
	if len(big) <= tailBytes {
		t.Fatalf("fixture of %d bytes does not pass the window", len(big))
	}
	cases := []struct {
		name, file, data, first, last string
	}{
		{"small", "a.csv", csvRows(3), "M00000", "M00002"},
		{"past the window", "b.csv", big, "M00000", "M19999"},
		{"no newline at the end", "c.csv", strings.TrimSuffix(csvRows(3), "\n"), "M00000", "M00002"},
		{"unknown members at the end", "d.csv", csvRows(3, "C9,X1,y", "C10, ,y", "C11"), "M00000", "M00002"},
		{"a quoted newline in the last record", "e.csv", csvRows(3, "C9,\"M9\nM8\",y"), "M00000", "M00002"},
		{"unknown members first", "j.csv", "claim_id,member_id\nC1,X\nC2,\nC3\nC4,\"M\n5\"\nC5,M6\n", "M\n5", "M6"},
		{"no such column", "f.csv", "claim_id,member\nC1,M1\n", "", ""},
		{"no rows", "g.csv", "claim_id,member_id\n", "", ""},
		{"spaces", "h.csv", "claim_id,member_id\nC1, M7 \n", "M7", "M7"},
		{"gzip: read from its start, not its end", "i.csv.gz", string(gzipBytes(t, []byte(csvRows(3)))), "M00000", ""},
		{"past the first rows looked at", "k.csv", csvRows(0, strings.Repeat("C,X,y\n", edgeRows)+"C,M1,y"), "", "M1"},
	}
	for _, c := range cases {
		path := writeFile(t, c.file, []byte(c.data))
		first, err := FirstValue(path, "member_id", known)
		if err != nil || first != c.first {
			t.Errorf("%s: first %q, %v; want %q", c.name, first, err, c.first)
		}
		last, err := LastValue(path, "member_id", known)
		if err != nil || last != c.last {
			t.Errorf("%s: last %q, %v; want %q", c.name, last, err, c.last)
		}
	}

	cols := []arrowColumn{{"claim_id", arrow.BinaryTypes.String}, {"member_id", arrow.BinaryTypes.String}, {"units", arrow.PrimitiveTypes.Int32}}
	var rows []map[string]string
	for i := range 1000 {
		rows = append(rows, map[string]string{"claim_id": fmt.Sprint("C", i), "member_id": fmt.Sprintf("M%05d", i), "units": "1"})
	}
	// Nulls and unknown members after the last accepted one.
	rows = append(rows, map[string]string{"claim_id": "C1000", "member_id": ""}, map[string]string{"claim_id": "C1001", "member_id": "X"})
	path := writeFile(t, "claims.parquet", writeArrow(t, cols, rows, 300)) // four row groups
	for _, c := range []struct{ column, first, last string }{{"member_id", "M00000", "M00999"}, {"claim_id", "", ""}, {"units", "", ""}, {"absent", "", ""}} {
		first, err := FirstValue(path, c.column, known)
		if err != nil || first != c.first {
			t.Errorf("parquet %s: first %q, %v; want %q", c.column, first, err, c.first)
		}
		last, err := LastValue(path, c.column, known)
		if err != nil || last != c.last {
			t.Errorf("parquet %s: last %q, %v; want %q", c.column, last, err, c.last)
		}
	}
	// One row group of many pages, read in several batches; the last
	// accepted value in an early batch, unknown ones after it.
	rows = rows[:0]
	for i := range 10_000 {
		id := fmt.Sprintf("M%05d", i)
		if i > 5000 {
			id = "X"
		}
		rows = append(rows, map[string]string{"claim_id": fmt.Sprint("C", i), "member_id": id, "units": "1"})
	}
	one := writeFile(t, "one-group.parquet", writeArrow(t, cols, rows, 1<<20))
	if got, err := LastValue(one, "member_id", known); err != nil || got != "M05000" {
		t.Errorf("one row group: got %q, %v; want M05000", got, err)
	}
	// The first accepted value past the first edgeRows is not looked for.
	for i := range edgeRows + 10 {
		rows[i]["member_id"] = "X"
	}
	late := writeFile(t, "late.parquet", writeArrow(t, cols, rows, 1<<20))
	if got, err := FirstValue(late, "member_id", known); err != nil || got != "" {
		t.Errorf("first past the rows looked at: got %q, %v; want none", got, err)
	}
	rows[edgeRows-1]["member_id"] = "M7"
	late = writeFile(t, "late2.parquet", writeArrow(t, cols, rows, 1<<20))
	if got, err := FirstValue(late, "member_id", known); err != nil || got != "M7" {
		t.Errorf("first at the last row looked at: got %q, %v; want M7", got, err)
	}
	broken := writeFile(t, "broken.parquet", []byte("PAR1 not parquet PAR1"))
	if _, err := LastValue(broken, "member_id", known); err == nil {
		t.Errorf("a broken Parquet file: no error")
	}
	if _, err := FirstValue(broken, "member_id", known); err == nil {
		t.Errorf("a broken Parquet file: no error from FirstValue")
	}
}
