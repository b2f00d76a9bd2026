// Command compare checks that two claimsbatch runs of the same inputs
// published the same results: bench/run.sh runs the binary of a base
// revision and the current one on one data set and calls it on their output
// directories.
//
//	compare --old DIR --new DIR
//
// For each data file in either directory:
//
//   - CSV (.csv) must be byte-identical; the first differing line is shown.
//   - Parquet (.parquet) must have the same schema (every column's name,
//     physical and logical type, repetition, as the footer says) and the
//     same values, row for row: both files are read with readers.OpenTable,
//     which renders every value as text, and compared record by record. The
//     bytes may differ (encodings, compression, statistics).
//
// manifest.json must have the same control totals and the same data outputs
// with the same row counts (their hashes differ where Parquet bytes do; tool
// versions and input paths are not compared). Other files (report.html, the
// page drawn from the data files and the manifest) are listed, not compared:
// one only in the new run is an output added since the base, not a change
// of results.
//
// It prints one line per file and a verdict; the exit code is 0 when
// everything matched, 1 when something differed and 2 on a usage error or
// an unreadable file.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"claimsbatch/readers"
)

func main() {
	oldDir := flag.String("old", "", "output directory of the base binary")
	newDir := flag.String("new", "", "output directory of the binary under test")
	flag.Parse()
	if *oldDir == "" || *newDir == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: compare --old DIR --new DIR")
		os.Exit(2)
	}
	same, err := compareDirs(os.Stdout, *oldDir, *newDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(2)
	}
	if !same {
		fmt.Println("verdict: DIFFERENT")
		os.Exit(1)
	}
	fmt.Println("verdict: SAME")
}

// errDiff marks a difference (as opposed to a file that cannot be read).
var errDiff = errors.New("differs")

// compareDirs compares every data file and the manifests, printing a line
// per file; it reports whether all matched.
func compareDirs(out io.Writer, oldDir, newDir string) (bool, error) {
	names := map[string]bool{}
	for _, dir := range []string{oldDir, newDir} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return false, err
		}
		for _, e := range entries {
			if n := e.Name(); !e.IsDir() && !strings.HasPrefix(n, ".") {
				names[n] = true
			}
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	slices.Sort(sorted)
	same := true
	for _, name := range sorted {
		oldPath, newPath := filepath.Join(oldDir, name), filepath.Join(newDir, name)
		var (
			what string
			err  error
		)
		switch {
		case !isData(name) && exists(newPath) && !exists(oldPath):
			fmt.Fprintf(out, "%-20s only in the new run: not a data file, not compared\n", name)
			continue
		case !exists(oldPath) || !exists(newPath):
			what, err = "", fmt.Errorf("%w: only in one run", errDiff)
		case name == "manifest.json":
			what, err = compareManifests(oldPath, newPath)
		case strings.HasSuffix(name, ".csv"):
			what, err = compareBytes(oldPath, newPath)
		case strings.HasSuffix(name, ".parquet"):
			what, err = compareParquet(oldPath, newPath)
		default:
			fmt.Fprintf(out, "%-20s not compared\n", name)
			continue
		}
		switch {
		case errors.Is(err, errDiff):
			same = false
			fmt.Fprintf(out, "%-20s DIFFERENT: %v\n", name, err)
		case err != nil:
			return false, fmt.Errorf("%s: %w", name, err)
		default:
			fmt.Fprintf(out, "%-20s same (%s)\n", name, what)
		}
	}
	return same, nil
}

