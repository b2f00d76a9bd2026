// Package pipeline runs a claimsbatch job end to end: it loads the plan,
// members, FX rates and prior state, streams the claims files through the
// readers and the row checks of SPEC section 7, groups accepted lines by
// member, adjudicates members in parallel with the engine, and writes and
// publishes the output files with their manifest.
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
