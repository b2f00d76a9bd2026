package writers

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
	xreader "github.com/xitongsys/parquet-go/reader"

	"claimsbatch/claim"
	"claimsbatch/readers"
)

// The typed column writers against the Parquet writer they replaced (the
// pqarrow encoder, kept in refparquet_test.go): the same schema, element for
// element, and the same values, row for row, read back by readers.OpenTable
// and by xitongsys/parquet-go, for the sample rows and for generated ones.

// oldAndNew writes the same rows with the old and the new Parquet encoder,
// through the table's real emit function: write gets a table writer made by
// open and must write the rows and close it.
type oldAndNew struct {
	name   string
	schema []colSpec
	// write writes the rows to out, with the old encoder if old.
	write func(out io.Writer, old bool) error
}

// writeWith makes a table writer for out (the old encoder if old) with
// newWriter and writes rows in batches of chunk.
func writeWith[T any](out io.Writer, old bool, rows []T, chunk int, newWriter func(io.Writer, Format) (*table[T], rowWriter[T], error)) error {
	f := Parquet
	w := out
	if old {
		f, w = CSV, io.Discard
	}
	t, rw, err := newWriter(w, f)
	if err != nil {
		return err
	}
	if old {
		if err := useRefEncoder(t, out); err != nil {
			return err
		}
	}
	return writeChunks(rw, rows, chunk)
}

func remittanceCase(results []claim.Result) oldAndNew {
	return oldAndNew{"remittance", remittanceSchema, func(out io.Writer, old bool) error {
		return writeWith(out, old, results, 1000, func(w io.Writer, f Format) (*table[claim.Result], rowWriter[claim.Result], error) {
			tw, err := NewRemittanceWriter(w, f, sampleRunID)
			if err != nil {
				return nil, nil, err
			}
			return tw.t, tw, nil
		})
	}}
}

func stateCase(recs []claim.StateRecord) oldAndNew {
	return oldAndNew{"state", stateSchema, func(out io.Writer, old bool) error {
		return writeWith(out, old, recs, 1000, func(w io.Writer, f Format) (*table[claim.StateRecord], rowWriter[claim.StateRecord], error) {
			tw, err := NewStateWriter(w, f)
			if err != nil {
				return nil, nil, err
			}
			return tw.t, tw, nil
		})
	}}
}

func paymentsCase(rows []PaymentRow) oldAndNew {
	return oldAndNew{"payments", paymentsSchema, func(out io.Writer, old bool) error {
		return writeWith(out, old, rows, 1000, func(w io.Writer, f Format) (*table[PaymentRow], rowWriter[PaymentRow], error) {
			tw, err := NewPaymentsWriter(w, f)
			if err != nil {
				return nil, nil, err
			}
			return tw.t, tw, nil
		})
	}}
}

func exceptionsCase(ex []claim.Exception) oldAndNew {
	return oldAndNew{"exceptions", exceptionsSchema, func(out io.Writer, old bool) error {
		return writeWith(out, old, ex, 1000, func(w io.Writer, f Format) (*table[claim.Exception], rowWriter[claim.Exception], error) {
			tw, err := NewExceptionsWriter(w, f)
			if err != nil {
				return nil, nil, err
			}
			return tw.t, tw, nil
		})
	}}
}

// compareParquet checks that two Parquet files hold the same schema (every
// schema element of the footer, as xitongsys decodes it: names, physical,
// converted and logical types, repetition, precision, scale, field ids) and
// the same values, row for row, read by readers.OpenTable (as text) and by
// xitongsys (as typed values).
func compareParquet(t *testing.T, specs []colSpec, old, new []byte) {
	t.Helper()
	oldSchema, newSchema := footerSchema(t, old), footerSchema(t, new)
	if !reflect.DeepEqual(oldSchema, newSchema) {
		t.Errorf("schemas differ:\nold %s\nnew %s", strings.Join(oldSchema, "\n    "), strings.Join(newSchema, "\n    "))
	}

	dir := t.TempDir()
	oldRecs := readTable(t, filepath.Join(dir, "old.parquet"), old, specs)
	newRecs := readTable(t, filepath.Join(dir, "new.parquet"), new, specs)
	if len(oldRecs) != len(newRecs) {
		t.Fatalf("readers.OpenTable: %d rows old, %d new", len(oldRecs), len(newRecs))
	}
	for i := range oldRecs {
		if !reflect.DeepEqual(oldRecs[i], newRecs[i]) {
			t.Fatalf("readers.OpenTable: row %d differs:\nold %q\nnew %q", i+1, oldRecs[i], newRecs[i])
		}
	}

	oldRows, newRows := readWithXitongsys(t, old, specs), readWithXitongsys(t, new, specs)
	if len(oldRows) != len(newRows) {
		t.Fatalf("xitongsys: %d rows old, %d new", len(oldRows), len(newRows))
	}
	for i := range oldRows {
		if !reflect.DeepEqual(oldRows[i], newRows[i]) {
			t.Fatalf("xitongsys: row %d differs:\nold %#v\nnew %#v", i+1, oldRows[i], newRows[i])
		}
	}
}

