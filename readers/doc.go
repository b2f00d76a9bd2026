// Package readers turns claimsbatch's input files into the domain types of
// package claim: claim lines (streamed in batches), member coverage spans,
// FX rates and the accumulator state of an earlier run.
//
// # Formats
//
// Every reader picks the format by the file's extension: ".csv", ".csv.gz"
// or ".parquet"; anything else is a configuration error ([ErrFormat]).
//
// CSV files are UTF-8, RFC 4180, comma separated, with a header row. Column
// order is free, unknown columns are ignored and names are case-sensitive
// (surrounding spaces of a header name are ignored, as is a UTF-8 byte order
// mark). CRLF line ends are accepted and completely blank lines skipped.
//
// Parquet files carry the same column names. Strings may be UTF8/STRING
// (also dictionary encoded) or unannotated BYTE_ARRAY; dates DATE or ISO
// strings; amounts DECIMAL (INT32, INT64 or FIXED_LEN_BYTE_ARRAY, any
// scale), strings, integers, or floating point when the value round-trips
// exactly to two decimals; integers INT32/INT64 or strings; Y/N flags
// BOOLEAN or strings. Columns may be OPTIONAL: a null reads as an empty
// field. Identifier columns may also be integers. Any other physical type in
// a column the reader uses fails the open ([ErrFormat]); columns the reader
// does not use may be of any flat type and only show up in an exception's
// raw text (nested columns are left out of it).
//
// # Bad rows and failures
//
// A bad row is data: it becomes a claim.Exception (PARSE_ERROR,
// MISSING_FIELD, INVALID_VALUE, UNKNOWN_BENEFIT, checked in that order as
// SPEC section 7 asks; the first failure is the row's code) and reading goes
// on. Every date of every file lies within claim.FirstDate..claim.LastDate
// (1900-01-01..2199-12-31); a claim's received_date is on or after its
// service_date and, when [Options].AsOf is set, on or before the run's as-of
// date (a line without received_date counts as received on its service
// date). Every field is trimmed of surrounding ASCII spaces and tabs before it
// is checked. An error is returned only when the file as a whole cannot be
// read: it cannot be opened ([ErrOpen]), it lacks required columns
// ([ErrMissingColumn]: a [MissingColumnsError] lists every one, with the
// header name each most likely is and a hint when the header looks separated
// by ';', a tab or '|'), its format, encoding (UTF-16, a header that is not
// UTF-8) or a column type is not supported ([ErrFormat]), or it is broken (a corrupt gzip stream or Parquet page, a
// row longer than Options.MaxRowBytes, a quote that never closes, a
// decompression bomb: [ErrCorrupt]). Errors name the file and, where there
// is one, the row and column.
//
// A CSV quote that is still open at the end of the file is a bad last row
// (PARSE_ERROR) when it opened on the file's last line: a truncated file. When
// it opened earlier, every line after it has become part of one endless
// record; those rows cannot be counted or reported one by one, so the read
// fails, naming the row, the column and the line where the quote opened.
//
// # Limits
//
// A hostile file must not exhaust the machine. Options bounds a field
// (MaxFieldBytes, 1 MiB: a longer field makes its row a PARSE_ERROR) and a
// CSV record (MaxRowBytes, 4 MiB: a longer one fails the read, as no later
// row boundary could be trusted). A compressed file may expand to at most
// MaxExpansion (100) times its size on disk, and always to 64 MiB: a .csv.gz
// file counts the bytes it decompresses to, a Parquet file every byte the
// decoder allocates for it (decompressed pages and decoded columns). Past
// that the read fails with ErrCorrupt ("decompressed more than N bytes from a
// file of M bytes ... a decompression bomb?"). (Row groups decoded at the
// same time share a Parquet file's budget: with several workers the row
// that failure names can vary by a few row groups from run to run.) Real extracts stay far below:
// a claims CSV gzips about 4 to 1, and a dictionary-encoded, compressed
// Parquet claims file decodes to 12 to 20 times its size. The package also
// replaces arrow-go's zstd and snappy page decoders, process-wide, with ones
// that decode at most the size a page header declares: the originals first
// allocated whatever size the compressed stream claimed (up to 64 GiB for
// zstd, 4 GiB for snappy) for a page of a few bytes.
//
// An exception's Raw is the row as read: for CSV the record's original text
// without its line terminator (several physical lines for a record with
// quoted newlines), for Parquet the row's values joined as a CSV line in the
// file's column order. Raw is cut at 4 KiB (ending in "…") and invalid UTF-8
// in it is replaced by U+FFFD so that the exceptions file stays valid UTF-8.
//
// # Which reader streams
//
// [ClaimsReader], [StateReader] and [MembersReader] stream: claims files are
// the big inputs, a state file keeps every adjudicated line key of a chain
// of runs, and a members file may list millions of members, so all three
// are read in batches and never held whole ([RawRows] gives back the text
// of chosen members rows afterwards). The state reader also
// checks the state's END trailer (claim.StateDigest) as it goes, and that no
// amount or count is negative: a state cut short or edited fails with
// [ErrCorrupt], naming the row and, for a plan accumulator, its kind, scope
// and key, never the member. [ReadFX] loads its whole file on purpose: FX rates are
// a small dimension table the pipeline needs in full before the first claim
// can be priced. [ReadMembers] and [ReadState] are the whole-file forms of
// [MembersReader] and [StateReader], for tools and tests. [OpenTable] reads
// chosen columns of any CSV or Parquet table as text, for the tools that read
// a run's outputs back (verify, diff).
//
// A claims file is also read on all cores ([Options].Workers goroutines).
// A CSV file is read (and decompressed) by one goroutine in blocks of
// 512 KiB cut at record ends; the blocks are parsed and checked in
// parallel, with the rules of encoding/csv (the same records, PARSE_ERROR
// messages and line numbers, raw text and failures as a sequential read).
// A Parquet file is read row group by row group, in parallel: the columns of
// the common types (strings, DATE, DECIMAL as INT32, INT64 or
// FIXED_LEN_BYTE_ARRAY, INT32, INT64, BOOLEAN) with arrow-go's typed
// column readers straight into the values the row checks take, without
// text; other types, and columns the reader does not use, through Arrow
// as text. Both go through the same row checks, and a row that fails them
// is checked again from its text, so a Parquet row gives the line and the
// exception its text would give. [ClaimsReader.NextBatch] returns the
// batches in file order, for the caller to process concurrently; each holds
// its buffers until released. In flight beyond the batches the caller holds:
// about 64 Ki rows of batches, and for CSV Workers+2 blocks.
//
// Readers return values and run no caller logic: the run-level checks that
// need other files (UNKNOWN_MEMBER, INVALID_MEMBER, NO_FX_RATE,
// DUPLICATE_LINE) run in the pipeline on what a reader returns;
// [ClaimsReader.Reject] builds the exception for an accepted line the caller
// rejects, with its raw text when [Options].KeepRaw is set.
//
// It may import only claim.
package readers