// isData reports whether a run's file is one of its data tables.
func isData(name string) bool {
	return strings.HasSuffix(name, ".csv") || strings.HasSuffix(name, ".parquet")
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// compareBytes compares two files byte for byte, line by line.
func compareBytes(oldPath, newPath string) (string, error) {
	a, err := os.Open(oldPath)
	if err != nil {
		return "", err
	}
	defer a.Close()
	b, err := os.Open(newPath)
	if err != nil {
		return "", err
	}
	defer b.Close()
	ra, rb := bufio.NewReaderSize(a, 1<<20), bufio.NewReaderSize(b, 1<<20)
	var n, size int64
	for {
		la, errA := ra.ReadSlice('\n')
		la = bytes.Clone(la) // ReadSlice's buffer is overwritten by the next call
		lb, errB := rb.ReadSlice('\n')
		if errA != nil && !errors.Is(errA, io.EOF) && !errors.Is(errA, bufio.ErrBufferFull) {
			return "", errA
		}
		if errB != nil && !errors.Is(errB, io.EOF) && !errors.Is(errB, bufio.ErrBufferFull) {
			return "", errB
		}
		if !bytes.Equal(la, lb) {
			return "", fmt.Errorf("%w: at line %d:\n  old %q\n  new %q", errDiff, n+1, cut(string(la)), cut(string(lb)))
		}
		size += int64(len(la))
		if errors.Is(errA, io.EOF) {
			return fmt.Sprintf("byte-identical, %d lines, %d bytes", n, size), nil
		}
		if !errors.Is(errA, bufio.ErrBufferFull) {
			n++
		}
	}
}

func cut(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// compareParquet compares two Parquet files' schemas and values.
func compareParquet(oldPath, newPath string) (string, error) {
	oldSchema, err := parquetSchema(oldPath)
	if err != nil {
		return "", err
	}
	newSchema, err := parquetSchema(newPath)
	if err != nil {
		return "", err
	}
	if !slices.Equal(oldSchema, newSchema) {
		return "", fmt.Errorf("%w: schema:\n  old %s\n  new %s", errDiff, strings.Join(oldSchema, "\n      "), strings.Join(newSchema, "\n      "))
	}

	oldR, err := openAll(oldPath)
	if err != nil {
		return "", err
	}
	defer oldR.Close()
	newR, err := openAll(newPath)
	if err != nil {
		return "", err
	}
	defer newR.Close()
	header := oldR.Header()
	var rows int64
	for {
		okA, okB := oldR.Next(), newR.Next()
		if err := oldR.Err(); err != nil {
			return "", err
		}
		if err := newR.Err(); err != nil {
			return "", err
		}
		if okA != okB {
			return "", fmt.Errorf("%w: the old file has %s rows than the new one (after %d)", errDiff, map[bool]string{true: "more", false: "fewer"}[okA], rows)
		}
		if !okA {
			return fmt.Sprintf("same schema (%d columns), same values, %d rows", len(header), rows), nil
		}
		rows++
		a, b := oldR.Record(), newR.Record()
		for c := range a {
			if a[c] != b[c] {
				return "", fmt.Errorf("%w: row %d, column %s: old %q, new %q", errDiff, rows, header[c], cut(a[c]), cut(b[c]))
			}
		}
	}
}

// openAll opens a table with every column of its header.
func openAll(path string) (*readers.TableReader, error) {
	r, err := readers.OpenTable(path, nil, readers.Options{})
	if err != nil {
		return nil, err
	}
	header := slices.Clone(r.Header())
	r.Close()
	cols := make([]readers.TableColumn, len(header))
	for i, h := range header {
		cols[i] = readers.TableColumn{Name: h}
	}
	return readers.OpenTable(path, cols, readers.Options{})
}

// parquetSchema describes a Parquet file's schema, one line per node.
func parquetSchema(path string) ([]string, error) {
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, err
	}
	defer pf.Close()
	sc := pf.MetaData().Schema
	root := sc.Root()
	out := []string{fmt.Sprintf("root %s %s", root.Name(), root.RepetitionType())}
	for i := 0; i < sc.NumColumns(); i++ {
		c := sc.Column(i)
		node, ok := c.SchemaNode().(*schema.PrimitiveNode)
		if !ok {
			return nil, fmt.Errorf("column %s is not a primitive", c.Path())
		}
		out = append(out, fmt.Sprintf("%s %s %s converted %s length %d decimal %+v %s field id %d",
			c.Path(), c.PhysicalType(), c.LogicalType(), c.ConvertedType(), c.TypeLength(),
			node.DecimalMetadata(), node.RepetitionType(), node.FieldID()))
	}
	return out, nil
}

// compareManifests compares the control totals and the outputs' names and
// row counts of two manifests.
func compareManifests(oldPath, newPath string) (string, error) {
	type output struct {
		Name string `json:"name"`
		Rows int64  `json:"rows"`
	}
	type manifest struct {
		Outputs       []output `json:"outputs"`
		ControlTotals any      `json:"control_totals"`
	}
	read := func(path string) (*manifest, error) {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var m manifest
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return &m, nil
	}
	a, err := read(oldPath)
	if err != nil {
		return "", err
	}
	b, err := read(newPath)
	if err != nil {
		return "", err
	}
	a.Outputs = slices.DeleteFunc(a.Outputs, func(o output) bool { return !isData(o.Name) })
	b.Outputs = slices.DeleteFunc(b.Outputs, func(o output) bool { return !isData(o.Name) })
	if !reflect.DeepEqual(a.Outputs, b.Outputs) {
		return "", fmt.Errorf("%w: outputs: old %+v, new %+v", errDiff, a.Outputs, b.Outputs)
	}
	if !reflect.DeepEqual(a.ControlTotals, b.ControlTotals) {
		oldJSON, _ := json.Marshal(a.ControlTotals)
		newJSON, _ := json.Marshal(b.ControlTotals)
		return "", fmt.Errorf("%w: control totals:\n  old %s\n  new %s", errDiff, oldJSON, newJSON)
	}
	return fmt.Sprintf("same control totals, %d data outputs with the same row counts", len(a.Outputs)), nil
}
