package readers

import (
	"errors"
	"fmt"
	"strings"

	"claimsbatch/claim"
)

// trimSpace removes surrounding ASCII spaces and tabs. It returns a substring,
// so a trimmed field still shares the record's memory.
func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// parseInt parses an optionally signed decimal integer of at most 18 digits
// (or reads an integer token, see typedValue).
func parseInt(s string) (int64, bool) {
	if v, ok := typedValue(s); ok {
		return v, true
	}
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// isLetters reports whether s is exactly n ASCII letters.
func isLetters(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) {
			return false
		}
	}
	return true
}

// interner shares the short strings that repeat on every row (country,
// currency, benefit code, ICD-10 category), so the common case allocates
// nothing and kept lines do not each hold a copy.
type interner struct {
	upperOf map[string]string // as written → upper case
	shared  map[string]string // value → the one copy kept
}

// maxInterned bounds each map of an interner fed by hostile input.
const maxInterned = 4096

func newInterner() *interner {
	return &interner{upperOf: make(map[string]string), shared: make(map[string]string)}
}

// upper returns s in upper case (ASCII only); s itself when it already is.
func (in *interner) upper(s string) string {
	lower := false
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			lower = true
			break
		}
	}
	if !lower {
		return s
	}
	if u, ok := in.upperOf[s]; ok {
		return u
	}
	u := strings.ToUpper(s)
	if len(in.upperOf) < maxInterned {
		in.upperOf[strings.Clone(s)] = u
	}
	return u
}

// bytes returns b as a string, shared with earlier equal ones.
func (in *interner) bytes(b []byte) string {
	if s, ok := in.shared[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in.shared) < maxInterned {
		in.shared[s] = s
	}
	return s
}

// share returns a copy of s that does not point into s's memory, shared
// with earlier equal ones.
func (in *interner) share(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := in.shared[s]; ok {
		return v
	}
	v := strings.Clone(s)
	if len(in.shared) < maxInterned {
		in.shared[v] = v
	}
	return v
}

// condition checks an ICD-10 code and returns its category: the first three
// characters once dots are removed, upper case. ok is false when the code,
// dots removed, is shorter than three characters, does not start with a
// letter, or holds anything but letters and digits.
func (in *interner) condition(code string) (category string, ok bool) {
	var cat [3]byte
	n := 0
	plain := true // code[:3] is already the category
	for i := 0; i < len(code); i++ {
		c := code[i]
		if c == '.' {
			if n < 3 {
				plain = false
			}
			continue
		}
		if !isLetter(c) && !isDigit(c) || n == 0 && !isLetter(c) {
			return "", false
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
			if n < 3 {
				plain = false
			}
		}
		if n < 3 {
			cat[n] = c
		}
		n++
	}
	if n < 3 {
		return "", false
	}
	if plain {
		return code[:3], true
	}
	return in.bytes(cat[:]), true
}

// diagnosis checks a diagnosis code in its declared system and returns its
// condition (see claim.Line.Condition), or false when the code is malformed
// for the system.
func (in *interner) diagnosis(system claim.DiagnosisSystem, code string) (condition string, ok bool) {
	switch system {
	case claim.ICD10:
		return in.condition(code)
	case claim.ICD9:
		cat, ok := icd9Category(code)
		if !ok {
			return "", false
		}
		var buf [10]byte
		return in.bytes(append(append(buf[:0], "ICD9:"...), cat...)), true
	case claim.SNOMED:
		// A SNOMED CT identifier: 6 to 18 digits, no leading zero.
		if len(code) < 6 || len(code) > 18 || code[0] == '0' {
			return "", false
		}
		for i := 0; i < len(code); i++ {
			if !isDigit(code[i]) {
				return "", false
			}
		}
		return in.prefixed("SNOMED:", code), true
	case claim.OtherSystem:
		// Any code of the source's own: printable, no spaces, at most 64 bytes.
		if len(code) > 64 {
			return "", false
		}
		for _, r := range code {
			if r <= ' ' || r == 0x7f {
				return "", false
			}
		}
		return in.prefixed("OTHER:", code), true
	}
	return "", false
}

// prefixed returns prefix+code, one copy per distinct value (up to
// maxInterned of them).
func (in *interner) prefixed(prefix, code string) string {
	buf := make([]byte, 0, len(prefix)+len(code))
	return in.bytes(append(append(buf, prefix...), code...))
}

