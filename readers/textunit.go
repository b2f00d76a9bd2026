package readers

import (
	"context"
	"io"
)

// parseTable reads the whole file as one unit, row by row through the
// table's source, on one goroutine: the sequential text path, for a Parquet
// file the typed reader does not take (see newPQInput).
func (r *ClaimsReader) parseTable(ctx context.Context, w *worker, out chan<- unitItem) {
	t := r.t
	rp := &w.p
	b := r.newBatch(1)
	var rel int64
	for {
		rec, p, err := t.src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if b.NumRows > 0 && !send(ctx, out, unitItem{b: b}) {
				return
			}
			send(ctx, out, unitItem{row: rel + 1, err: err})
			return
		}
		rel++
		if p.message == "" {
			p = t.sizeProblem(rec)
		}
		rp.t.rows, rp.t.recordBytes = rel, t.recordBytes
		if raw := t.src.raw(); b.add(rp, rec, p, raw) {
			b.origins = append(b.origins, origin{lineNo: rp.t.field(rec, cLineNo)})
			b.text = append(b.text, raw)
		}
		if b.NumRows == r.opt.BatchSize {
			if !send(ctx, out, unitItem{b: b}) {
				return
			}
			b = r.newBatch(rel + 1)
		}
	}
	if b.NumRows > 0 {
		send(ctx, out, unitItem{b: b})
	} else {
		b.Release()
	}
}
