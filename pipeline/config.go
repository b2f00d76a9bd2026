package pipeline

import (
	"crypto/ed25519"
	"errors"
	"log/slog"

	"claimsbatch/claim"
	"claimsbatch/plan"
	"claimsbatch/writers"
	"claimsbatch/x12"
)

// ErrConfig is wrapped by errors that come from the run's configuration
// (missing file, bad column set, a state file from another plan): the command
// line exits 2 for them. Any other error of Run means the run failed (exit 1).
var ErrConfig = errors.New("pipeline: configuration error")

// ErrConservation is wrapped when the end-of-run checks find a line or a cent
// unaccounted for; nothing is published.
var ErrConservation = errors.New("pipeline: conservation check failed")

// ErrExceptionShare is wrapped when more of the lines read are exceptions
// than Config.MaxExceptionShare allows; nothing is published (exit 1: the
// extract is suspect, a corrected one can be rerun).
var ErrExceptionShare = errors.New("pipeline: too many exceptions")

// Config is one run. The zero value of each optional field is documented.
type Config struct {
	Claims  []string // claims files in order (globs already expanded); at least one
	Members string   // members file
	FX      string   // FX file; "" = no FX rates (a foreign-currency line is then NO_FX_RATE)
	StateIn string   // state file of an earlier run; "" = start from nothing

	// AsOf is the date the run adjudicates on (SPEC section 2, version 2):
	// a line received after it is INVALID_VALUE, the state is pruned from it
	// and records it, and it is part of the derived run id. Required: the
	// zero value (1970-01-01) is a configuration error, because the pipeline
	// never reads the clock (the command line defaults it to the run's UTC
	// date). A --state-in whose as-of date is later is refused.
	AsOf claim.Date

	// AllowPlanChange accepts a --state-in written under another plan (an
	// intended actuarial re-plan); the manifest records it.
	AllowPlanChange bool
	// StateKeepYears prunes from the state output the policy years that ended
	// more than this many years before AsOf. 0 = 2 years; negative = keep
	// everything.
	StateKeepYears int

	// Force lets the run replace an OutDir that holds files no claimsbatch
	// run published (writers.PublishOptions.Force); false refuses it.
	Force bool
	// SignKey, when set, signs the manifest: the run publishes
	// manifest.json.sig beside it (writers.SignManifest). nil = unsigned.
	SignKey ed25519.PrivateKey
	// MaxExceptionShare, when above 0, fails the run (ErrExceptionShare,
	// nothing published) if the claims rows that became exceptions are
	// more than this share of the rows read (0.2 = 20 %). 0 = no limit.
	MaxExceptionShare float64

	// X12 makes Run also publish the X12 835 remittance advice of the run:
	// one file per provider payee and plan currency in 835/
	// (x12.Generate on the remittance), tied out to the payments file
	// (x12.Reconcile) before anything is published and listed in the
	// manifest. Validate ignores it (it has no remittance).
	X12 bool
	// X12Config names the trading partners and the payment in the 835s;
	// nil = x12.DefaultConfig() (placeholders, marked test data).
	X12Config *x12.Config

	Plan *plan.Plan // nil = the built-in Close Care plan
	// OutDir is the output directory: created if missing, replaced as a
	// whole by the run's outputs (writers.Publisher); no input may be in it.
	OutDir string
	Format writers.Format // output format; the zero value is CSV
	// Workers is the number of goroutines of each parallel stage: the
	// claims, members and --state-in readers' decoding, the members' spans,
	// the adjudication; 0 = GOMAXPROCS. The output is byte-identical for
	// any value.
	Workers int
	// MemoryLimit is the memory budget in bytes the run sizes its partitions
	// from (it does not set the Go runtime's limit; cmd does); 0 =
	// DefaultMemoryLimit.
	MemoryLimit int64
	// TmpDir is where the spill files go (in a claimsbatch-spill-* directory
	// removed at the end, on failure too); "" = the system temp directory.
	TmpDir string
	// NoStream makes the run go through the member partitions even when
	// the claims are ordered by member; false streams them (stream.go).
	// The outputs are byte-identical either way.
	NoStream bool
	// BatchSize is the readers' batch size; 0 = the readers' default.
	BatchSize int
	RunID     string       // "" = derived from the inputs' content hashes
	Version   string       // tool version for the manifest
	Logger    *slog.Logger // nil = discard; never given member ids or rows at info level
	// Progress, when set, is called from time to time (from one goroutine at
	// a time) with the phase ("reading", "deduplicating", "adjudicating"),
	// the rows or lines done in it and its total, 0 when not known yet.
	Progress func(phase string, done, total int64)

	// segmentFrom: a member with more lines than this is adjudicated in
	// segments (huge.go); 0 = hugeMemberLines. The package's tests set it
	// to send every member, or none, down that path.
	segmentFrom int
	// spillBlock is the size of the blocks spill files are read into and
	// recycled (spill.BlockPool); 0 = the spill package's 1 MiB. The
	// package's tests take a few KiB, so that blocks are recycled on their
	// small inputs (and overwritten when built with the spillcheck tag).
	spillBlock int
}

// DefaultMemoryLimit is the memory budget when Config.MemoryLimit is 0.
const DefaultMemoryLimit = 512 << 20

// Summary is what Run reports when it completes.
type Summary struct {
	RunID         string
	AsOf          claim.Date // the run's --as-of date
	OutDir        string
	Files         []string // published file names, manifest last
	ControlTotals writers.ControlTotals
}
