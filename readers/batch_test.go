package readers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"claimsbatch/claim"
)

// batchFixture is a claims file of n rows, every tenth bad, as CSV and as
// Parquet (row groups of 700 rows).
func batchFixture(t testing.TB, n int) (csvData, pqData []byte) {
	var rows []map[string]string
	for i := range n {
		r := map[string]string{
			"claim_id": fmt.Sprintf("C%d", i), "line_no": "1", "member_id": fmt.Sprintf("M%d", i%97),
			"service_date": "2024-01-05", "benefit_code": "HOSPITAL_ACCOMMODATION", "country": "FR",
			"currency": "EUR", "billed_amount": fmt.Sprintf("%d.%02d", i, i%100), "note": fmt.Sprintf("n,%d", i),
		}
		if i%10 == 3 {
			r["benefit_code"] = "NOPE"
		}
		rows = append(rows, r)
	}
	names := []string{"claim_id", "line_no", "member_id", "service_date", "benefit_code", "country", "currency", "billed_amount", "note"}
	var cols []arrowColumn
	for _, name := range names {
		typ := arrow.DataType(arrow.BinaryTypes.String)
		switch name {
		case "service_date":
			typ = arrow.FixedWidthTypes.Date32
		case "billed_amount":
			typ = &arrow.Decimal128Type{Precision: 18, Scale: 2}
		case "line_no":
			typ = arrow.PrimitiveTypes.Int32
		}
		cols = append(cols, arrowColumn{name, typ})
	}
	return fixtureCSV(names, rows), writeArrow(t, cols, rows, 700)
}

