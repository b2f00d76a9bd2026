// Package writers writes the output files of a claimsbatch run (SPEC section 7):
// the remittance, payments, exceptions and state tables in CSV or Parquet, and
// the manifest that describes the run.
//
// # Tables
//
// Each table has a streaming writer: a constructor taking an io.Writer and a
// Format, Write called any number of times with a batch of rows, and Close,
// which flushes and reports the first error of the whole stream. Writers never
// close the io.Writer they were given; the caller (usually a Publisher) owns it.
// A writer keeps no reference to the rows passed to Write once Write returns.
//
// The columns, in order, are fixed by the SPEC; one schema per table drives
// both formats, so the CSV header and the Parquet schema cannot drift apart.
//
// CSV is RFC 4180 as encoding/csv writes it: a header row, "\n" line ends, a
// field quoted only when it holds a comma, a double quote, \r or \n, starts
// with a space (any Unicode space), or is exactly `\.`. Amounts have exactly
// two decimals, dates are YYYY-MM-DD, and an absent date is an empty field.
// Rows are formatted into one reused buffer and written in blocks of 256 KiB.
//
// Parquet is written with arrow-go's Parquet column writers: each row's
// values are appended to typed column buffers (text as bytes and offsets,
// dates as INT32 days, amounts as INT64 cents), and every 64 Ki rows the
// buffers are written as one row group, column by column, so a writer holds
// at most one row group in memory and the bytes depend only on the rows
// written, not on how they were batched. Dates are DATE (INT32 days since
// 1970-01-01), amounts DECIMAL(18,2) stored as INT64 (the unscaled cents of
// claim.Money), counts INT64, the remittance's line_no INT32 (the
// exceptions' line_no is text: the field as read), and text UTF8. Text
// columns are required: an absent value is the empty string, exactly as in
// CSV. The only nullable columns are the dates that may be absent
// (remittance policy_year_start and state scope), null where CSV has an
// empty field. Invalid UTF-8 (a PARSE_ERROR row's raw text may hold some)
// is replaced by U+FFFD in Parquet, which requires valid UTF-8; CSV keeps
// the bytes as read. The code columns (run id, benefit code, module,
// currencies, status, kind ...) are dictionary-encoded in each row group
// where at most half the rows hold distinct values, the rest plain; pages
// are snappy-compressed (the codec is chosen in parquet.go). No timestamps or random values go into the
// file metadata.
//
// # Publishing
//
// A Publisher creates every output under a temporary name in the output
// directory and publishes them all by rename in Commit, the manifest last, so
// a run that dies half-way leaves only ".claimsbatch-tmp-*" files and never a
// final name holding partial data.
//
// # Manifest
//
// WriteManifest writes the run's manifest.json. HashingWriter computes the
// SHA-256 and size of an output while it is written, for the manifest.
//
// It may import only claim and internal/arrowmem.
package writers
