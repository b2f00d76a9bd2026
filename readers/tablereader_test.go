package readers

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTableReaderCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.csv")
	os.WriteFile(path, []byte("a,b,c\n1,x,2024-01-01\n2, y ,\n"), 0o644)
	r, err := OpenTable(path, []TableColumn{{Name: "c"}, {Name: "a"}, {Name: "zz", Optional: true}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []string
	for r.Next() {
		got = append(got, strings.Join(r.Record(), "|"))
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"2024-01-01|1|", "|2|"}; strings.Join(got, ";") != strings.Join(want, ";") {
		t.Errorf("records %q, want %q", got, want)
	}
}

func TestTableReaderErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.csv")
	os.WriteFile(path, []byte("a,b\n1,2\n1,2,3\n"), 0o644)
	if _, err := OpenTable(path, []TableColumn{{Name: "c"}}, Options{}); !errors.Is(err, ErrMissingColumn) {
		t.Errorf("missing column: %v, want ErrMissingColumn", err)
	}
	r, err := OpenTable(path, []TableColumn{{Name: "a"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for r.Next() {
		n++
	}
	if n != 1 || !errors.Is(r.Err(), ErrCorrupt) || !strings.Contains(r.Err().Error(), "row 2") {
		t.Errorf("after %d records: %v, want ErrCorrupt at row 2", n, r.Err())
	}
}
