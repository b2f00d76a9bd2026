package pipeline

import (
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"
)

// stage is one kind of work of a run whose busy time is measured: the time
// its goroutines spend working, against the wall time from its first unit of
// work to its last. busy/wall is how many cores the stage kept busy; a stage
// whose figure is near its goroutine count is the one to make faster or
// spread wider, one far below it waits on the others.
type stage int

const (
	stagePrice      stage = iota // read: the book's checks, key hash and encoding of each batch (pricing workers)
	stageSink                    // read: Bloom filter, counts and spill writes, in input order (one goroutine)
	stageDedupe                  // dedupe: key partitions (workers)
	stageLoad                    // adjudicate: member ranges loaded, grouped and sorted (one goroutine)
	stageAdjudicate              // adjudicate: the engine on chunks of members (workers)
	stageRemittance              // write: remittance rows (one goroutine)
	stageState                   // write: state records (one goroutine)
	stageTally                   // write: counts, control totals, payments (one goroutine)
	stageRowGroups               // write: Parquet row groups of the remittance and the state, encoded and compressed (a goroutine each)
	stageCount
)

var stageNames = [stageCount]string{"price", "sink", "dedupe", "load", "adjudicate", "write remittance", "write state", "tally", "write row groups"}

// stageClock adds up each stage's busy time and spans its wall time. It is
// safe for concurrent use; timing a unit costs two clock reads, and units
// are batches, partitions and chunks (thousands of lines), never lines.
type stageClock struct {
	origin time.Time
	busy   [stageCount]atomic.Int64 // nanoseconds
	units  [stageCount]atomic.Int64
	first  [stageCount]atomic.Int64 // nanoseconds since origin, +1 (0: none yet)
	last   [stageCount]atomic.Int64 // nanoseconds since origin
}

func newStageClock() *stageClock { return &stageClock{origin: time.Now()} }

// start returns the time a unit of work begins, for done.
func (c *stageClock) start() time.Time { return time.Now() }

// done records a unit of stage s that began at t0.
func (c *stageClock) done(s stage, t0 time.Time) { c.doneAt(s, t0, time.Now()) }

// doneAt records a unit of stage s from t0 to now.
func (c *stageClock) doneAt(s stage, t0, now time.Time) {
	c.busy[s].Add(int64(now.Sub(t0)))
	c.units[s].Add(1)
	begin := int64(t0.Sub(c.origin)) + 1
	for {
		f := c.first[s].Load()
		if (f != 0 && f <= begin) || c.first[s].CompareAndSwap(f, begin) {
			break
		}
	}
	end := int64(now.Sub(c.origin))
	for {
		l := c.last[s].Load()
		if l >= end || c.last[s].CompareAndSwap(l, end) {
			break
		}
	}
}

// stageFigure is one stage's measure.
type stageFigure struct {
	name       string
	units      int64
	busy, wall time.Duration
}

// figures returns the stages that did any work, in pipeline order.
func (c *stageClock) figures() []stageFigure {
	var out []stageFigure
	for s := range stageCount {
		n := c.units[s].Load()
		if n == 0 {
			continue
		}
		wall := time.Duration(c.last[s].Load() - (c.first[s].Load() - 1))
		out = append(out, stageFigure{name: stageNames[s], units: n, busy: time.Duration(c.busy[s].Load()), wall: wall})
	}
	return out
}

// log writes one debug line per stage: busy time, wall time and their
// ratio, the cores it kept busy on average.
func (c *stageClock) log(l *slog.Logger) {
	if c == nil { // a run that did no stage of its own (Publish)
		return
	}
	for _, f := range c.figures() {
		cores := 0.0
		if f.wall > 0 {
			cores = float64(f.busy) / float64(f.wall)
		}
		l.Debug("stage time", "stage", f.name, "units", f.units,
			"busy", f.busy.Round(time.Millisecond).String(), "wall", f.wall.Round(time.Millisecond).String(),
			"cores", strconv.FormatFloat(cores, 'f', 2, 64))
	}
}