// TestBatchAPI checks NextBatch's contract on both formats: batches in
// order, numbered, each at most BatchSize rows; lines valid while their
// batch is held, whatever else is read; Offset and RowGroup; Raw and Reject
// as the reader's own exceptions have them; batches processed and released
// on other goroutines in any order.
func TestBatchAPI(t *testing.T) {
	const n = 5000
	csvData, pqData := batchFixture(t, n)
	for _, f := range []struct {
		name string
		data []byte
	}{{"claims.csv", csvData}, {"claims.parquet", pqData}} {
		t.Run(f.name, func(t *testing.T) {
			want, err := readClaimsSeq(f.name, f.data, Options{})
			if err != nil {
				t.Fatal(err)
			}
			useCSVBlock(t, 4096) // many chunks
			path := writeFile(t, f.name, f.data)
			r, err := OpenClaims(path, 3, plan, Options{BatchSize: 333, Workers: 3})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var held []*Batch
			next := int64(1)
			err = eachBatch(r, func(b *Batch) {
				if b.Seq != int64(len(held)) || b.FirstRow != next || b.NumRows > 333 || b.NumRows != len(b.Lines)+len(b.Exceptions) {
					t.Fatalf("batch %d: seq %d first row %d (want %d) rows %d", len(held), b.Seq, b.FirstRow, next, b.NumRows)
				}
				if strings.HasSuffix(f.name, ".csv") {
					if b.RowGroup != -1 || !bytes.HasPrefix(f.data[b.Offset:], []byte(fmt.Sprintf("C%d,", b.FirstRow-1))) {
						t.Fatalf("batch %d: row group %d, offset %d starts %q", b.Seq, b.RowGroup, b.Offset, f.data[b.Offset:][:20])
					}
				} else if b.Offset != -1 || b.RowGroup != int((b.FirstRow-1)/700) {
					t.Fatalf("batch %d: offset %d, row group %d", b.Seq, b.Offset, b.RowGroup)
				}
				next += int64(b.NumRows)
				held = append(held, b)
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.NextBatch(); err != io.EOF {
				t.Fatalf("after the end: %v", err)
			}
			// Every line of every held batch is still intact; Raw and
			// Reject give what the reader gives its own exceptions.
			var lines []claim.Line
			var exceptions []claim.Exception
			for _, b := range held {
				lines = append(lines, b.Lines...)
				exceptions = append(exceptions, b.Exceptions...)
				for i, l := range b.Lines {
					e := b.Reject(i, claim.UnknownMember, "member_id", "member_id is not in the members file")
					wantRaw := fmt.Sprintf("%s,1,%s,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,%s,\"n,%s\"", l.ClaimID, l.MemberID, l.Billed, l.ClaimID[1:])
					if e.Raw != wantRaw || b.Raw(i) != wantRaw || e.Row != l.Row || e.ClaimID != l.ClaimID || e.LineNo != "1" || e.MemberID != l.MemberID || e.Source != f.name || e.SourceNo != 3 {
						t.Fatalf("Reject(%d) = %+v\nRaw %q\nwant raw %q", i, e, b.Raw(i), wantRaw)
					}
				}
			}
			sameRead(t, claimsResult{lines: lines, exceptions: exceptions, rows: r.Rows()}, nil, want, nil)

			// Released in any order, from several goroutines.
			rand.Shuffle(len(held), func(i, j int) { held[i], held[j] = held[j], held[i] })
			var wg sync.WaitGroup
			for _, b := range held {
				wg.Go(b.Release)
			}
			wg.Wait()
		})
	}
}

// TestBatchesConcurrently: a caller that processes batches on other
// goroutines while reading on (as the pipeline does) sees each line as the
// sequential reader does, with buffers reused as batches are released.
func TestBatchesConcurrently(t *testing.T) {
	csvData, pqData := batchFixture(t, 20000)
	for _, f := range []struct {
		name string
		data []byte
	}{{"claims.csv", csvData}, {"claims.parquet", pqData}} {
		t.Run(f.name, func(t *testing.T) {
			want, err := readClaimsSeq(f.name, f.data, Options{})
			if err != nil {
				t.Fatal(err)
			}
			useCSVBlock(t, 8192)
			r, err := OpenClaims(writeFile(t, f.name, f.data), 3, plan, Options{BatchSize: 500})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got := make([][]claim.Line, 0)
			var mu sync.Mutex
			var wg sync.WaitGroup
			sem := make(chan struct{}, 4)
			err = eachBatch(r, func(b *Batch) {
				mu.Lock()
				got = append(got, nil)
				slot := len(got) - 1
				mu.Unlock()
				sem <- struct{}{}
				wg.Go(func() {
					defer func() { <-sem }()
					lines := make([]claim.Line, len(b.Lines))
					for i, l := range b.Lines {
						cloneLine(&l)
						lines[i] = l
					}
					b.Release()
					mu.Lock()
					got[slot] = lines
					mu.Unlock()
				})
			})
			wg.Wait()
			if err != nil {
				t.Fatal(err)
			}
			var lines []claim.Line
			for _, g := range got {
				lines = append(lines, g...)
			}
			if len(lines) != len(want.lines) {
				t.Fatalf("%d lines, want %d", len(lines), len(want.lines))
			}
			for i := range lines {
				if lines[i] != want.lines[i] {
					t.Fatalf("line %d\n got %+v\nwant %+v", i, lines[i], want.lines[i])
				}
			}
		})
	}
}

// TestClaimsReaderGoroutines: a reader's goroutines end at the end of the
// file, at a failure and at Close, however far the caller read.
func TestClaimsReaderGoroutines(t *testing.T) {
	csvData, pqData := batchFixture(t, 20000)
	broken := bytes.Clone(csvData)
	copy(broken[len(broken)/2:], "\"never closes")
	pqBroken := bytes.Clone(pqData)
	for i := len(pqBroken) / 3; i < len(pqBroken)/2; i++ {
		pqBroken[i] = 0xff
	}
	useCSVBlock(t, 4096)
	before := runtime.NumGoroutine()
	for _, f := range []struct {
		name string
		data []byte
	}{{"claims.csv", csvData}, {"claims.parquet", pqData}, {"claims.csv", broken}, {"claims.parquet", pqBroken}} {
		path := writeFile(t, f.name, f.data)
		for _, batches := range []int{0, 1, 3, -1} { // -1: to the end (or the failure)
			for _, closeIt := range []bool{true, false} {
				if !closeIt && batches != -1 {
					continue // an abandoned reader must be closed
				}
				r, err := OpenClaims(path, 0, plan, Options{BatchSize: 100, Workers: 3})
				if err != nil {
					t.Fatal(err)
				}
				var readErr error
				for i := 0; batches < 0 || i < batches; i++ {
					b, err := r.NextBatch()
					if err != nil {
						readErr = err
						break
					}
					if i%2 == 0 {
						b.Release()
					}
				}
				if batches < 0 && readErr != io.EOF && !errors.Is(readErr, ErrCorrupt) {
					t.Fatalf("%s: %v", f.name, readErr)
				}
				if closeIt {
					if err := r.Close(); err != nil {
						t.Fatal(err)
					}
					if _, err := r.NextBatch(); err == nil || err == io.EOF && batches != -1 {
						t.Errorf("NextBatch after Close: %v", err)
					}
				}
				waitGoroutines(t, before, fmt.Sprintf("%s, %d batches, close %v", f.name, batches, closeIt))
				r.Close()
			}
		}
	}
}

// waitGoroutines waits up to 5 s for the number of goroutines to fall back
// to n.
func waitGoroutines(t *testing.T, n int, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%s: %d goroutines, %d before:\n%s", what, runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}
