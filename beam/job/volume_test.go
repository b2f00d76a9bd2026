package job

import (
	"context"
	"io"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/readers"
)

// TestShuffleVolume measures, on the generated set, what the two big
// shuffles carry per claims line, encoded by Beam's coders as the
// pipeline's stages encode them: KV<(claim_id, line_no), KeyedLine> into
// the DUPLICATE_LINE CoGroupByKey, KV<member_id, claim.Line> into the
// member CoGroupByKey. docs/DISTRIBUTED.md quotes its log. It checks only
// that the figures are of the expected order, so that the document's
// figures stay true.
func TestShuffleVolume(t *testing.T) {
	g := generatedSet(t)
	set := Settings{Claims: []string{g.csv}, Members: g.members, FX: g.fx, OutDir: t.TempDir(), AsOf: mustDate(t, g.asOf), StateKeepYears: 2}
	p, err := prepared(context.Background(), set)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseWorkerRefs()
	pricer := p.Pricer()
	kc, lc := NewCodec[KeyedLine](), NewCodec[claim.Line]()
	cr, err := readers.OpenClaims(g.csv, 0, p.Plan(), readers.Options{AsOf: set.AsOf})
	if err != nil {
		t.Fatal(err)
	}
	defer cr.Close()
	var lines, byKey, byMember, raw int64
	for {
		b, err := cr.NextBatch()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range b.Lines {
			l := b.Lines[i]
			if _, why := pricer.Price(&l); why.Code != "" {
				continue
			}
			kl := KeyedLine{Line: l, Raw: b.Raw(i)}
			v, err := kc.Encode(kl)
			if err != nil {
				t.Fatal(err)
			}
			byKey += int64(len(lineGroupKey(l.ClaimID, l.LineNo)) + len(v))
			raw += int64(len(kl.Raw))
			if v, err = lc.Encode(l); err != nil {
				t.Fatal(err)
			}
			byMember += int64(len(l.MemberID) + len(v))
			lines++
		}
	}
	t.Logf("%d priced lines: %.0f bytes a line into the (claim_id, line_no) shuffle (%.0f of them the raw row), %.0f into the member shuffle",
		lines, float64(byKey)/float64(lines), float64(raw)/float64(lines), float64(byMember)/float64(lines))
	if per := byKey / lines; per < 100 || per > 600 {
		t.Errorf("%d bytes a line into the key shuffle: not the order docs/DISTRIBUTED.md quotes", per)
	}
	if per := byMember / lines; per < 50 || per > 400 {
		t.Errorf("%d bytes a line into the member shuffle: not the order docs/DISTRIBUTED.md quotes", per)
	}
}
