package readers

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"claimsbatch/claim"
)

// The fuzzers run as seed tests with go test. To fuzz, keep minimization
// short: Go minimizes every new input for up to a minute by default, which
// for the Parquet fixtures (tens of KB) is most of the run:
//
//	go test -run XXX -fuzz '^FuzzClaimsParquet$' -fuzztime 5m -fuzzminimizetime 100x ./readers/
//
// testdata/fuzz/FuzzClaimsParquet holds inputs that once made arrow-go
// allocate without bound (see checkChunks and dropArrowSchema).

var exceptionCodes = map[claim.ExceptionCode]bool{
	claim.ParseError: true, claim.MissingField: true, claim.InvalidValue: true, claim.UnknownBenefit: true,
}

// checkClaims checks what must hold of any claims read that did not fail.
func checkClaims(t *testing.T, res claimsResult, input []byte) {
	t.Helper()
	if int64(len(res.lines)+len(res.exceptions)) != res.rows {
		t.Fatalf("%d lines + %d exceptions != %d rows", len(res.lines), len(res.exceptions), res.rows)
	}
	for _, l := range res.lines {
		if l.LineNo < 1 || l.Units < 1 || l.ServiceEndDate < l.ServiceDate || l.Billed < 0 ||
			!isUpperLetters(l.Country, 2) || !isUpperLetters(l.Currency, 3) || l.Payee == 0 ||
			l.ClaimID == "" || l.MemberID == "" || (l.Payee == claim.PayeeProvider && l.ProviderID == "") ||
			(l.Diagnosis == "") != (l.Condition == "") || l.Row < 1 || l.Row > res.rows {
			t.Fatalf("bad line %+v", l)
		}
	}
	for _, e := range res.exceptions {
		if !exceptionCodes[e.Code] || e.Message == "" || e.Row < 1 || e.Row > res.rows ||
			len(e.Raw) > maxRawBytes || !utf8.ValidString(e.Raw) || !utf8.ValidString(e.Message) {
			t.Fatalf("bad exception %+v", e)
		}
		// The raw text of a CSV row is a piece of the input, as read.
		if input != nil && utf8.Valid(input) && !strings.HasSuffix(e.Raw, "…") && !bytes.Contains(input, []byte(e.Raw)) {
			t.Fatalf("raw %q is not in the input", e.Raw)
		}
	}
}

// addBadCorpus seeds f with the files of testdata/bad (the hostile-input
// corpus of the command-line tests) whose names match pattern.
func addBadCorpus(f *testing.F, pattern string) {
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "bad", pattern))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

func isUpperLetters(s string, n int) bool {
	return isLetters(s, n) && strings.ToUpper(s) == s
}

func FuzzClaimsCSV(f *testing.F) {
	header := strings.Join(claimsHeader, ",") + "\n"
	f.Add([]byte(header + csvRow(nil) + "\n"))
	f.Add([]byte("\uFEFF" + header + csvRow(map[string]string{"payee": "provider", "provider_id": ""}) + "\r\n\r\n" + csvRow(map[string]string{"line_no": "0"})))
	f.Add([]byte(header + `"C1",1,"M` + "\n" + `1",2024-01-05,,,"x""y",C50.9,,FR,Y,,,,EUR,1,1` + "\n"))
	f.Add([]byte(header + "C1,1,M1,2024-01-05\n" + `C1,"1"x` + "\n\xff\xfe\n"))
	f.Add(manyRows(10))
	f.Add([]byte(header + csvRow(nil) + "\n" + csvRow(map[string]string{"trip_id": strings.Repeat("t", 5000)}) + "\n"))
	addBadCorpus(f, "claims_*.csv")
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxRow = 1 << 12
		res, err := readClaimsMem("claims.csv", data, Options{BatchSize: 3, MaxFieldBytes: 64, MaxRowBytes: maxRow})
		if err != nil {
			return
		}
		checkClaims(t, res, data)
		if n := longestRecord(data); n > maxRow {
			t.Fatalf("read a record of %d bytes with MaxRowBytes %d", n, maxRow)
		}
	})
}

