package pipeline

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"claimsbatch/pipeline/claim"
	"claimsbatch/pipeline/engine"
	"claimsbatch/writers"

	"golang.org/x/sync/errgroup"
)

// chunkLines is roughly how many lines one unit of parallel work holds: big
// enough to amortise the hand-off, small enough to keep workers busy and the
// results in flight few.
const chunkLines = 4096

// chunk is a run of consecutive members (in member_id order) and, once a
// worker has done it, their results and state records.
type chunk struct {
	ids     []string
	results []claim.Result
	state   []claim.StateRecord
	done    chan struct{}
}

// adjudicateAndWrite adjudicates every member in parallel and writes
// remittance, payments and state in member order. It returns the outputs
// (remittance first) with their hashers.
func (j *job) adjudicateAndWrite(ctx context.Context, pub *writers.Publisher, runID string) ([]writers.Output, []*writers.HashingWriter, error) {
	f := j.cfg.Format
	remFile, remHash, err := createOutput(pub, RemittanceName+f.Ext())
	if err != nil {
		return nil, nil, err
	}
	rem, err := writers.NewRemittanceWriter(remFile, f, runID)
	if err != nil {
		return nil, nil, err
	}
	stFile, stHash, err := createOutput(pub, StateName+f.Ext())
	if err != nil {
		return nil, nil, err
	}
	st, err := writers.NewStateWriter(stFile, f)
	if err != nil {
		return nil, nil, err
	}
	asOf := j.asOf
	if j.stateAsOf != claim.NoDate && (asOf == claim.NoDate || j.stateAsOf > asOf) {
		asOf = j.stateAsOf
	}
	keepFrom := claim.NoDate
	if j.cfg.StateKeepYears > 0 && asOf != claim.NoDate {
		keepFrom = asOf.AddYears(-j.cfg.StateKeepYears)
	}
	if err := st.Write(j.metaRecords(runID, asOf)); err != nil {
		return nil, nil, err
	}

	// Every member with lines or with state, in member_id order.
	ids := make([]string, 0, len(j.buckets)+len(j.stateIn))
	for id := range j.buckets {
		ids = append(ids, id)
	}
	for id := range j.stateIn {
		if _, ok := j.buckets[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var chunks []*chunk
	for start := 0; start < len(ids); {
		end, n := start, 0
		for end < len(ids) && (n < chunkLines || end == start) {
			n += len(j.buckets[ids[end]]) + 1
			end++
		}
		chunks = append(chunks, &chunk{ids: ids[start:end], done: make(chan struct{})})
		start = end
	}

	payments := map[payKey]*writers.PaymentRow{}
	g, gctx := errgroup.WithContext(ctx)
	work := make(chan *chunk)
	// At most 2 × workers chunks are adjudicated ahead of the writer, so the
	// results in memory stay bounded.
	inFlight := make(chan struct{}, 2*j.cfg.Workers)
	g.Go(func() error {
		defer close(work)
		for _, c := range chunks {
			select {
			case inFlight <- struct{}{}:
			case <-gctx.Done():
				return gctx.Err()
			}
			select {
			case work <- c:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for w := 0; w < j.cfg.Workers; w++ {
		g.Go(func() error {
			m := j.engine.NewMember()
			for c := range work {
				if err := j.adjudicateChunk(m, c, keepFrom); err != nil {
					return err
				}
				close(c.done)
			}
			return nil
		})
	}
	g.Go(func() error {
		var lines int64
		for _, c := range chunks {
			select {
			case <-c.done:
			case <-gctx.Done():
				return gctx.Err()
			}
			if err := rem.Write(c.results); err != nil {
				return err
			}
			if err := st.Write(c.state); err != nil {
				return err
			}
			for i := range c.results {
				r := &c.results[i]
				j.totals.AddResult(r)
				j.perFile[r.Line.Source].adjudicated++
				k := payKey{r.Line.Payee, r.PayeeID(), r.Line.PlanCurrency}
				p := payments[k]
				if p == nil {
					p = &writers.PaymentRow{PayeeType: k.payee, PayeeID: k.id, PlanCurrency: k.currency}
					payments[k] = p
				}
				p.LineCount++
				p.PlanPaid += r.PlanPaid
			}
			lines += int64(len(c.results))
			c.results, c.state = nil, nil
			<-inFlight
			if j.cfg.Progress != nil {
				j.cfg.Progress("adjudicating", lines)
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	if err := rem.Close(); err != nil {
		return nil, nil, err
	}
	if err := st.Close(); err != nil {
		return nil, nil, err
	}

	payFile, payHash, err := createOutput(pub, PaymentsName+f.Ext())
	if err != nil {
		return nil, nil, err
	}
	pw, err := writers.NewPaymentsWriter(payFile, f)
	if err != nil {
		return nil, nil, err
	}
	rows := make([]writers.PaymentRow, 0, len(payments))
	for _, p := range payments {
		rows = append(rows, *p)
	}
	slices.SortFunc(rows, func(a, b writers.PaymentRow) int {
		return cmp.Or(cmp.Compare(a.PayeeType, b.PayeeType), strings.Compare(a.PayeeID, b.PayeeID), strings.Compare(a.PlanCurrency, b.PlanCurrency))
	})
	if err := pw.Write(rows); err != nil {
		return nil, nil, err
	}
	if err := pw.Close(); err != nil {
		return nil, nil, err
	}
	j.log.Info("adjudicated", "lines", j.totals.LinesAdjudicated, "members", len(ids), "payees", len(rows))
	outs := []writers.Output{
		{Name: RemittanceName + f.Ext(), Rows: rem.Rows()},
		{Name: PaymentsName + f.Ext(), Rows: pw.Rows()},
		{Name: StateName + f.Ext(), Rows: st.Rows()},
	}
	return outs, []*writers.HashingWriter{remHash, payHash, stHash}, nil
}

type payKey struct {
	payee    claim.PayeeType
	id       string
	currency string
}

// adjudicateChunk adjudicates the members of c with the worker's Member and
// collects their results and state records.
func (j *job) adjudicateChunk(m *engine.Member, c *chunk, keepFrom claim.Date) error {
	var engineRecs, lineRecs []claim.StateRecord
	for _, id := range c.ids {
		m.Reset()
		engineRecs, lineRecs = engineRecs[:0], lineRecs[:0]
		for _, r := range j.stateIn[id] {
			switch {
			case r.Kind != kindLine:
				engineRecs = append(engineRecs, r)
			case r.Scope >= keepFrom:
				lineRecs = append(lineRecs, r)
			}
		}
		if len(engineRecs) > 0 {
			if err := j.engine.LoadState(m, engineRecs); err != nil {
				return fmt.Errorf("%w: state file %s: %v", ErrConfig, j.cfg.StateIn, err)
			}
		}
		if lines := j.buckets[id]; len(lines) > 0 {
			slices.SortFunc(lines, compareLines)
			c.results = j.engine.Adjudicate(m, j.members[id].spans, lines, c.results)
			for i := range lines {
				if lines[i].ServiceDate >= keepFrom {
					lineRecs = append(lineRecs, lineRecord(&lines[i]))
				}
			}
		}
		c.state = j.engine.AppendState(m, id, keepFrom, c.state)
		slices.SortFunc(lineRecs, func(a, b claim.StateRecord) int {
			return cmp.Or(strings.Compare(a.Key, b.Key), cmp.Compare(a.Count, b.Count))
		})
		c.state = append(c.state, lineRecs...)
	}
	return nil
}

func compareLines(a, b claim.Line) int {
	if claim.Less(&a, &b) {
		return -1
	}
	if claim.Less(&b, &a) {
		return 1
	}
	return 0
}
