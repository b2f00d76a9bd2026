package readers

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
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
		"LINE,M2,, C1 ,12.50,,\n"
	want := []claim.StateRecord{
		{Kind: "META", Scope: claim.NoDate, Key: "run", Detail: "abc123"},
		{Kind: "YEAR", MemberID: "M1", Scope: mustDate(t, "2024-03-01"), Key: "deductible", Amount: 37500, Count: 2},
		{Kind: "DATES", MemberID: "M1", Scope: mustDate(t, "2024-03-01"), Key: "OUT_OF_AREA", Count: 3, Detail: "2024-04-01 2024-04-02,2024-04-03"},
		{Kind: "LINE", MemberID: "M2", Scope: claim.NoDate, Key: " C1 ", Amount: 1250},
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
		{"kind": "LINE", "member_id": "M2", "key": " C1 ", "amount": "12.5"},
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
		{"missing column", "kind,member_id,scope,key,amount,count\n", ErrMissingColumn, "state.csv: missing required column detail"},
		{"empty kind", stateHeader + "YEAR,M1,,k,0,0,\n,M1,,k,0,0,\n", ErrCorrupt, "state.csv: row 2: column kind: kind is empty"},
		{"bad scope", stateHeader + "YEAR,M1,2024-02-30,k,0,0,\n", ErrCorrupt, "state.csv: row 1: column scope: not a valid YYYY-MM-DD date"},
		{"bad amount", stateHeader + "YEAR,M1,,k,1.234,0,\n", ErrCorrupt, "state.csv: row 1: column amount: not a decimal amount with at most 2 decimals"},
		{"bad count", stateHeader + "YEAR,M1,,k,1,x,\n", ErrCorrupt, "state.csv: row 1: column count: not an integer"},
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

// v4State is a small version 4 state, its END row computed by
// claim.StateDigest.
func v4State(t *testing.T, rows ...string) string {
	t.Helper()
	tbl, err := openMem("state.csv", []byte(stateHeader+strings.Join(rows, "")), stateColumns[:], Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := claim.NewStateDigest()
	for {
		rec, _, err := tbl.next()
		if err != nil {
			break
		}
		r, err := parseState(tbl, rec)
		if err != nil {
			t.Fatal(err)
		}
		d.Add(&r)
	}
	end := d.Trailer()
	return stateHeader + strings.Join(rows, "") + fmt.Sprintf("END,,,%s,0.00,%d,%s\n", end.Key, end.Count, end.Detail)
}

// TestStateTrailer covers issue 12, finding 2 ("a state file cut at a row
// boundary is accepted: 50,310 lines are paid a second time; accumulators
// edited to -5000 are accepted"): a version 4 state must end with its END
// row, every row must be what the END row counts and hashes, and no amount
// or count may be negative. Messages name the file, row, kind, scope and
// key, never the member or the claim.
func TestStateTrailer(t *testing.T) {
	rows := []string{
		"META,,,version,0.00,0,4\n",
		"META,,2025-05-02,as_of,0.00,0,\n",
		"YEAR,M77,2024-01-01,,0.00,0,2024-12-31\n",
		"ACC,M77,2024-01-01,deductible:core,375.00,0,\n",
		"LINE,M77,2024-03-01,C9931,100.00,1,HOSPITAL_ACCOMMODATION - - -\n",
		"LINE,M77,2024-03-02,C9932,50.00,1,HOSPITAL_ACCOMMODATION - - -\n",
	}
	good := v4State(t, rows...)
	recs, err := ReadState(writeFile(t, "state.csv", []byte(good)))
	if err != nil || len(recs) != len(rows) {
		t.Fatalf("good state: %d records, %v; want %d, nil", len(recs), err, len(rows))
	}
	lines := strings.SplitAfter(good, "\n")
	tests := []struct {
		name, data, text string
	}{
		{"cut at a row boundary", strings.Join(lines[:len(lines)-3], ""),
			"state.csv: ends after row 5 without the END row that ends a version 4 state: the file was cut short or edited"},
		{"a row removed", strings.Join(slices.Delete(slices.Clone(lines), 5, 6), ""),
			"state.csv: row 6: the END row counts 6 rows, 5 precede it (a row was removed or added): the file was edited or cut"},
		{"an amount edited", strings.Replace(good, "375.00", "1100.00", 1),
			"state.csv: row 7: the rows before the END row have SHA-256 "},
		{"a row after the END row", good + rows[4],
			"state.csv: row 8: a row follows the END row, which must be the last"},
		{"a negative accumulator", v4State(t, rows[0], rows[2], "ACC,M77,2024-01-01,deductible:core,-5000.00,0,\n"),
			"state.csv: row 3: column amount: ACC 2024-01-01 deductible:core: amount -5000.00 is negative"},
		{"a negative line number", v4State(t, rows[0], "LINE,M77,2024-03-01,C9931,100.00,-1,\n"),
			"state.csv: row 2: column count: LINE: count -1 is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadState(writeFile(t, "state.csv", []byte(tt.data)))
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v; want ErrCorrupt containing %q", err, tt.text)
			}
			for _, id := range []string{"M77", "C9931", "C9932"} {
				if strings.Contains(err.Error(), id) {
					t.Errorf("the message names %s: %v", id, err)
				}
			}
		})
	}
	// Versions 1 to 3 had no trailer and still read.
	v3 := stateHeader + "META,,,version,0.00,0,3\n" + rows[2]
	if recs, err := ReadState(writeFile(t, "state.csv", []byte(v3))); err != nil || len(recs) != 2 {
		t.Errorf("version 3 without END: %d records, %v", len(recs), err)
	}
}