// footerSchema returns the schema of a Parquet file as text: every schema
// element of the footer as xitongsys decodes it (field by field, unset
// ones as "-"), then every leaf as arrow-go describes it.
func footerSchema(t *testing.T, data []byte) []string {
	t.Helper()
	pr, err := xreader.NewParquetColumnReader(newMemFile(data), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.ReadStop()
	var out []string
	opt := func(set bool, v any) string {
		if !set {
			return "-"
		}
		return fmt.Sprint(v)
	}
	for _, el := range pr.Footer.GetSchema() {
		out = append(out, fmt.Sprintf("xitongsys: name %s type %s length %s repetition %s children %s converted %s scale %s precision %s field id %s logical %s",
			el.GetName(), opt(el.IsSetType(), el.GetType()), opt(el.IsSetTypeLength(), el.GetTypeLength()),
			opt(el.IsSetRepetitionType(), el.GetRepetitionType()), opt(el.IsSetNumChildren(), el.GetNumChildren()),
			opt(el.IsSetConvertedType(), el.GetConvertedType()), opt(el.IsSetScale(), el.GetScale()),
			opt(el.IsSetPrecision(), el.GetPrecision()), opt(el.IsSetFieldID(), el.GetFieldID()),
			opt(el.IsSetLogicalType(), el.GetLogicalType())))
	}
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	sc := pf.MetaData().Schema
	root := sc.Root()
	out = append(out, fmt.Sprintf("arrow-go: root %s %s field id %d", root.Name(), root.RepetitionType(), root.FieldID()))
	for i := 0; i < sc.NumColumns(); i++ {
		c := sc.Column(i)
		node := c.SchemaNode().(*schema.PrimitiveNode)
		out = append(out, fmt.Sprintf("arrow-go: %s %s %s converted %s length %d decimal %+v repetition %s max definition %d field id %d order %v",
			c.Path(), c.PhysicalType(), c.LogicalType(), c.ConvertedType(), c.TypeLength(), node.DecimalMetadata(),
			node.RepetitionType(), c.MaxDefinitionLevel(), node.FieldID(), c.ColumnOrder()))
	}
	return out
}

// readTable writes data to path and reads every column of specs with
// readers.OpenTable.
func readTable(t *testing.T, path string, data []byte, specs []colSpec) [][]string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cols := make([]readers.TableColumn, len(specs))
	for i, s := range specs {
		cols[i] = readers.TableColumn{Name: s.name}
	}
	r, err := readers.OpenTable(path, cols, readers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var recs [][]string
	for r.Next() {
		recs = append(recs, append([]string(nil), r.Record()...))
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestParquetSameAsOldWriter(t *testing.T) {
	n := 200_000
	if testing.Short() || raceEnabled {
		n = 20_000
	}
	results := benchResults(n)
	// Awkward values among the generated ones: invalid UTF-8, quotes,
	// absent optional dates, negative and large amounts.
	results[7].Remark = "bad \xff byte"
	results[8].Line.ClaimID = `C"0,1` + "\n"
	results[9].PolicyYearStart = claim.NoDate
	results[10].PlanPaid = -maxDecimal18
	results[11].Line.BenefitCode = "Ünïcode"
	exceptions := benchExceptions(n / 10)
	exceptions[3].Raw = "raw \xc3\x28 invalid"
	cases := []struct {
		name string
		oldAndNew
	}{
		{"sample", remittanceCase(sampleResults())},
		{"sample", stateCase(sampleState())},
		{"sample", paymentsCase(samplePayments())},
		{"sample", exceptionsCase(sampleExceptions())},
		{"generated", remittanceCase(results)},
		{"generated", stateCase(benchState(n))},
		{"generated", paymentsCase(benchPayments(n / 10))},
		{"generated", exceptionsCase(exceptions)},
	}
	for _, tc := range cases {
		t.Run(tc.name+"/"+tc.oldAndNew.name, func(t *testing.T) {
			var old, new bytes.Buffer
			if err := tc.write(&old, true); err != nil {
				t.Fatal(err)
			}
			if err := tc.write(&new, false); err != nil {
				t.Fatal(err)
			}
			compareParquet(t, tc.schema, old.Bytes(), new.Bytes())
			t.Logf("%d bytes with the old writer, %d with the new", old.Len(), new.Len())
		})
	}
}

// TestParquetSameAsOldWriterFromCSV compares the two writers on whatever
// CSV tables of a run are in $CLAIMSBATCH_COMPARE_RUN (a directory with
// remittance.csv, state.csv, payments.csv, exceptions.csv), loaded as typed
// columns: for checking a large run by hand. Skipped without it.
func TestParquetSameAsOldWriterFromCSV(t *testing.T) {
	dir := os.Getenv("CLAIMSBATCH_COMPARE_RUN")
	if dir == "" {
		t.Skip("CLAIMSBATCH_COMPARE_RUN is not set")
	}
	for _, tc := range tableCases {
		t.Run(tc.name, func(t *testing.T) {
			tt, err := loadTextTable(filepath.Join(dir, tc.name+".csv"), tc.schema)
			if err != nil {
				t.Fatal(err)
			}
			var old, new bytes.Buffer
			oldEnc, err := newRefEncoder(&old, tc.schema)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.writeTo(oldEnc); err != nil {
				t.Fatal(err)
			}
			newEnc, err := newParquetEncoder(&new, tc.schema)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.writeTo(newEnc); err != nil {
				t.Fatal(err)
			}
			compareParquet(t, tc.schema, old.Bytes(), new.Bytes())
			fmt.Printf("%s: %d rows, %d bytes old, %d new\n", tc.name, tt.rows, old.Len(), new.Len())
		})
	}
}
