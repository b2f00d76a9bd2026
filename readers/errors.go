package readers

import "errors"

// Sentinel errors. Every error a reader returns wraps one of them and names
// the file (and the row or column where there is one); check with errors.Is.
var (
	// ErrOpen: the file cannot be opened (missing, unreadable).
	ErrOpen = errors.New("readers: cannot open file")
	// ErrFormat: the file's extension is not .csv, .csv.gz or .parquet, a
	// column the reader uses has a Parquet type it does not accept, or a
	// column the reader uses appears twice.
	ErrFormat = errors.New("readers: unsupported format")
	// ErrMissingColumn: a required column is not in the file (or the file has
	// no header row at all).
	ErrMissingColumn = errors.New("readers: missing required column")
	// ErrCorrupt: the file is broken (corrupt gzip stream or Parquet page, not
	// a Parquet file, a CSV row over the size limit or a quote that never
	// closes, a decompression bomb, a malformed state file): the run cannot
	// trust anything it would read after that point.
	ErrCorrupt = errors.New("readers: corrupt file")
)
