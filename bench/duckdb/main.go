// Command sortcopy is the benchmark peer of claimsbatch: DuckDB reading the
// same claims file, sorting it the way claimsbatch groups lines
// (member_id, service_date, claim_id, line_no) and writing it back in the same
// format. It does nothing else — no checks, no adjudication — so it is a
// lower bound for "read, sort, write" on this machine, not an equivalent job.
//
// It lives in its own module (claimsbatch/bench/duckdb) because DuckDB needs
// cgo; the product binary stays pure Go.
//
//	sortcopy --in claims.parquet --out sorted.parquet --format parquet [--threads 2] [--csv-types varchar|auto]
//	         [--memory-limit 512MB --temp-dir DIR]
//
// With --memory-limit DuckDB sorts within that memory and spills the rest to
// --temp-dir (DuckDB's default for an in-memory database is ".tmp" in the
// working directory). It prints the rows copied and the seconds the COPY
// statement took.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sortcopy:", err)
		os.Exit(1)
	}
}

func run() error {
	in := flag.String("in", "", "input claims file (.csv or .parquet)")
	out := flag.String("out", "", "output file")
	format := flag.String("format", "", "input and output format: csv or parquet")
	threads := flag.Int("threads", runtime.NumCPU(), "DuckDB threads")
	memoryLimit := flag.String("memory-limit", "", "DuckDB memory_limit (e.g. 512MB); empty = DuckDB's default")
	tempDir := flag.String("temp-dir", "", "DuckDB temp_directory, where a memory-limited sort spills; empty = DuckDB's default")
	csvTypes := flag.String("csv-types", "varchar", "CSV column types: varchar (all text; never fails on a bad value) or auto (sniffed from a sample)")
	flag.Parse()
	if *in == "" || *out == "" {
		return errors.New("--in and --out are required")
	}
	var source, target string
	orderBy := "member_id, service_date, claim_id, line_no"
	switch *format {
	case "csv":
		// The dialect is given (RFC 4180, as claimsbatch reads it) and
		// strict_mode is off because the generated extracts hold malformed
		// rows on purpose (--bad-share), which defeat DuckDB's dialect
		// sniffer; null_padding keeps short rows instead of failing.
		switch *csvTypes {
		case "varchar":
			// Every column as text, so no bad value can stop the copy and
			// every row is copied byte for byte. ISO dates sort right as
			// text; line_no is compared as a number where it is one.
			source = fmt.Sprintf("read_csv(%s, header = true, delim = ',', quote = '\"', escape = '\"', strict_mode = false, null_padding = true, all_varchar = true)", quote(*in))
			orderBy = "member_id, service_date, claim_id, TRY_CAST(line_no AS BIGINT), line_no"
		case "auto":
			// Types sniffed from a sample (DATE, BIGINT, DOUBLE): more work
			// for DuckDB, but a bad value outside the sample fails the copy.
			source = fmt.Sprintf("read_csv(%s, header = true, delim = ',', quote = '\"', escape = '\"', strict_mode = false, null_padding = true)", quote(*in))
		default:
			return fmt.Errorf("--csv-types %q: want varchar or auto", *csvTypes)
		}
		target = "(FORMAT CSV, HEADER)"
	case "parquet":
		source = fmt.Sprintf("read_parquet(%s)", quote(*in))
		target = "(FORMAT PARQUET)"
	default:
		return fmt.Errorf("--format %q: want csv or parquet", *format)
	}

	db, err := sql.Open("duckdb", "") // in memory; spills go to DuckDB's temp directory
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // SET applies per connection
	ctx := context.Background()
	settings := []string{fmt.Sprintf("SET threads = %d", *threads)}
	if *memoryLimit != "" {
		settings = append(settings, fmt.Sprintf("SET memory_limit = %s", quote(*memoryLimit)))
	}
	if *tempDir != "" {
		settings = append(settings, fmt.Sprintf("SET temp_directory = %s", quote(*tempDir)))
	}
	for _, s := range settings {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}

	stmt := fmt.Sprintf("COPY (SELECT * FROM %s ORDER BY %s) TO %s %s", source, orderBy, quote(*out), target)
	start := time.Now()
	res, err := db.ExecContext(ctx, stmt)
	if err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	}
	elapsed := time.Since(start)
	rows, err := res.RowsAffected()
	if err != nil {
		return err
	}
	var limit string
	if err := db.QueryRowContext(ctx, "SELECT current_setting('memory_limit')").Scan(&limit); err != nil {
		return err
	}
	fmt.Printf("sortcopy rows %d seconds %.3f threads %d memory_limit %s\n", rows, elapsed.Seconds(), *threads, limit)
	return nil
}

// quote makes s a SQL string literal.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
