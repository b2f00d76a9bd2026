// Package layout holds the module's package map as data — which package may
// import which — and a test that keeps the code true to it. It has no code a
// program uses.
//
// The map follows the data flow: domain types at the bottom (claim), the
// plan and the rules above them, files in and out at the edges, the run on
// top, the command line above everything. An import that points the other
// way fails TestImportDirection; a new package fails it until it has a row.
package layout

// Allowed lists, per package of the module (its path below the module), the
// packages of the module it may import. Standard library and third-party
// imports are not listed: the map is about our own packages.
var Allowed = map[string][]string{
	"claim":              {},
	"plan":               {"claim", "internal/strhash"},
	"engine":             {"claim", "plan"},
	"book":               {"claim", "plan", "internal/strhash"},
	"readers":            {"claim"},
	"writers":            {"claim", "internal/arrowmem"},
	"spill":              {"claim"},
	"verify":             {"claim", "readers", "writers", "x12"},
	"synth":              {"claim", "plan"},
	"internal/arrowmem":  {},
	"internal/hugepages": {},
	"internal/layout":    {},
	"internal/strhash":   {},
	"internal/rundir":    {"claim", "writers"},
	"diff":               {"claim", "readers", "writers", "internal/rundir"},
	"report":             {"claim", "readers", "writers", "internal/rundir"},
	"metrics":            {"claim"},
	"x12":                {"claim", "readers"},
	"importer":           {"claim", "plan", "readers", "writers"},
	"explain":            {"claim", "plan", "engine", "book", "readers", "writers", "internal/rundir"},
	"pipeline":           {"claim", "plan", "engine", "book", "readers", "writers", "spill", "internal/arrowmem", "internal/strhash", "report", "x12"},
	"cmd/claimsbatch":    {"*"},
	"bench/profile":      {"*"},
	"bench/chain":        {"*"},
	"bench/compare":      {"readers"},
}
