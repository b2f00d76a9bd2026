package main

// Safe publishing (SPEC section 2): "a failed or killed run leaves no file
// that looks complete", and `claimsbatch verify` tells a published run from
// one whose files were changed afterwards.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"claimsbatch/synth"
	"claimsbatch/writers"
)

// buildBinary builds claimsbatch into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binary with")
	}
	bin := filepath.Join(t.TempDir(), "claimsbatch")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// bgRun is a claimsbatch run started in the background.
type bgRun struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan struct{} // closed when the process has exited and been reaped
	err    error         // cmd.Wait's result, once done
}

func startBackground(t *testing.T, bin string, args ...string) *bgRun {
	t.Helper()
	p := &bgRun{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitForStage waits until the run has n files in its stage beside out,
// i.e. it has started writing (the exceptions file is created before the
// claims are read, the remittance when the adjudication starts); it fails
// the test if the process exits first.
func (p *bgRun) waitForStage(t *testing.T, out string, n int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if stageFiles(t, out) >= n {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("the run exited (%v) before it wrote anything: %s", p.err, p.stderr.String())
		case <-deadline:
			t.Fatal("the run wrote no file within 30s")
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// signal sends sig after delay, failing the test if the run has finished
// by then (the input is then too small to test anything).
func (p *bgRun) signal(t *testing.T, sig os.Signal, delay time.Duration) {
	t.Helper()
	select {
	case <-p.done:
		t.Fatalf("the run finished (%v) before the %v after %v: make the input bigger", p.err, sig, delay)
	case <-time.After(delay):
	}
	select {
	case <-p.done:
		t.Fatalf("the run finished (%v) before the %v after %v: make the input bigger", p.err, sig, delay)
	default:
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

// dirEntries lists dir's file names.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names
}

// isStage reports whether name is a stage of the run into out.
func isStage(out, name string) bool {
	return strings.HasPrefix(name, writers.TempPrefix+filepath.Base(out)+"-")
}

// stageFiles counts the files in the stages of runs into out.
func stageFiles(t *testing.T, out string) int {
	n := 0
	for _, name := range dirEntries(t, filepath.Dir(out)) {
		if isStage(out, name) {
			entries, _ := os.ReadDir(filepath.Join(filepath.Dir(out), name))
			n += len(entries)
		}
	}
	return n
}

// checkBeside fails the test if out's parent holds anything but out itself
// (when published is set) and, when debris is allowed, a killed run's stage
// and lock file.
func checkBeside(t *testing.T, out string, published, debris bool) {
	t.Helper()
	base := filepath.Base(out)
	for _, name := range dirEntries(t, filepath.Dir(out)) {
		switch {
		case name == base && published:
		case debris && (isStage(out, name) || name == base+writers.LockSuffix):
		default:
			t.Errorf("%s: %s is there", filepath.Dir(out), name)
		}
	}
}

// TestKilledRunPublishesNothing kills `claimsbatch run` at several points of
// a run over 1.5 million lines into a folder that holds a published run:
// that run stays published, byte for byte, and beside it there is only the
// killed run's stage. A rerun then completes, clears the debris, verifies,
// and gives the same bytes as a run in a fresh directory. SIGINT and SIGTERM
// end a run with exit 1 and leave nothing, beside --out or in --tmp-dir.
func TestKilledRunPublishesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and adjudicates 1.5 million lines")
	}
	bin := buildBinary(t)
	res, err := synth.Generate(context.Background(), synth.Config{Dir: t.TempDir(), Lines: 1_500_000, Seed: 20261127})
	if err != nil {
		t.Fatal(err)
	}
	// Spill files go to a directory of the test's own, so that a killed
	// run's are removed with it and an interrupted run's can be looked for.
	spill := t.TempDir()
	run := func(out string, extra ...string) []string {
		return append([]string{"run", "--claims", res.ClaimsPath, "--members", res.MembersPath, "--fx", res.FXPath,
			"--out", out, "--tmp-dir", spill, "--quiet", "--as-of", synthAsOf}, extra...)
	}
	newOut := func(name string) string { return filepath.Join(t.TempDir(), name) }

	// A published run of the sample, which the killed runs must leave as it is.
	killed := newOut("killed")
	runExit0(t, sampleArgs(killed)...)
	before := map[string][]byte{}
	for _, name := range dirEntries(t, killed) {
		before[name], _ = os.ReadFile(filepath.Join(killed, name))
	}
	for _, delay := range []time.Duration{0, 200 * time.Millisecond, time.Second, 2 * time.Second} {
		p := startBackground(t, bin, run(killed)...)
		p.waitForStage(t, killed, 1)
		p.signal(t, syscall.SIGKILL, delay)
		checkBeside(t, killed, true, true)
		for name, data := range before {
			if got, err := os.ReadFile(filepath.Join(killed, name)); err != nil || !bytes.Equal(got, data) {
				t.Errorf("SIGKILL %v: the published %s changed (%v)", delay, name, err)
			}
		}
		if got := dirEntries(t, killed); len(got) != len(before) {
			t.Errorf("SIGKILL %v: the published run holds %v", delay, got)
		}
		t.Logf("SIGKILL %v after the first write: %d files left in the stage, %d entries in --tmp-dir",
			delay, stageFiles(t, killed), len(dirEntries(t, spill)))
	}
	if msg, err := exec.Command(bin, "verify", killed).CombinedOutput(); err != nil {
		t.Errorf("verify of the run the killed ones left: %v: %s", err, msg)
	}
	// A SIGKILL cannot be cleaned up after; an interrupt can.
	for _, name := range dirEntries(t, spill) {
		if err := os.RemoveAll(filepath.Join(spill, name)); err != nil {
			t.Fatal(err)
		}
	}

	for _, tc := range []struct {
		sig   syscall.Signal
		files int // stage files to wait for: 1 = reading, 2 = adjudicating
		delay time.Duration
	}{
		{syscall.SIGINT, 1, 200 * time.Millisecond},  // reading the claims
		{syscall.SIGTERM, 2, 100 * time.Millisecond}, // adjudicating
	} {
		out := newOut("interrupted")
		p := startBackground(t, bin, run(out)...)
		p.waitForStage(t, out, tc.files)
		p.signal(t, tc.sig, tc.delay)
		var exit *exec.ExitError
		if !errors.As(p.err, &exit) || exit.ExitCode() != 1 {
			t.Errorf("%v after %v: %v, want exit status 1; stderr: %s", tc.sig, tc.delay, p.err, p.stderr.String())
		}
		checkBeside(t, out, false, false)
		if got := dirEntries(t, spill); len(got) != 0 {
			t.Errorf("--tmp-dir holds %v after an interrupt", got)
		}
	}

	// Rerun to completion where the killed runs left their debris, and in a
	// fresh directory: same bytes, and nothing else beside either.
	fresh := newOut("fresh")
	for _, out := range []string{killed, fresh} {
		cmd := exec.Command(bin, run(out)...)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("rerun in %s: %v: %s", out, err, msg)
		}
		checkBeside(t, out, true, false)
		if msg, err := exec.Command(bin, "verify", out).CombinedOutput(); err != nil {
			t.Errorf("verify %s: %v: %s", out, err, msg)
		}
	}
	for _, name := range []string{"remittance.csv", "payments.csv", "exceptions.csv", "state.csv", "manifest.json"} {
		a, errA := os.ReadFile(filepath.Join(killed, name))
		b, errB := os.ReadFile(filepath.Join(fresh, name))
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: the rerun over the killed runs' debris and the run in a fresh directory differ", name)
		}
	}
}

// amountPattern finds an amount with two decimals.
var amountPattern = regexp.MustCompile(`[0-9]+\.[0-9][0-9]`)

// flipAmountDigit changes one digit of the first amount in a data row of a
// CSV file (after the header line).
func flipAmountDigit(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	header := bytes.IndexByte(data, '\n') + 1
	loc := amountPattern.FindIndex(data[header:])
	if loc == nil {
		t.Fatalf("%s: no amount in the data rows", path)
	}
	i := header + loc[0] + bytes.IndexByte(data[header+loc[0]:], '.') - 1
	data[i] = '0' + (data[i]-'0'+1)%10
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}
}

