package engine

import (
	"math/rand/v2"
	"testing"

	"claimsbatch/claim"
)

// BenchmarkAdjudicate measures the engine alone on a realistic mix: 1,000
// random members of ~20 lines each, one reused Member, as a worker runs.
func BenchmarkAdjudicate(b *testing.B) {
	rng := rand.New(rand.NewPCG(11, 12))
	type member struct {
		spans []claim.Span
		lines []claim.Line
	}
	var ms []member
	total := 0
	for i := 0; i < 1000; i++ {
		s, l := randomMember(rng, "M"+itoa(i), 5+rng.IntN(30))
		ms = append(ms, member{s, l})
		total += len(l)
	}
	m := testEngine.NewMember()
	out := make([]claim.Result, 0, 256)
	// Warm the Member's reusable memory.
	for _, mb := range ms {
		m.Reset()
		out = testEngine.Adjudicate(m, mb.spans, mb.lines, out[:0])
	}
	b.ReportAllocs()
	b.ResetTimer()
	lines := 0
	for i := 0; i < b.N; i++ {
		mb := &ms[i%len(ms)]
		m.Reset()
		out = testEngine.Adjudicate(m, mb.spans, mb.lines, out[:0])
		lines += len(mb.lines)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(lines), "ns/line")
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
	_ = total
}
