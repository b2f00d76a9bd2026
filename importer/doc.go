// Package importer turns extracts written by others (Synthea's CSV export,
// CMS DE-SynPUF files, a new extract) into claimsbatch's input files:
// claims, members and, when a profile makes one, fx, ready for
// `claimsbatch run`, with an exceptions file for every source row that could
// not be mapped and a manifest that accounts for every source row.
//
// A mapping profile (YAML, docs/IMPORT.md) says which files hold what and
// how their columns become claimsbatch's columns: sources, row filters,
// joins to other sources, named intermediate values, per target column a
// source column, constant, template, date format, placeholder values, code
// table or a first-of list, generated line numbers, unpivoted slot columns,
// and coverage spans from end-exclusive periods or months covered per year.
// Profiles are validated like plans: every problem with its YAML key and
// line, at once. Two profiles are built in (synthea and cms-desynpuf).
//
// Memory: main sources are streamed row by row; lookup sources (those a
// join reads) are held in memory, one entry per row with the columns the
// joins read; a generated line_no keeps one counter per claim id; a members
// block with months_per_year holds its rows until its last file.
//
// The package may import claim, plan, readers and writers; not pipeline.
package importer
