package synth

import (
	"context"
	"sort"
)

// fxStream is the PCG stream of the FX rates; member blocks use odd streams.
const fxStream = 0

// writeFX writes rates from fxFirst to fxLast for every billing currency
// against every plan currency. Pairs of two daily currencies (the plan
// currencies and CHF) get a rate every day, the others weekly, so that "the
// latest rate on or before the service date" is exercised. Each currency's
// value in USD follows a mean-reverting random walk in integer nano-dollars,
// and a rate is the ratio of two values rounded to 6 decimals.
func (g *gen) writeFX(ctx context.Context) error {
	r := newRNG(g.cfg.Seed, fxStream)
	type pair struct {
		currency, plan int // indexes in g.currencies
		daily          bool
	}
	var pairs []pair
	for ci := range g.currencies {
		for _, pc := range g.planCurIdx {
			if ci == int(pc) {
				continue
			}
			pairs = append(pairs, pair{ci, int(pc), g.currencies[ci].daily && g.currencies[pc].daily})
		}
	}
	sort.Slice(pairs, func(a, b int) bool {
		ca, cb := g.currencies[pairs[a].currency].code, g.currencies[pairs[b].currency].code
		if ca != cb {
			return ca < cb
		}
		return g.currencies[pairs[a].plan].code < g.currencies[pairs[b].plan].code
	})

	base := make([]int64, len(g.currencies))
	value := make([]int64, len(g.currencies))
	for i, c := range g.currencies {
		base[i] = c.usdMicro * 1000
		value[i] = base[i]
	}
	for d := fxFirst; d <= fxLast; d++ {
		if d&63 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if d > fxFirst {
			for i, c := range g.currencies {
				if c.code == "USD" {
					continue // the reference
				}
				v := value[i]
				v += v * int64(r.n(4001)-2000) / 1_000_000 // ±0.2 % a day
				v += (base[i] - v) / 100                   // pulled back to the reference
				value[i] = max(v, 1)
			}
		}
		weekly := (d-fxFirst)%7 == 0
		for _, p := range pairs {
			if !p.daily && !weekly {
				continue
			}
			vc, vp := value[p.currency], value[p.plan]
			micro := max((vc*1_000_000+vp/2)/vp, 1)
			if err := g.out.fxW.rate(d, g.currencies[p.currency].code, g.currencies[p.plan].code, micro); err != nil {
				return err
			}
			g.fxRows++
		}
	}
	return nil
}
