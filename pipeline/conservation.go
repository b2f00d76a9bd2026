package pipeline

import (
	"fmt"
	"path/filepath"
)

// conservation enforces, before anything is published, that every claims row
// is accounted for (per file: rows read = lines adjudicated + exceptions) and
// that the money identities hold per currency. A failure is a bug in
// claimsbatch, never bad input, so the run fails (exit 1).
func (j *job) conservation() error {
	var adjudicated int64
	for i, fc := range j.perFile {
		if j.validate {
			fc.adjudicated = fc.rows - fc.exceptions // validate accepts without adjudicating
			j.perFile[i] = fc
		}
		if fc.rows != fc.adjudicated+fc.exceptions {
			return fmt.Errorf("%w: %s: %d rows read, %d adjudicated + %d exceptions",
				ErrConservation, filepath.Base(j.cfg.Claims[i]), fc.rows, fc.adjudicated, fc.exceptions)
		}
		adjudicated += fc.adjudicated
	}
	if j.validate {
		j.totals.LinesAdjudicated = adjudicated
	}
	if err := j.totals.Check(); err != nil {
		return fmt.Errorf("%w: %v", ErrConservation, err)
	}
	return nil
}
