package pipeline

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"claimsbatch/writers"
)

// TestStageTimes checks the debug log's figure per stage: every stage of a
// run reports its units of work, busy time and wall time, units as the run
// made them (the sample is one batch, one key partition, one member range
// and one chunk; in Parquet a row group of each table), and busy time never
// more than the stage's goroutines could give in its wall time.
func TestStageTimes(t *testing.T) {
	for _, format := range []writers.Format{writers.CSV, writers.Parquet} {
		var log bytes.Buffer
		cfg := sampleConfig(filepath.Join(t.TempDir(), "out"), format)
		cfg.Workers = 2
		cfg.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
		if _, err := Run(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		line := regexp.MustCompile(`msg="stage time" stage=("[^"]+"|\S+) units=(\d+) busy=(\S+) wall=(\S+) cores=(\d+\.\d\d)`)
		got := map[string]int64{}
		for _, m := range line.FindAllStringSubmatch(log.String(), -1) {
			name := m[1]
			if uq, err := strconv.Unquote(name); err == nil {
				name = uq
			}
			units, _ := strconv.ParseInt(m[2], 10, 64)
			got[name] = units
			busy, err1 := time.ParseDuration(m[3])
			wall, err2 := time.ParseDuration(m[4])
			if err1 != nil || err2 != nil || busy < 0 || wall < 0 {
				t.Errorf("%v: stage %s: busy %q wall %q", format, name, m[3], m[4])
			}
		}
		want := map[string]int64{"price": 1, "sink": 1, "dedupe": 1, "load": 2, "adjudicate": 1, "write remittance": 1, "write state": 1, "tally": 1}
		if format == writers.Parquet {
			want["write row groups"] = 2 // one of the remittance, one of the state
		}
		for name, units := range want {
			if got[name] != units {
				t.Errorf("%v: stage %q: %d units, want %d (log:\n%s)", format, name, got[name], units, log.String())
			}
		}
		if len(got) != len(want) {
			t.Errorf("%v: stages %v, want %v", format, got, want)
		}
	}
}

// TestStageClock checks the clock's arithmetic on units of known times:
// busy is their sum, wall spans the first start to the last end.
func TestStageClock(t *testing.T) {
	c := newStageClock()
	base := c.origin
	c.doneAt(stageAdjudicate, base.Add(10*time.Millisecond), base.Add(30*time.Millisecond))
	c.doneAt(stageAdjudicate, base.Add(20*time.Millisecond), base.Add(50*time.Millisecond))
	f := c.figures()
	if len(f) != 1 || f[0].name != "adjudicate" || f[0].units != 2 || f[0].busy != 50*time.Millisecond || f[0].wall != 40*time.Millisecond {
		t.Errorf("figures %+v, want adjudicate: 2 units, busy 50ms, wall 40ms", f)
	}
}
