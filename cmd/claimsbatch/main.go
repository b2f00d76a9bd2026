// Command claimsbatch adjudicates health-insurance claim lines in batch: see
// `claimsbatch --help` and the README.
//
// Exit codes: 0 the run completed (exceptions may exist), 1 the run failed and
// nothing was published, 2 a usage or configuration error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"claimsbatch/importer"
	"claimsbatch/pipeline"
	"claimsbatch/plan"
	"claimsbatch/readers"
	"claimsbatch/verify"

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
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "claimsbatch:", err)
	return exitCode(err)
}

func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue),
		errors.Is(err, pipeline.ErrConfig),
		errors.Is(err, plan.ErrInvalid),
		errors.Is(err, readers.ErrMissingColumn),
		errors.Is(err, readers.ErrOpen),
		errors.Is(err, readers.ErrFormat),
		errors.Is(err, verify.ErrNoRun),
		errors.Is(err, importer.ErrProfile),
		errors.Is(err, importer.ErrConfig):
		return exitUsage
	}
	return exitFailed
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "claimsbatch",
		Short: "Adjudicate health-insurance claim lines in batch",
		Long: `claimsbatch reads claim-line extracts (CSV or Parquet), a members file, FX rates
and a benefit plan (the built-in Close Care plan by default), adjudicates each
member's lines in date order, and writes remittance, payments, exceptions, state
and a manifest with control totals.

Exit codes: 0 run complete (exceptions may exist), 1 run failed (nothing
published), 2 usage or configuration error.`,
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
