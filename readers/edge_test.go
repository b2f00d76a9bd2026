package readers

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestLastValue(t *testing.T) {
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
		name, file, data, want string
	}{
		{"small", "a.csv", csvRows(3), "M00002"},
		{"past the window", "b.csv", big, "M19999"},
		{"no newline at the end", "c.csv", strings.TrimSuffix(csvRows(3), "\n"), "M00002"},
		{"unknown members at the end", "d.csv", csvRows(3, "C9,X1,y", "C10, ,y", "C11"), "M00002"},
		{"a quoted newline in the last record", "e.csv", csvRows(3, "C9,\"M9\nM8\",y"), "M00002"},
		{"no such column", "f.csv", "claim_id,member\nC1,M1\n", ""},
		{"no rows", "g.csv", "claim_id,member_id\n", ""},
		{"spaces", "h.csv", "claim_id,member_id\nC1, M7 \n", "M7"},
		{"gzip: not read from its end", "i.csv.gz", string(gzipBytes(t, []byte(csvRows(3)))), ""},
	}
	for _, c := range cases {
		path := writeFile(t, c.file, []byte(c.data))
		got, err := LastValue(path, "member_id", known)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
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
	for _, c := range []struct{ column, want string }{{"member_id", "M00999"}, {"claim_id", ""}, {"units", ""}, {"absent", ""}} {
		got, err := LastValue(path, c.column, known)
		if err != nil || got != c.want {
			t.Errorf("parquet %s: got %q, %v; want %q", c.column, got, err, c.want)
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
	if _, err := LastValue(writeFile(t, "broken.parquet", []byte("PAR1 not parquet PAR1")), "member_id", known); err == nil {
		t.Errorf("a broken Parquet file: no error")
	}
}
