// Package pipeline runs a claimsbatch job end to end, and only that: it
// reads the inputs with package readers, checks and prices every line with
// package book, finds duplicate lines, groups the accepted lines by member,
// adjudicates members in parallel with package engine, and writes and
// publishes the outputs with package writers. It may import every package of
// the module but cmd; nothing imports it but cmd (and tests).
//
// # Stages
//
// A run is a sequence of stages (run.go), each in its own file:
//
//   - reference data (inputs.go): the members file becomes the member book,
//     the FX file the FX table; both stay in memory for the whole run;
//   - state in (state.go): the --state-in file is streamed into spill files;
//   - read (read.go): step 1 below;
//   - dedupe (dedupe.go): step 2;
//   - adjudicate and write (adjudicate.go): step 3, then payments;
//   - guard rails (guard.go): a members file without a valid member, a
//     --state-in that is not the one its run published, too many
//     exceptions, stop the run before it publishes;
//   - conservation and publish (conservation.go, run.go): the outputs are
//     written into a stage beside Config.OutDir and swapped in as a whole
//     (writers.Publisher), the manifest signed with Config.SignKey.
//
// # Memory model
//
// Accepted lines never stay in memory as a whole: the run streams them into
// spill files (package spill) in two steps, so peak memory depends on the
// memory budget, not on the number of lines.
//
//  1. read: every claims file goes through the readers and the run-level
//     checks (book.Pricer: member, FX); an accepted line is written with its
//     raw text to one of the "claim" partitions, chosen by a hash of
//     (claim_id, line_no), and a rejected row to the exceptions spill, in
//     input order.
//  2. dedupe: each claim partition is read back in input order, after the
//     --state-in line keys of the same partition; the first copy of a
//     (claim_id, line_no) is kept (its fields' bytes copied to the "member"
//     partition of its member's range), a later one becomes DUPLICATE_LINE.
//     A claim partition's keys are all that is in memory. The --state-in
//     member records are split by member range too.
//  3. adjudicate: member partitions cover consecutive member_id ranges sized
//     from each member's lines and state records, so reading them in order
//     gives the SPEC's output order; one partition at a time is loaded (the
//     next while the current is adjudicated), grouped by member and
//     adjudicated in parallel.
//
// What stays in memory for the whole run is sized by members, not lines:
// the book (package book: about 150 bytes a member), the FX rates, one count
// of lines and of state records per member, and the payees' totals. The
// exceptions of steps 1 and 2 are merged by (file, row) at the end.
//
// # Determinism
//
// Determinism is by construction: members are adjudicated in member_id order
// by workers that each own whole members, results are written in that order
// whatever the number of workers, exceptions in input order, payments and
// state sorted by key, and nothing derived from the clock or from map
// iteration reaches a data file.
//
// Exception order. The exceptions file lists the claims files' rows first, in
// --claims order and row order, then the members file's, then the FX file's.
package pipeline
