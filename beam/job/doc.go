// Package job runs claimsbatch's adjudication as an Apache Beam pipeline
// (Run) and publishes what `claimsbatch run` publishes, byte for byte: the
// runner choice (in-process Prism, a portable job server, Dataflow), the
// pipeline's stages (adjudicate.go: read and price, DUPLICATE_LINE by
// (claim_id, line_no), adjudication by member, payments as a combine), the
// shard files the workers write under deterministic names, and the final
// step in the launcher process that merges the shards in key order and
// hands them to the main module's publish (pipeline.Prepared.Publish).
//
// It implements no rule of claimsbatch: rows are checked by readers, priced
// by book.Pricer, a member's spans resolved by book.ResolveMember, members
// adjudicated by engine.AdjudicateMember, DUPLICATE_LINE exceptions made by
// pipeline.DuplicateLine, the configuration, reference data and outputs
// checked and written by pipeline.Prepare and Prepared.Publish.
//
// Everything a pipeline sends between stages must be encodable by Beam: a
// struct with exported fields of simple types (strings, integers and named
// integer types such as claim.Money and claim.Date, bools, slices, nested
// structs). claim.Line and claim.Span qualify as they are; claim.Result does
// not (its Adjustments field is a fixed-size array, which Beam's schema coder
// refuses), so results travel as flat structs.
//
// Determinism does not come from the runner: bundles, their order and their
// retries differ from run to run. It comes from keys. Every element that
// reaches an output carries a sort key (see AppendString, AppendInt); the
// shard it lands in is a hash of its group key (ShardOf); a shard is written
// whole, sorted, under a name that depends only on its number, so a retried
// or duplicated bundle rewrites the same bytes; and only the launcher's
// final merge (MergeShards) makes anything visible in the output directory.
//
// It imports claim, plan, book, engine, readers, writers and pipeline of the
// main module and Beam's SDK; nothing of the main module imports it.
package job
