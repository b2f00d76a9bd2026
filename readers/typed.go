package readers

import "claimsbatch/claim"

// A typed Parquet value reaches the row checks (ClaimsReader's parse and the
// check functions it calls) without a detour through text: the typed reader
// hands the checks a short token holding the value instead of the value's
// text, and parseInt, parseDate and parseMoney, which every integer, date
// and amount check goes through, read the token directly. So one parse
// function checks CSV and Parquet rows alike, and the typed path saves the
// formatting and parsing of every date, amount and integer.
//
// A token is typedMark, the value's 8 bytes little-endian, typedMark.
// typedMark (0xFF) never occurs in valid UTF-8, and the checks only ever
// see valid UTF-8 text (both sources reject any other row as a PARSE_ERROR
// first), so no text field can be mistaken for a token; the marks at both
// ends also keep trimSpace from cutting into it. The typed reader makes a
// token only for a value the text form would parse to exactly (see
// pqColumn.cell); anything else reaches the checks as text. Tokens never
// outlive a row's check: a row that fails it is checked again from its
// text, so that messages quote values as the text path writes them.
const (
	typedMark = 0xff
	typedLen  = 10
)

// appendTyped appends the token of v to b.
func appendTyped(b []byte, v int64) []byte {
	u := uint64(v)
	return append(b, typedMark,
		byte(u), byte(u>>8), byte(u>>16), byte(u>>24), byte(u>>32), byte(u>>40), byte(u>>48), byte(u>>56),
		typedMark)
}

// typedValue returns the value of token s, or false when s is not a token.
func typedValue(s string) (int64, bool) {
	if len(s) != typedLen || s[0] != typedMark || s[typedLen-1] != typedMark {
		return 0, false
	}
	u := uint64(s[1]) | uint64(s[2])<<8 | uint64(s[3])<<16 | uint64(s[4])<<24 |
		uint64(s[5])<<32 | uint64(s[6])<<40 | uint64(s[7])<<48 | uint64(s[8])<<56
	return int64(u), true
}

// parseDate is claim.ParseDate for text, and reads a date token.
func parseDate(s string) (claim.Date, error) {
	if v, ok := typedValue(s); ok {
		return claim.Date(v), nil
	}
	return claim.ParseDate(s)
}

// parseMoney is claim.ParseMoney for text, and reads an amount token
// (cents).
func parseMoney(s string) (claim.Money, error) {
	if v, ok := typedValue(s); ok {
		return claim.Money(v), nil
	}
	return claim.ParseMoney(s)
}

// Bounds of the values a token may carry: what the text form of the value
// would parse to without error (see parseInt and claim.ParseMoney).
const (
	maxTypedInt   = 999_999_999_999_999_999 // parseInt: at most 18 digits
	maxTypedUnits = 999_999_999_999_999     // claim.ParseMoney: at most 15 integer digits
)
