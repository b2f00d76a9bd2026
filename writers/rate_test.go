package writers

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestRateFast: the direct conversion of a plain decimal rate gives the
// bytes of the general one (decimal and big.Int) whenever it answers, it
// answers for the rates FX files hold, and it leaves every other form to
// the general one.
func TestRateFast(t *testing.T) {
	check := func(s string) bool {
		t.Helper()
		fast, ok := rateFast(s)
		if !ok {
			return false
		}
		slow, sok := rateSlow(s)
		if !sok || fast != slow {
			t.Fatalf("%q: fast %x, general %x (%v)", s, fast, slow, sok)
		}
		return true
	}
	for _, s := range []string{"0.25213", "1", "1.0523", "0", "0.0", "007.50", "123.456",
		"0.000000000000000001", "9999999999999999999", "999999999.9999999999", "1.000000000000000000"} {
		if !check(s) {
			t.Errorf("%q: not converted directly", s)
		}
	}
	for _, s := range []string{"", ".5", "5.", ".", "-1", "+1", "1e5", "1E5", "1.2.3", " 1", "1 ", "0x10",
		"12345678901234567890", "0.0000000000000000001", "1,5"} {
		if check(s) {
			t.Errorf("%q: converted directly", s)
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	const alphabet = "0123456789.-e"
	for range 200_000 {
		var b strings.Builder
		if rng.IntN(2) == 0 {
			for range rng.IntN(24) {
				b.WriteByte(alphabet[rng.IntN(len(alphabet))])
			}
		} else { // digits, a point, digits
			for range 1 + rng.IntN(12) {
				b.WriteByte(byte('0' + rng.IntN(10)))
			}
			b.WriteByte('.')
			for range 1 + rng.IntN(19) {
				b.WriteByte(byte('0' + rng.IntN(10)))
			}
		}
		check(b.String())
	}
}
