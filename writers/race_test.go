//go:build race

package writers

// raceEnabled is true under the race detector, which makes the large
// comparisons several times slower; they use fewer rows then.
const raceEnabled = true
