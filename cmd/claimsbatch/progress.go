package main

import (
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
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	log   *slog.Logger
	phase string
	bar   *progressbar.ProgressBar
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, log *slog.Logger) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, tty: ok && term.IsTerminal(int(f.Fd())), log: log, start: time.Now()}
}

func (p *progress) update(phase string, done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if !p.tty {
		if now.Sub(p.last) < 10*time.Second {
			return
		}
		p.last = now
		p.log.Info("progress", "phase", phase, "done", done, "total", total,
			"per_second", int64(float64(done)/now.Sub(p.start).Seconds()))
		return
	}
	if phase != p.phase || p.bar == nil {
		p.finishLocked()
		p.phase = phase
		max := total
		if max <= 0 {
			max = -1 // unknown: a spinner with a count and a rate
		}
		p.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(phase),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("rows"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
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
