package readers

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRowReaderMalformedRowsAreData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.csv")
	os.WriteFile(path, []byte("a,b\n1, x \n1,2,3\n\"bad\"x,2\n4,5\n"), 0o644)
	r, err := OpenRows(path, []TableColumn{{Name: "b"}, {Name: "a"}, {Name: "zz", Optional: true}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Present(2) || !r.Present(0) {
		t.Errorf("Present: zz %v, b %v", r.Present(2), r.Present(0))
	}
	var got []string
	for r.Next() {
		got = append(got, strings.Join([]string{
			string(rune('0' + r.Row())), strings.Join(r.Record(), "|"), r.Problem(), r.Raw(),
		}, " / "))
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"1 / x|1| /  / 1, x ",
		"2 / || / record has 3 fields, the header has 2 / 1,2,3",
		`3 / || / column a: parse error on line 4, column 5: extraneous or missing " in quoted-field / "bad"x,2`,
		"4 / 5|4| /  / 4,5",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRowReaderMissingColumn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.csv")
	os.WriteFile(path, []byte("a,b\n1,2\n"), 0o644)
	if _, err := OpenRows(path, []TableColumn{{Name: "c"}}, Options{}); !errors.Is(err, ErrMissingColumn) {
		t.Errorf("missing column: %v, want ErrMissingColumn", err)
	}
}
