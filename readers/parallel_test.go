package readers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"claimsbatch/claim"
)

// readClaimsSeq is the reference reader the parallel and typed paths are
// compared with: the sequential table of the other readers (encoding/csv for
// CSV, Parquet rows turned into text by arrow-go's record reader), one row
// at a time through the same row checks, as ClaimsReader read before it
// went parallel.
func readClaimsSeq(name string, data []byte, opt Options) (claimsResult, error) {
	t, err := openMem(name, data, claimColumns[:], opt)
	if err != nil {
		return claimsResult{}, err
	}
	defer t.close()
	rp := rowParser{t: t, source: 3, benefits: plan, intern: newInterner()}
	var res claimsResult
	for {
		rec, p, err := t.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, err
		}
		var line claim.Line
		if check := rp.checkRecord(rec, p, &line); check.code != "" {
			res.exceptions = append(res.exceptions, rp.reject(rec, p, check, t.src.raw()))
		} else {
			res.lines = append(res.lines, line)
		}
	}
	res.rows = t.rows
	return res, nil
}

// eachBatch hands fn every batch of r in order: nil at the end of the
// file, or the error that stopped the read.
func eachBatch(r *ClaimsReader, fn func(*Batch)) error {
	for {
		b, err := r.NextBatch()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		fn(b)
	}
}

// useCSVBlock makes the CSV producer read blocks of n bytes for one test.
func useCSVBlock(t testing.TB, n int) {
	old := csvBlock
	csvBlock = n
	t.Cleanup(func() { csvBlock = old })
}

// shortReads is an input file whose reads return at most n bytes, so that
// the CSV producer sees its input in pieces.
type shortReads struct {
	memFile
	n int
}

func (s shortReads) Read(p []byte) (int, error) {
	if len(p) > s.n {
		p = p[:s.n]
	}
	return s.memFile.Read(p)
}

// readClaimsPar reads with the batch API, in blocks of block bytes (0: the
// default) from reads of at most readSize bytes (0: any), and checks what
// every batch must hold.
func readClaimsPar(t testing.TB, name string, data []byte, opt Options, block, readSize int) (claimsResult, error) {
	t.Helper()
	if block > 0 {
		old := csvBlock
		csvBlock = block
		defer func() { csvBlock = old }() // not useCSVBlock: fuzz targets call this many times
	}
	f, err := formatOf(name)
	if err != nil {
		return claimsResult{}, err
	}
	var in inputFile = memFile{bytes.NewReader(data)}
	if readSize > 0 {
		in = shortReads{memFile{bytes.NewReader(data)}, readSize}
	}
	tbl, err := newTable(name, in, f, claimColumns[:], opt)
	if err != nil {
		return claimsResult{}, err
	}
	r := newClaimsReader(tbl, 3, plan, opt)
	defer r.Close()
	var res claimsResult
	next := int64(1)
	err = eachBatch(r, func(b *Batch) {
		if b.Seq != int64(res.batches) || b.FirstRow != next || b.NumRows != len(b.Lines)+len(b.Exceptions) || b.NumRows == 0 || b.NumRows > r.opt.BatchSize {
			t.Fatalf("batch %d: seq %d, first row %d (want %d), %d rows, %d lines, %d exceptions", res.batches, b.Seq, b.FirstRow, next, b.NumRows, len(b.Lines), len(b.Exceptions))
		}
		next += int64(b.NumRows)
		res.batches++
		for _, l := range b.Lines {
			cloneLine(&l) // valid only until Release
			res.lines = append(res.lines, l)
		}
		res.exceptions = append(res.exceptions, b.Exceptions...)
		b.Release()
	})
	res.rows = r.Rows()
	if err != nil {
		return res, err
	}
	if res.rows != next-1 {
		t.Fatalf("Rows() = %d after %d rows", res.rows, next-1)
	}
	return res, nil
}

func cloneLine(l *claim.Line) {
	for _, s := range []*string{&l.ClaimID, &l.MemberID, &l.BenefitCode, &l.Diagnosis, &l.Condition, &l.ProcedureCode, &l.ItemCode, &l.Country, &l.TripID, &l.ProviderID, &l.Currency} {
		*s = strings.Clone(*s)
	}
}

// sameRead checks that two reads of the same input agree: the same error,
// or the same lines, exceptions and rows.
func sameRead(t *testing.T, got claimsResult, gotErr error, want claimsResult, wantErr error) {
	t.Helper()
	if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
		t.Fatalf("error %v\nwant %v", gotErr, wantErr)
	}
	if gotErr != nil {
		return
	}
	if !reflect.DeepEqual(got.lines, want.lines) {
		for i := range min(len(got.lines), len(want.lines)) {
			if got.lines[i] != want.lines[i] {
				t.Fatalf("line %d\n got %+v\nwant %+v", i, got.lines[i], want.lines[i])
			}
		}
		t.Fatalf("%d lines, want %d", len(got.lines), len(want.lines))
	}
	if !reflect.DeepEqual(got.exceptions, want.exceptions) {
		for i := range min(len(got.exceptions), len(want.exceptions)) {
			if got.exceptions[i] != want.exceptions[i] {
				t.Fatalf("exception %d\n got %+v\nwant %+v", i, got.exceptions[i], want.exceptions[i])
			}
		}
		t.Fatalf("%d exceptions, want %d", len(got.exceptions), len(want.exceptions))
	}
	if got.rows != want.rows {
		t.Fatalf("%d rows, want %d", got.rows, want.rows)
	}
}

