package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"claimsbatch/report"
	"claimsbatch/writers"
	"claimsbatch/x12"
)

// What a run publishes beside its tables, once they are written and
// before its manifest is: the X12 835 files (with Config.X12) and
// report.html. Both read the tables back from the publisher's stage, as
// any reader of the published run would read them.

// reconcile835 is x12.Reconcile; a test replaces it to make the 835s fail
// to tie out.
var reconcile835 = x12.Reconcile

// maxListedProblems bounds the tie-out problems an error quotes.
const maxListedProblems = 5

// write835s generates the 835s of the staged remittance into 835/, checks
// that they tie out to the staged payments file, and returns their
// outputs (rows: segments) in (payee, currency) order. A configuration
// problem (a payee paid by ACH without bank details) wraps ErrConfig; 835s
// that do not tie out wrap ErrConservation: nothing is published.
func (r *run) write835s(ctx context.Context, pub *writers.Publisher, runID string) ([]writers.Output, error) {
	ext := r.cfg.Format.Ext()
	remittance, err := pub.StagedPath(writers.RemittanceName + ext)
	if err != nil {
		return nil, err
	}
	payments, err := pub.StagedPath(writers.PaymentsName + ext)
	if err != nil {
		return nil, err
	}
	files, err := x12.Generate(ctx, x12.Options{
		Remittance: remittance,
		RunID:      runID,
		Date:       r.cfg.AsOf,
		Config:     r.cfg.X12Config,
		Create: func(name string) (io.WriteCloser, error) {
			return pub.Create(writers.X12Dir + "/" + name)
		},
		TmpDir:  r.spillDir,
		Workers: r.cfg.Workers,
	})
	if errors.Is(err, x12.ErrConfig) {
		return nil, fmt.Errorf("%w: X12 835: %w", ErrConfig, err)
	}
	if err != nil {
		return nil, fmt.Errorf("pipeline: X12 835: %w", err)
	}
	problems, err := reconcile835(files, payments)
	if err != nil {
		return nil, fmt.Errorf("pipeline: X12 835: %w", err)
	}
	if len(problems) > 0 {
		listed := problems[:min(len(problems), maxListedProblems)]
		more := ""
		if n := len(problems) - len(listed); n > 0 {
			more = fmt.Sprintf("\n  and %d more", n)
		}
		return nil, fmt.Errorf("%w: the 835s do not tie out to the payments file (%d problems):\n  %s%s",
			ErrConservation, len(problems), strings.Join(listed, "\n  "), more)
	}
	outs := make([]writers.Output, len(files))
	var segments int64
	for i, f := range files {
		outs[i] = writers.Output{Name: writers.X12Dir + "/" + f.Name, SHA256: f.SHA256, Rows: int64(f.Segments)}
		segments += int64(f.Segments)
	}
	r.log.Info("835s written", "files", len(files), "segments", segments)
	return outs, nil
}

// writeReport writes report.html from the manifest about to be published
// (man: everything but the report's own entry) and the staged remittance
// (none for a validate run) and exceptions, and returns its output entry
// (rows 0: the page is not a table).
func (r *run) writeReport(pub *writers.Publisher, man *writers.Manifest) (writers.Output, error) {
	ext := r.cfg.Format.Ext()
	in := report.Input{Manifest: man}
	var err error
	if in.Exceptions, err = pub.StagedPath(writers.ExceptionsName + ext); err != nil {
		return writers.Output{}, err
	}
	if !r.validate {
		// The lines were added up as they were written (writeChunk): the
		// remittance is not read again.
		in.Lines = r.reportLines
	}
	_, h, err := createOutput(pub, writers.ReportName)
	if err != nil {
		return writers.Output{}, err
	}
	if err := report.Build(h, in); err != nil {
		return writers.Output{}, fmt.Errorf("pipeline: %w", err)
	}
	return writers.Output{Name: writers.ReportName, SHA256: h.SHA256()}, nil
}
