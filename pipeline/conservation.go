package pipeline

import (
	"fmt"
	"path/filepath"
)

// conservation enforces, before anything is published, that every claims row
// is accounted for (per file: rows read = lines adjudicated + exceptions) and
// that the money identities hold per currency. A failure is a bug in
// claimsbatch, never bad input, so the run fails (exit 1).
func (r *run) conservation() error {
	var adjudicated int64
	for i, fc := range r.perFile {
		if r.validate {
			fc.adjudicated = fc.rows - fc.exceptions // validate accepts without adjudicating
			r.perFile[i] = fc
		}
		if fc.rows != fc.adjudicated+fc.exceptions {
			return fmt.Errorf("%w: %s: %d rows read, %d adjudicated + %d exceptions",
				ErrConservation, filepath.Base(r.cfg.Claims[i]), fc.rows, fc.adjudicated, fc.exceptions)
		}
		adjudicated += fc.adjudicated
	}
	if r.validate {
		r.totals.LinesAdjudicated = adjudicated
	}
	if err := r.totals.Check(); err != nil {
		return fmt.Errorf("%w: %w", ErrConservation, err)
	}
	return nil
}