// longestRecord returns the length of the longest CSV record of data as
// written (blank lines before it not counted), as encoding/csv splits it.
func longestRecord(data []byte) int {
	data = bytes.TrimPrefix(data, []byte(utf8BOM)) // the reader drops it
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	longest := 0
	for {
		start := r.InputOffset()
		_, err := r.Read()
		if err == io.EOF {
			return longest
		}
		if err != nil && !errors.As(err, new(*csv.ParseError)) {
			return longest
		}
		text := data[start:r.InputOffset()]
		if n := len(skipBlankLines(text)); n > longest {
			longest = n
		}
	}
}

func FuzzClaimsParquet(f *testing.F) {
	rows := fixtureRows(23)
	f.Add(writeXitongsys(f, rows, false, 5))
	f.Add(writeXitongsys(f, rows, true, 4))
	dict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
	var cols []arrowColumn
	for _, name := range fixtureColumns {
		typ := arrow.DataType(arrow.BinaryTypes.String)
		switch name {
		case "service_date", "service_end_date":
			typ = arrow.FixedWidthTypes.Date32
		case "billed_amount":
			typ = &arrow.Decimal128Type{Precision: 12, Scale: 2}
		case "benefit_code":
			typ = dict
		}
		cols = append(cols, arrowColumn{name, typ})
	}
	f.Add(writeArrow(f, cols, rows, 5))
	f.Add(writeArrowWith(f, cols, rows[:8], 3, parquet.WithCompression(compress.Codecs.Zstd), parquet.WithDictionaryDefault(false)))
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	addBadCorpus(f, "claims_*.parquet")
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := readClaimsMem("claims.parquet", data, Options{BatchSize: 4})
		if err != nil {
			return
		}
		checkClaims(t, res, nil)
	})
}

func FuzzMembersCSV(f *testing.F) {
	header := strings.Join(membersHeader, ",") + "\n"
	f.Add([]byte(header + memberRow(nil) + "\n"))
	f.Add([]byte(header + memberRow(map[string]string{"modules": "core;dental", "core_coinsurance": "20", "coverage_end": "2024-02-29"}) + "\n"))
	f.Add([]byte(header + memberRow(map[string]string{"modules": "dental"}) + "\n,\n"))
	addBadCorpus(f, "members_*.csv")
	f.Fuzz(func(t *testing.T, data []byte) {
		tbl, err := openMem("members.csv", data, memberColumns[:], Options{})
		if err != nil {
			return
		}
		spans, exceptions, rows, err := readMembers(tbl)
		if err != nil {
			return
		}
		if int64(len(spans)+len(exceptions)) != rows {
			t.Fatalf("%d spans + %d exceptions != %d rows", len(spans), len(exceptions), rows)
		}
		for _, s := range spans {
			if s.End < s.Start || !s.Modules.Has(claim.Core) || s.CoreCoinsGiven > 10000 || s.MemberID == "" {
				t.Fatalf("bad span %+v", s)
			}
		}
	})
}

func FuzzFXCSV(f *testing.F) {
	f.Add([]byte("date,currency,plan_currency,rate\n2024-01-01,USD,EUR,0.91\n2024-01-02,GBP,EUR,0\n"))
	f.Add([]byte("date,currency,plan_currency,rate\n2024-01-01,usd,eur,1e-3\n"))
	addBadCorpus(f, "fx_*.csv")
	f.Fuzz(func(t *testing.T, data []byte) {
		tbl, err := openMem("fx.csv", data, fxColumns[:], Options{})
		if err != nil {
			return
		}
		rates, exceptions, rows, err := readFX(tbl)
		if err != nil {
			return
		}
		if int64(len(rates)+len(exceptions)) != rows {
			t.Fatalf("%d rates + %d exceptions != %d rows", len(rates), len(exceptions), rows)
		}
		for _, r := range rates {
			if r.Rate.Sign() <= 0 || r.Text == "" {
				t.Fatalf("bad rate %+v", r)
			}
		}
	})
}

func FuzzStateCSV(f *testing.F) {
	f.Add([]byte(stateHeader + "YEAR,M1,2024-03-01,deductible,375.00,2,\n"))
	f.Add([]byte(stateHeader + "LINE,M2,,C1,-12.50,,\"a,b\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tbl, err := openMem("state.csv", data, stateColumns[:], Options{})
		if err != nil {
			return
		}
		r := newStateReader(tbl)
		defer r.Close()
		for r.Next() {
			if rec := r.Record(); rec.Kind == "" {
				t.Fatalf("bad record %+v", rec)
			}
		}
	})
}