// flipMiddleByte inverts the bits of the byte in the middle of a file.
func flipMiddleByte(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}
}

// copyDir copies the files of dir into a new temporary directory.
func copyDir(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	for _, name := range dirEntries(t, dir) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, name), data, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestVerifyDetectsChangedByte: verify passes a published run (exit 0, one
// OK line) and fails (exit 1, naming the file) once any output has one byte
// changed, in CSV and in Parquet.
func TestVerifyDetectsChangedByte(t *testing.T) {
	for _, format := range []string{"csv", "parquet"} {
		t.Run(format, func(t *testing.T) {
			out := t.TempDir()
			runExit0(t, sampleArgs(out, "--format", format)...)
			code, msg := runCLI(t, "verify", out)
			if code != 0 || !strings.HasPrefix(msg, "verify OK: ") || strings.Count(msg, "\n") != 1 {
				t.Fatalf("verify of an untouched run: exit %d, want 0 and one OK line:\n%s", code, msg)
			}
			for _, table := range []string{"remittance", "payments", "exceptions", "state"} {
				name := table + "." + format
				dir := copyDir(t, out)
				if format == "csv" {
					flipAmountDigit(t, filepath.Join(dir, name))
				} else {
					flipMiddleByte(t, filepath.Join(dir, name))
				}
				code, msg := runCLI(t, "verify", dir)
				if code != 1 || !strings.Contains(msg, name+": sha256") {
					t.Errorf("verify with a byte of %s changed: exit %d, want 1 and a line naming %s:\n%s", name, code, name, msg)
				}
				t.Logf("%s changed:\n%s", name, msg)
			}
		})
	}
}

// TestVerifyExitCodes: no DIR, a missing DIR and a DIR without a published
// run (such as a killed run's) are usage errors.
func TestVerifyExitCodes(t *testing.T) {
	debris := t.TempDir()
	if err := os.WriteFile(filepath.Join(debris, writers.TempPrefix+"0123-remittance.csv"), []byte("run_id\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no DIR", []string{"verify"}, "verify takes one DIR"},
		{"two DIRs", []string{"verify", debris, debris}, "verify takes one DIR"},
		{"missing DIR", []string{"verify", filepath.Join(debris, "nope")}, "no such file"},
		{"no manifest", []string{"verify", debris}, "has no manifest.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := runCLI(t, tc.args...)
			if code != exitUsage || !strings.Contains(msg, tc.want) {
				t.Errorf("exit %d, want %d and %q in:\n%s", code, exitUsage, tc.want, msg)
			}
		})
	}
}
