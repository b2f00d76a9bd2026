package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	// Beam's flags are process-wide: put back what a case set.
	t.Cleanup(func() {
		flag.CommandLine.Visit(func(f *flag.Flag) {
			if !strings.HasPrefix(f.Name, "test.") {
				f.Value.Set(f.DefValue)
			}
		})
	})
	var out, errs bytes.Buffer
	code = execute(context.Background(), args, &out, &errs)
	return code, out.String(), errs.String()
}

func TestRunFlags(t *testing.T) {
	dir := t.TempDir()
	claims := filepath.Join(dir, "a.csv")
	os.WriteFile(claims, []byte("claim_id\n"), 0o600)
	base := []string{"run", "--claims", claims, "--members", "m.csv", "--out", filepath.Join(dir, "out")}
	cases := []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"no command", nil, exitUsage, "Usage:"},
		{"unknown command", []string{"adjudicate"}, exitUsage, `unknown command "adjudicate"`},
		{"help", []string{"run", "--help"}, exitOK, "-environment_type"},
		{"required", []string{"run", "--claims", claims}, exitUsage, "--claims, --members and --out are required"},
		{"unknown flag", append(base, "--memory-limit", "1GiB"), exitUsage, "flag provided but not defined: -memory-limit"},
		{"worker flag is not a run flag", append(base, "--worker"), exitUsage, "flag provided but not defined: -worker"},
		{"glob matches nothing", []string{"run", "--claims", filepath.Join(dir, "*.parquet"), "--members", "m", "--out", "o"}, exitUsage, "matches no file"},
		{"bad format", append(base, "--format", "xml"), exitUsage, "xml"},
		{"bad as-of", append(base, "--as-of", "2026-02-30"), exitUsage, "--as-of"},
		{"bad split size", append(base, "--split-size", "lots"), exitUsage, `"lots" is not a size`},
		{"async", append(base, "--async"), exitUsage, "--async: claimsbatch-beam publishes the outputs once the job has finished"},
		{"negative timeout", append(base, "--job-timeout", "-1s"), exitUsage, "--job-timeout must not be negative"},
		{"extra argument", append(base, "more.csv"), exitUsage, `unexpected argument "more.csv"`},
		{"bare flags without --worker", []string{"--job_name", "x"}, exitUsage, "for runners starting a worker"},
		// Everything parses; the members file is missing: exit 2, as
		// `claimsbatch run` exits, before any job is submitted.
		{"members missing", append(base, "--as-of", "2026-11-30", "--shards", "8"), exitUsage, "claimsbatch-beam: configuration error: --members m.csv: no such file"},
		{"sample", []string{"run", "--claims", "../../../testdata/sample/claims.csv", "--members", "../../../testdata/sample/members.csv",
			"--fx", "../../../testdata/sample/fx.csv", "--as-of", "2025-05-02", "--out", filepath.Join(dir, "sample"), "--run-id", "cli-test"},
			exitOK, "published cli-test in " + filepath.Join(dir, "sample") + ": 52 lines read, 42 adjudicated, 10 exceptions"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := run(t, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d\nstderr: %s", code, c.code, stderr)
			}
			if !strings.Contains(stderr+stdout, c.want) {
				t.Errorf("output lacks %q:\n%s%s", c.want, stdout, stderr)
			}
		})
	}
}

// TestBeamFlagsReachBeam: Beam's runner flags given after run's own land in
// Beam's flags (flag.CommandLine), where its runners read them.
func TestBeamFlagsReachBeam(t *testing.T) {
	dir := t.TempDir()
	claims := filepath.Join(dir, "a.csv")
	os.WriteFile(claims, []byte("claim_id\n"), 0o600)
	code, _, stderr := run(t, "run", "--claims", claims, "--members", "m.csv", "--out", filepath.Join(dir, "out"),
		"--runner", "universal", "--endpoint=127.0.0.1:8099", "--environment_type", "LOOPBACK", "--job_name", "nightly")
	if code != exitUsage || !strings.Contains(stderr, "m.csv: no such file") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for name, want := range map[string]string{"runner": "universal", "endpoint": "127.0.0.1:8099", "environment_type": "LOOPBACK", "job_name": "nightly"} {
		if got := flag.CommandLine.Lookup(name).Value.String(); got != want {
			t.Errorf("Beam's --%s = %q, want %q", name, got, want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"64MiB": 64 << 20, "1GiB": 1 << 30, "4096": 4096, "512 KiB": 512 << 10, "10B": 10} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-5MiB", "1.5GiB", "12XB", "1e6"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}
