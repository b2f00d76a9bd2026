// Command claimsbatch-beam adjudicates claim lines as an Apache Beam
// pipeline: on Prism inside this process by default, or on any portable job
// server (Prism standalone, Flink, Spark) or Google Cloud Dataflow. It takes
// the inputs and flags of `claimsbatch run` and publishes the same files.
//
//	claimsbatch-beam run --claims 'in/*.csv' --members members.csv --out out
//	claimsbatch-beam run ... --runner universal --endpoint localhost:8073 --environment_type LOOPBACK
//
// The same binary is also the SDK worker: a runner starts it as
// `claimsbatch-beam --worker=true --id=... --control_endpoint=...` (no
// subcommand), and Beam's harness takes over.
//
// Exit codes: 0 published, 1 the run failed (nothing published), 2 usage or
// configuration error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"

	"claimsbatch/beam/job"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

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

const usage = `claimsbatch-beam adjudicates claim lines as an Apache Beam pipeline.

Usage:
  claimsbatch-beam run --claims FILE [--claims FILE ...] --members FILE --out DIR [flags] [runner flags]
  claimsbatch-beam run --help

Exit codes: 0 run complete (exceptions may exist), 1 run failed (nothing
published), 2 usage or configuration error.
`

// execute runs the command line args and returns the exit code.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		fmt.Fprint(stderr, usage)
		return exitUsage
	case args[0] == "run":
		err := runCommand(ctx, args[1:], stdout, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		if err != nil {
			fmt.Fprintln(stderr, "claimsbatch-beam:", userMessage(err))
		}
		return exitCode(err)
	case args[0] == "help" || args[0] == "-h" || args[0] == "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case args[0] == "version" || args[0] == "--version":
		fmt.Fprintln(stdout, "claimsbatch-beam", version)
		return exitOK
	case strings.HasPrefix(args[0], "-"):
		// A runner starting this binary as an SDK worker: Beam's own
		// flags, parsed Beam's way; beam.Init then never returns.
		if err := flag.CommandLine.Parse(args); err != nil {
			return exitUsage
		}
		beam.Init()
		fmt.Fprintln(stderr, "claimsbatch-beam: flags without a command are for runners starting a worker (--worker=true); see 'claimsbatch-beam help'")
		return exitUsage
	}
	fmt.Fprintf(stderr, "claimsbatch-beam: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.Is(err, job.ErrConfig):
		return exitUsage
	}
	return exitFailed
}

// packagePrefix matches the prefixes packages give their errors so that a
// programmer can find where one came from; the user is told without them.
var packagePrefix = regexp.MustCompile(`(^|: |\n)(job|pipeline|readers|writers|book|engine|plan|claim|spill|x12|report): `)

// userMessage is an error's message without the package prefixes (and
// without job's "configuration: " when pipeline says it too).
func userMessage(err error) string {
	msg := err.Error()
	for {
		next := packagePrefix.ReplaceAllString(msg, "$1")
		if next == msg {
			break
		}
		msg = next
	}
	return strings.Replace(msg, "configuration: configuration error: ", "configuration error: ", 1)
}
