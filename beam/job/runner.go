package job

import (
	"context"
	"flag"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners" // the --runner flag

	// The runners a claimsbatch-beam binary can submit to. Flink's and
	// Spark's are the portable runner under another name.
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/dataflow"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/flink"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/spark"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"
)

// DefaultRunner runs the pipeline on Prism inside the launcher process.
const DefaultRunner = "prism"

// Runner says where a pipeline runs. Beam's SDK keeps these settings in
// command-line flags of the standard flag package (flag.CommandLine); Apply
// sets them there, so a Runner and the same flags on the command line mean
// the same thing. The zero Runner is in-process Prism.
type Runner struct {
	// Name is a registered Beam runner: prism, universal (any portable job
	// server: Prism standalone, Flink's, Spark's), flink, spark, dataflow.
	Name string
	// Endpoint is the job server's HOST:PORT; "" with prism starts one in
	// this process.
	Endpoint string
	// EnvironmentType is where the SDK harness (our binary, as a worker)
	// runs: LOOPBACK (in this process; for local job servers only),
	// DOCKER (Beam's Go SDK container; the runner's default), PROCESS.
	EnvironmentType string
	// EnvironmentConfig is the container image for DOCKER, or a JSON
	// {"command": "/path/to/boot"} for PROCESS.
	EnvironmentConfig string
	// WorkerBinary is the linux binary staged as the worker (DOCKER,
	// PROCESS, Dataflow); "" makes Beam cross-compile the launcher's main
	// package, which needs its source and a Go toolchain.
	WorkerBinary string
}

// Apply sets Beam's flags to r's fields, empty ones too. The command line
// does not need it: there the flags are Beam's own.
func (r Runner) Apply() error {
	for _, f := range []struct{ name, value string }{
		{"runner", r.Name},
		{"endpoint", r.Endpoint},
		{"environment_type", r.EnvironmentType},
		{"environment_config", r.EnvironmentConfig},
		{"worker_binary", r.WorkerBinary},
	} {
		if err := flag.CommandLine.Set(f.name, f.value); err != nil {
			return fmt.Errorf("job: beam flag --%s: %w", f.name, err)
		}
	}
	return nil
}

// inProcessEndpoint is the job server in-process Prism started in this
// process, reused by later in-process runs (tests run several pipelines).
var inProcessEndpoint string

// Execute runs p on the runner named by Beam's --runner flag (DefaultRunner
// when unset) and waits for it. beam.Init must have run. With in-process
// Prism the launcher process is also the only worker.
func Execute(ctx context.Context, p *beam.Pipeline) (beam.PipelineResult, error) {
	name := *runners.Runner
	if name == "" {
		name = DefaultRunner
	}
	if name == "prism" && *jobopts.Endpoint == "" {
		// In-process Prism starts a job server when --endpoint is empty and
		// leaves its address in the flag: reuse it for later runs in this
		// process (tests run several pipelines) rather than start another.
		*jobopts.Endpoint = inProcessEndpoint
		if inProcessEndpoint != "" && *jobopts.EnvironmentType == "" {
			*jobopts.EnvironmentType = "loopback" // what Prism sets when it starts the server
		}
		defer func() { inProcessEndpoint = *jobopts.Endpoint }()
	}
	res, err := beam.Run(ctx, name, p)
	if err != nil {
		return nil, fmt.Errorf("job: %s runner: %w", name, err)
	}
	return res, nil
}