// TestStateAhead: a state read on several goroutines (OpenState: a Parquet
// file of many row groups, pqahead.go; a CSV file in chunks of 97 bytes,
// csvahead.go) gives the records, or the error and its row, of the read on
// one goroutine: a good state, one with an edited amount (the END row's
// digest) and one with a negative amount in its middle.
func TestStateAhead(t *testing.T) {
	useCSVBlock(t, 97)
	rows := []string{"META,,,version,0.00,0,4\n", "META,,2025-05-02,as_of,0.00,0,\n"}
	for m := range 40 {
		rows = append(rows, fmt.Sprintf("YEAR,M%03d,2024-01-01,,0.00,0,2024-12-31\n", m),
			fmt.Sprintf("ACC,M%03d,2024-01-01,deductible:core,%d.%02d,0,\n", m, m*7, m%100))
		for l := range m % 9 {
			rows = append(rows, fmt.Sprintf("LINE,M%03d,2024-03-%02d,C%d-%d,%d.50,%d,HOSPITAL_ACCOMMODATION - - -\n", m, 1+l, m, l, 10*l, 1+l))
		}
	}
	good := v4State(t, rows...)
	edited := strings.Replace(good, "ACC,M013,2024-01-01,deductible:core,91.13", "ACC,M013,2024-01-01,deductible:core,91.14", 1)
	negative := v4State(t, append(slices.Clone(rows[:100]), append([]string{"ACC,M900,2024-01-01,deductible:core,-5.00,0,\n"}, rows[100:]...)...)...)
	if edited == good {
		t.Fatal("the edit did not apply")
	}
	cols := []arrowColumn{{"kind", arrow.BinaryTypes.String}, {"member_id", arrow.BinaryTypes.String},
		{"scope", arrow.FixedWidthTypes.Date32}, {"key", arrow.BinaryTypes.String},
		{"amount", &arrow.Decimal128Type{Precision: 18, Scale: 2}}, {"count", arrow.PrimitiveTypes.Int64}, {"detail", arrow.BinaryTypes.String}}
	for _, tc := range []struct{ name, csv, wantErr string }{
		{"good", good, ""},
		{"edited", edited, "row "},
		{"negative", negative, "row 101: column amount: ACC 2024-01-01 deductible:core: amount -5.00 is negative"},
	} {
		// The CSV state as Parquet rows, in row groups of 7.
		tbl, err := openMem("state.csv", []byte(tc.csv), stateColumns[:], Options{})
		if err != nil {
			t.Fatal(err)
		}
		var pqRows []map[string]string
		for {
			rec, _, err := tbl.next()
			if err != nil {
				break
			}
			r := map[string]string{}
			for i, c := range cols {
				r[c.name] = rec[i]
			}
			pqRows = append(pqRows, r)
		}
		pqPath := writeFile(t, "state.parquet", writeArrow(t, cols, pqRows, 7))
		csvPath := writeFile(t, "state.csv", []byte(tc.csv))
		for _, path := range []string{pqPath, csvPath} {
			seq := func() ([]claim.StateRecord, error) {
				tb, err := openTable(path, stateColumns[:], Options{})
				if err != nil {
					t.Fatal(err)
				}
				sr := newStateReader(tb)
				defer sr.Close()
				var recs []claim.StateRecord
				for sr.Next() {
					recs = append(recs, sr.Record())
				}
				return recs, sr.Err()
			}
			want, wantErr := seq()
			got, gotErr := ReadState(path)
			if tc.wantErr == "" {
				if wantErr != nil || gotErr != nil || len(want) != len(pqRows)-1 || !reflect.DeepEqual(got, want) {
					t.Fatalf("%s, %s: %d records (%v) on several goroutines, %d (%v) on one, of %d rows", tc.name, path, len(got), gotErr, len(want), wantErr, len(pqRows))
				}
				continue
			}
			if wantErr == nil || gotErr == nil || gotErr.Error() != wantErr.Error() || !strings.Contains(gotErr.Error(), tc.wantErr) {
				t.Fatalf("%s, %s: error %v on several goroutines, %v on one; want one containing %q", tc.name, path, gotErr, wantErr, tc.wantErr)
			}
		}
	}
}

// TestOpenStateWorkers: OpenState decodes on opt.Workers goroutines (the
// run's --workers), one meaning no read-ahead at all, and gives the same
// records whatever the number.
func TestOpenStateWorkers(t *testing.T) {
	useCSVBlock(t, 97)
	rows := []string{"META,,,version,0.00,0,4\n"}
	for m := range 30 {
		rows = append(rows, fmt.Sprintf("LINE,M%03d,2024-03-01,C%d,1.50,1,HOSPITAL_ACCOMMODATION - - -\n", m, m))
	}
	path := writeFile(t, "state.csv", []byte(v4State(t, rows...)))
	var first []claim.StateRecord
	for _, workers := range []int{1, 2, 3} {
		sr, err := OpenState(path, Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		lanes := 0
		if a := sr.t.src.(*csvSource).ahead; a != nil {
			lanes = len(a.jobs)
		}
		if want := map[int]int{1: 0, 2: 2, 3: 3}[workers]; lanes != want {
			t.Errorf("Workers %d: %d decoding goroutines, want %d", workers, lanes, want)
		}
		var recs []claim.StateRecord
		for sr.Next() {
			recs = append(recs, sr.Record())
		}
		if err := sr.Err(); err != nil {
			t.Fatalf("Workers %d: %v", workers, err)
		}
		sr.Close()
		if len(recs) != len(rows) {
			t.Fatalf("Workers %d: %d records, want %d", workers, len(recs), len(rows))
		}
		if first == nil {
			first = recs
		} else if !reflect.DeepEqual(recs, first) {
			t.Errorf("Workers %d: records differ from Workers 1's", workers)
		}
	}
}