// icd9Category checks an ICD-9-CM diagnosis code, with or without its dot,
// and returns the part before the dot: three digits ("250.01", "25001" →
// "250"), "V" and two digits ("V58.61", "V5861" → "V58") or "E" and three
// digits ("E880.9", "E8809" → "E880"). Letters may be lower case.
func icd9Category(code string) ([]byte, bool) {
	head := 3
	var first byte
	if len(code) > 0 && !isDigit(code[0]) {
		first = code[0] &^ 0x20 // upper case
		switch first {
		case 'V':
		case 'E':
			head = 4
		default:
			return nil, false
		}
	}
	if len(code) < head {
		return nil, false
	}
	start := 0
	if first != 0 {
		start = 1
	}
	for i := start; i < head; i++ {
		if !isDigit(code[i]) {
			return nil, false
		}
	}
	rest := code[head:]
	if len(rest) > 0 && rest[0] == '.' {
		rest = rest[1:]
		if len(rest) == 0 {
			return nil, false
		}
	}
	most := 2
	if first == 'E' {
		most = 1
	}
	if len(rest) > most {
		return nil, false
	}
	for i := 0; i < len(rest); i++ {
		if !isDigit(rest[i]) {
			return nil, false
		}
	}
	cat := []byte(code[:head])
	if first != 0 {
		cat[0] = first
	}
	return cat, true
}

// shorten keeps a value quoted in an exception message readable.
func shorten(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	return exceptionText(s[:max]) + "…"
}

// moneyProblem says in words why ParseMoney rejected s.
func moneyProblem(name, s string, err error) string {
	switch {
	case errors.Is(err, claim.ErrMoneyPrecision):
		return fmt.Sprintf("%s %s has more than 2 decimals", name, shorten(s))
	case errors.Is(err, claim.ErrMoneyRange):
		return fmt.Sprintf("%s %s is too large", name, shorten(s))
	}
	return fmt.Sprintf("%s %s is not a decimal amount", name, shorten(s))
}

// rowCheck is the outcome of checking one row: the zero value means the row
// is good. Messages are built only for bad rows, so good rows allocate nothing.
type rowCheck struct {
	code    claim.ExceptionCode
	field   string
	message string
}

func missing(name string) rowCheck {
	return rowCheck{code: claim.MissingField, field: name, message: name + " is empty"}
}

func invalid(name, format string, args ...any) rowCheck {
	return rowCheck{code: claim.InvalidValue, field: name, message: fmt.Sprintf(format, args...)}
}

// dateCheck parses a required or optional date field; empty gives
// claim.NoDate. A date outside claim.FirstDate..claim.LastDate is invalid
// (SPEC section 7, version 2).
func dateCheck(name, s string) (claim.Date, rowCheck) {
	if s == "" {
		return claim.NoDate, rowCheck{}
	}
	d, err := parseDate(s)
	if err != nil {
		return 0, invalid(name, "%s %s is not a valid YYYY-MM-DD date", name, shorten(s))
	}
	if !d.InRange() {
		return 0, invalid(name, "%s %s is outside %s..%s", name, s, claim.FirstDate, claim.LastDate)
	}
	return d, rowCheck{}
}

// flagCheck parses a Y/N field; empty is N.
func flagCheck(name, s string) (bool, rowCheck) {
	switch s {
	case "", "N":
		return false, rowCheck{}
	case "Y":
		return true, rowCheck{}
	}
	return false, invalid(name, "%s %s is not Y or N", name, shorten(s))
}

// amountCheck parses a non-negative amount with at most 2 decimals; empty
// gives -1 (only optional columns get that far empty).
func amountCheck(name, s string) (claim.Money, rowCheck) {
	if s == "" {
		return -1, rowCheck{}
	}
	m, err := parseMoney(s)
	if err != nil {
		return 0, rowCheck{code: claim.InvalidValue, field: name, message: moneyProblem(name, s, err)}
	}
	if m < 0 {
		return 0, invalid(name, "%s %s is negative", name, shorten(s))
	}
	return m, rowCheck{}
}

// codeCheck checks a country (n = 2) or currency (n = 3) code and returns
// it upper case.
func (in *interner) codeCheck(name, s string, n int) (string, rowCheck) {
	if !isLetters(s, n) {
		return "", invalid(name, "%s %s is not %d ASCII letters", name, shorten(s), n)
	}
	return in.upper(s), rowCheck{}
}
