//go:build race

package readers

// raceEnabled: the race detector slows the readers down about tenfold; the
// random comparisons run fewer files under it.
const raceEnabled = true