// choices reads decisions from a fuzzer's bytes (0 once they run out).
type choices struct{ b []byte }

func (c *choices) next(n int) int {
	if len(c.b) == 0 {
		return 0
	}
	v := int(c.b[0])
	c.b = c.b[1:]
	return v % n
}

// randomCSV builds a claims CSV file from a fuzzer's bytes: good rows and
// bad ones, fields quoted or not, quoted fields holding commas, "" and line
// breaks, bare quotes and text after a closing quote, CRLF and LF, blank
// lines, a byte order mark, rows of the wrong width, invalid UTF-8, a last
// row without a line end or with a quote that never closes.
func randomCSV(seed []byte) []byte {
	return randomCSVOf(seed, claimsHeader, func(row int) string {
		return csvRow(map[string]string{"claim_id": fmt.Sprintf("C%d", row), "member_id": fmt.Sprintf("M%d", row%3)})
	})
}

// randomCSVOf is randomCSV for a file of the given header, goodRow(i) a
// good row i of it.
func randomCSVOf(seed []byte, header []string, goodRow func(row int) string) []byte {
	c := &choices{seed}
	var b bytes.Buffer
	if c.next(4) == 0 {
		b.WriteString(utf8BOM)
	}
	nl := func() string {
		if c.next(3) == 0 {
			return "\r\n"
		}
		return "\n"
	}
	b.WriteString(strings.Join(header, ",") + nl())
	pieces := []string{"a", "b", ",", `"`, "\n", "\r\n", "\r", " ", "é", "\xff", "x,y", `""`}
	rows := 1 + c.next(12)
	for row := 0; row < rows; row++ {
		for c.next(6) == 1 {
			b.WriteString(nl()) // blank lines
		}
		good := goodRow(row)
		if c.next(2) == 0 {
			b.WriteString(good)
		} else {
			fields := strings.Split(good, ",")
			for n := c.next(4); n > 0; n-- {
				i := c.next(len(fields))
				switch c.next(8) {
				case 0, 1: // a quoted field with something inside
					var v strings.Builder
					for k := c.next(4); k >= 0; k-- {
						v.WriteString(pieces[c.next(len(pieces))])
					}
					fields[i] = `"` + strings.ReplaceAll(v.String(), `"`, `""`) + `"`
				case 2:
					fields[i] = `"` + fields[i] + `"`
				case 3: // a bare quote
					fields[i] += `"x`
				case 4: // text after the closing quote
					fields[i] = `"` + fields[i] + `"` + pieces[c.next(len(pieces))]
				case 5: // a field too many or too few
					if c.next(2) == 0 {
						fields = append(fields, "extra")
					} else {
						fields = fields[:len(fields)-1]
					}
				case 6:
					fields[i] = pieces[c.next(len(pieces))]
				case 7: // a bad value
					fields[i] = [...]string{"", "0", "2024-02-30", "-1", "NOPE", "12.345"}[c.next(6)]
				}
				if len(fields) == 0 {
					fields = []string{""}
				}
			}
			b.WriteString(strings.Join(fields, ","))
		}
		if row < rows-1 || c.next(3) != 0 {
			b.WriteString(nl())
		}
	}
	if c.next(8) == 0 {
		b.WriteString(`C9,1,"M9`) // a quote left open at the end
		if c.next(2) == 0 {
			b.WriteString(nl() + "more")
		}
	}
	b.Write(c.b) // whatever is left, as is
	return b.Bytes()
}

// parallelOptions derives the reader's options and the block and read
// sizes of one comparison from the fuzzer's bytes.
func parallelOptions(seed []byte) (opt Options, block, readSize int) {
	var h uint64
	for _, x := range seed {
		h = h*31 + uint64(x)
	}
	rng := rand.New(rand.NewPCG(h, 7))
	opt = Options{BatchSize: 1 + rng.IntN(5), Workers: 1 + rng.IntN(4), MaxFieldBytes: 200}
	return opt, 1 + rng.IntN(300), 1 + rng.IntN(200)
}

// FuzzCSVParallel: the parallel CSV reader, with the file cut into chunks
// of any size, read in pieces of any size, on any number of goroutines,
// reads exactly what the sequential one reads (encoding/csv): the same
// lines, the same exceptions with the same messages and raw text, the same
// rows and the same failure.
func FuzzCSVParallel(f *testing.F) {
	for i := range 40 {
		f.Add([]byte(fmt.Sprintf("%d%s", i, strings.Repeat("\x03\x01\x05", i))))
	}
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Fuzz(func(t *testing.T, seed []byte) {
		data := randomCSV(seed)
		opt, block, readSize := parallelOptions(seed)
		want, wantErr := readClaimsSeq("claims.csv", data, opt)
		got, gotErr := readClaimsPar(t, "claims.csv", data, opt, block, readSize)
		sameRead(t, got, gotErr, want, wantErr)
	})
}

