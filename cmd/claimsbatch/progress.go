package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress reports a long run's progress: a live line on stderr when stderr
// is a terminal (phase, count, rate, ETA when the total is known), a log line
// every 10 seconds otherwise. Counts only: no member or claim ever appears.
// The rate (and so the ETA) of a phase is shown once the phase has run for
// a second: before that it says nothing but noise.
type progress struct {
	mu         sync.Mutex
	w          io.Writer
	tty        bool
	log        *slog.Logger
	phase      string
	phaseStart time.Time
	bar        *progressbar.ProgressBar
	last       time.Time // of the last log line
}

// minRateWindow is how long a phase runs before its rate is shown.
const minRateWindow = time.Second

func newProgress(w io.Writer, log *slog.Logger) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, tty: ok && term.IsTerminal(int(f.Fd())), log: log}
}

// rate returns done per second over elapsed, and false while elapsed is
// under minRateWindow.
func rate(done int64, elapsed time.Duration) (int64, bool) {
	if elapsed < minRateWindow {
		return 0, false
	}
	return int64(float64(done) / elapsed.Seconds()), true
}

// describe is the live line's text after the bar: the phase, and once
// there is a second of data the rate and, with a total, the time left.
func describe(phase string, done, total int64, elapsed time.Duration) string {
	perSecond, ok := rate(done, elapsed)
	if !ok {
		return phase
	}
	s := fmt.Sprintf("%s  %d rows/s", phase, perSecond)
	if total > done && perSecond > 0 {
		s += fmt.Sprintf("  ETA %s", (time.Duration((total-done)/perSecond) * time.Second).Round(time.Second))
	}
	return s
}

func (p *progress) update(phase string, done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if phase != p.phase {
		p.finishLocked()
		p.phase, p.phaseStart = phase, now
	}
	elapsed := now.Sub(p.phaseStart)
	if !p.tty {
		if now.Sub(p.last) < 10*time.Second {
			return
		}
		p.last = now
		attrs := []any{"phase", phase, "done", done}
		if total > 0 { // the reading phase does not know its total
			attrs = append(attrs, "total", total)
		}
		if perSecond, ok := rate(done, elapsed); ok {
			attrs = append(attrs, "per_second", perSecond)
		}
		p.log.Info("progress", attrs...)
		return
	}
	if p.bar == nil {
		max := total
		if max <= 0 {
			max = -1 // unknown: a spinner with a count
		}
		p.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(phase),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	p.bar.Describe(describe(phase, done, total, elapsed))
	p.bar.Set64(done)
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finishLocked()
}

func (p *progress) finishLocked() {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
}
