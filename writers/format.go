package writers

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of this package, for errors.Is.
var (
	// ErrUnknownFormat is returned by ParseFormat for a name it does not know.
	ErrUnknownFormat = errors.New("writers: unknown format")
	// ErrClosed is returned by Write after Close, and by a Publisher used
	// after Commit or Abort.
	ErrClosed = errors.New("writers: already closed")
)

// Format is the file format of the output tables. The zero value is CSV, the
// SPEC's default.
type Format int

// Formats.
const (
	CSV Format = iota
	Parquet
)

// ParseFormat returns the format named s: "csv" or "parquet" (any case).
func ParseFormat(s string) (Format, error) {
	switch {
	case strings.EqualFold(s, "csv"):
		return CSV, nil
	case strings.EqualFold(s, "parquet"):
		return Parquet, nil
	}
	return 0, fmt.Errorf("%w %q (want csv or parquet)", ErrUnknownFormat, s)
}

// String returns "csv" or "parquet".
func (f Format) String() string {
	switch f {
	case CSV:
		return "csv"
	case Parquet:
		return "parquet"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Ext returns the file name extension of the format: ".csv" or ".parquet".
func (f Format) Ext() string {
	switch f {
	case CSV:
		return ".csv"
	case Parquet:
		return ".parquet"
	}
	return ""
}