// TestCSVParallelCorpus compares the parallel and the sequential reader on
// the hostile-input corpus and on a thousand random files (fewer under the
// race detector), with many block and read sizes.
func TestCSVParallelCorpus(t *testing.T) {
	var inputs [][]byte
	paths, _ := filepath.Glob("../testdata/bad/claims_*.csv")
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, data)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n := 1000
	if raceEnabled {
		n = 150
	}
	for range n {
		seed := make([]byte, rng.IntN(200))
		for i := range seed {
			seed[i] = byte(rng.UintN(256))
		}
		inputs = append(inputs, randomCSV(seed))
	}
	for i, data := range inputs {
		for _, block := range []int{0, 1, 17, 150} {
			opt := Options{BatchSize: 1 + i%7, Workers: 1 + i%3}
			want, wantErr := readClaimsSeq("claims.csv", data, opt)
			got, gotErr := readClaimsPar(t, "claims.csv", data, opt, block, 1+(i*block)%97)
			sameRead(t, got, gotErr, want, wantErr)
		}
	}
}

// TestLastRecordEnd: where the producer cuts a block.
func TestLastRecordEnd(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"a,b", 0},
		{"a,b\n", 4},
		{"a,b\nc,d\ne", 8},
		{"a,b\r\nc", 5},
		{"\n\n", 2},
		{`"a` + "\n" + `b",c` + "\nd", 8},          // a quoted line break
		{`"a` + "\n" + `b`, 0},                     // still open
		{`a"b` + "\nc", 4},                         // bare quote: the record ends with its line
		{`"a"x,b` + "\nc", 7},                      // text after the closing quote
		{`"a""` + "\n" + `b"` + "\n", 8},           // "" inside, then a line break inside
		{`"a"`, 0},                                 // the byte after the quote is unknown
		{`"a"` + "\r", 0},                          // \r then unknown
		{`"a"` + "\r\nb", 5},                       // CRLF after the closing quote
		{`"a"` + "\rb\nc", 6},                      // a quoting error ends with the line
		{`x,"a` + "\n" + `,"` + "\n", 8},           // the second line closes the first line's quotes
		{`x,"a` + "\n" + `b",` + `"c"` + "\n", 12}, // and a field after it
		{"a\n" + `b,"c` + "\n", 2},
	}
	for _, tt := range tests {
		if got := lastRecordEnd([]byte(tt.in)); got != tt.want {
			t.Errorf("lastRecordEnd(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestCSVParallelErrors: the failures of a parallel read name the same row
// as the sequential reader's, with rows of earlier chunks delivered.
func TestCSVParallelErrors(t *testing.T) {
	good := csvRow(nil)
	many := strings.Repeat(good+"\n", 500)
	tests := []struct {
		name string
		data string
		opt  Options
		want string
	}{
		{"unclosed quote late", many + `C2,1,"M1,` + "\n" + many, Options{}, "claims.csv: row 501: column member_id: the quoted field opened on line 502, column 6 never closes"},
		{"record too long", many + `C2,1,"M1,` + "\n" + many, Options{MaxRowBytes: 4000}, "claims.csv: row 501: record longer than 4000 bytes"},
		{"field too long is a row", many + `C2,1,` + strings.Repeat("m", 300) + ",2024-01-05,,,HOSPITAL_ACCOMMODATION,C50.9,,FR,,,P1,,EUR,100.00,\n" + many, Options{MaxFieldBytes: 100}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := csvFile(tt.data)
			for _, block := range []int{0, 64, 1000} {
				tt.opt.Workers = 3
				want, wantErr := readClaimsSeq("claims.csv", data, tt.opt)
				got, gotErr := readClaimsPar(t, "claims.csv", data, tt.opt, block, 0)
				sameRead(t, got, gotErr, want, wantErr)
				if tt.want != "" && (gotErr == nil || !strings.Contains(gotErr.Error(), tt.want) || !errors.Is(gotErr, ErrCorrupt)) {
					t.Errorf("err %v, want ErrCorrupt containing %q", gotErr, tt.want)
				}
			}
		})
	}
}

func TestSplitCommas(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte{',', 'a', 0, 0x80, 0xff, '"', ' ', 0x2b, 0x2d, 0xac}
	for range 20000 {
		line := make([]byte, rng.IntN(40))
		for i := range line {
			line[i] = alphabet[rng.IntN(len(alphabet))]
		}
		got := splitCommas(nil, line)
		want := strings.Split(string(line), ",")
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("splitCommas(%q) = %q, want %q", line, got, want)
		}
	}
}
