// Command claimsbatch adjudicates health-insurance claim lines in batch: see
// `claimsbatch --help` and the README.
//
// Exit codes: 0 the run completed (exceptions may exist), 1 the run failed
// for a reason a retry could fix and nothing was published, 2 a usage,
// configuration or unreadable-input error that a person must fix.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"syscall"

	"claimsbatch/importer"
	"claimsbatch/pipeline"
	"claimsbatch/plan"
	"claimsbatch/readers"
	"claimsbatch/verify"
	"claimsbatch/writers"
	"claimsbatch/x12"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=..."; it goes
// into every manifest.
var version = "0.1.0-dev"

// Exit codes of SPEC section 2.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// usageError marks errors in the command line itself.
type usageError struct{ error }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// execute runs the command line args and returns the exit code. Tests call it
// directly.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	// Whatever fails before a command's own work starts (an unknown
	// command, a stray argument, a bad flag) is a usage error.
	started := false
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	if !started {
		err = usageError{err}
	}
	fmt.Fprintln(stderr, "claimsbatch:", userMessage(err))
	return exitCode(err)
}

// exitCode is the exit code of a command's error: 2 when a person must fix
// something (the command line, a configuration, an input that cannot be
// read or is corrupt, an output directory that cannot take the run), 1 when
// a retry could succeed (a full disk, an I/O error, an interrupt) or the run
// stopped itself (a failed conservation check, too many exceptions).
func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case transient(err):
		return exitFailed
	case errors.As(err, &ue),
		errors.Is(err, pipeline.ErrConfig),
		errors.Is(err, plan.ErrInvalid),
		errors.Is(err, readers.ErrMissingColumn),
		errors.Is(err, readers.ErrOpen),
		errors.Is(err, readers.ErrFormat),
		errors.Is(err, readers.ErrCorrupt),
		errors.Is(err, writers.ErrLocked),
		errors.Is(err, writers.ErrOutDir),
		errors.Is(err, writers.ErrKey),
		errors.Is(err, verify.ErrNoRun),
		errors.Is(err, importer.ErrProfile),
		errors.Is(err, importer.ErrConfig),
		errors.Is(err, x12.ErrConfig),
		errors.Is(err, fs.ErrNotExist),
		errors.Is(err, fs.ErrPermission):
		return exitUsage
	}
	return exitFailed
}

// transient reports whether err comes from a condition that may pass: the
// system running out of space or memory, an I/O error, an interrupt.
func transient(err error) bool {
	for _, e := range []error{syscall.ENOSPC, syscall.EDQUOT, syscall.EIO, syscall.ENOMEM, syscall.EAGAIN, syscall.EINTR, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// packagePrefix matches the "pipeline: ", "readers: " ... that the
// packages' errors start with, wherever a wrapped error puts them.
var packagePrefix = regexp.MustCompile(`(^|: |\n)(claim|plan|engine|book|readers|writers|spill|pipeline|verify|synth|x12|diff|report|metrics|rundir|arrowmem|importer|explain|layout): `)

// userMessage is an error's message without the package prefixes: the
// packages name themselves so that a programmer can find where an error
// comes from; a user needs what went wrong and where in their files. The
// error chain itself is unchanged (errors.Is still finds the sentinels).
func userMessage(err error) string { return withoutPackagePrefixes(err.Error()) }

// withoutPackagePrefixes drops the package prefixes from a message.
func withoutPackagePrefixes(msg string) string {
	for {
		next := packagePrefix.ReplaceAllString(msg, "$1")
		if next == msg {
			return msg
		}
		msg = next
	}
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "claimsbatch",
		Short: "Adjudicate health-insurance claim lines in batch",
		Long: `claimsbatch reads claim-line extracts (CSV, .csv.gz or Parquet), a members file, FX rates
and a benefit plan (the built-in Close Care plan by default), adjudicates each
member's lines in date order, and writes remittance, payments, exceptions, state
and a manifest with control totals.

Exit codes: 0 run complete (exceptions may exist), 1 run failed for a reason a
retry could fix (nothing published), 2 usage, configuration or unreadable-input
error: a person must fix something.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	root.AddCommand(newRunCmd(stderr, false), newRunCmd(stderr, true), newGenerateCmd(stderr), newPlanCmd(stdout))
	root.AddCommand(newVerifyCmd())
	root.AddCommand(newKeygenCmd(stdout))
	root.AddCommand(newDiffCmd())
	root.AddCommand(newReportCmd())
	root.AddCommand(newX12Cmd())
	root.AddCommand(newImportCmd(stdout, stderr))
	root.AddCommand(newExplainCmd())
	return root
}

// newLogger returns the structured logger on stderr. Info carries counts and
// codes only; member ids and rows never reach a log line.
func newLogger(w io.Writer, quiet, debug bool) *slog.Logger {
	level := slog.LevelInfo
	switch {
	case debug:
		level = slog.LevelDebug
	case quiet:
		level = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
