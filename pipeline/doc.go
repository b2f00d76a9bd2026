// Package pipeline runs a claimsbatch job end to end, and only that: it
// reads the inputs with package readers, checks and prices every line with
// package book, finds duplicate lines, groups the accepted lines by member,
// adjudicates members in parallel with package engine, and writes and
// publishes the outputs with package writers, with the run's report.html
// (package report) and, on request, its X12 835s (package x12). It may
// import the packages internal/layout allows it; nothing imports it but cmd
// (and tests).
//
// # Stages
//
// A run is a sequence of stages (run.go), each in its own file:
//
//   - reference data (inputs.go): the members file is streamed into the
//     member book (its rows checked as they are read, the members numbered
//     with the state's, their spans checked against each other range by
//     range), the FX file becomes the FX table; both stay in memory for
//     the whole run;
//   - state in (state.go): the --state-in file is streamed: its line keys to
//     the key partitions, its member records to a spill set;
//   - read (read.go): step 1 below;
//   - stream (stream.go): claims ordered by member skip the member
//     partitions: each member is adjudicated and written (step 3's chunk
//     pipeline) as soon as its lines are read, and the run starts again
//     partitioned if step 2 or a later row shows that it should not have;
//     --claims files that cannot follow each other in member order (one
//     begins before the last member of the one before) are partitioned
//     from the start;
//   - dedupe (dedupe.go): step 2;
//   - adjudicate and write (adjudicate.go): step 3, then payments; the
//     writer measures each line's turnaround as it goes (turnaround.go);
//   - guard rails (guard.go): a members file without a valid member, a
//     --state-in that is not the one its run published, too many
//     exceptions, stop the run before it publishes;
//   - conservation and publish (conservation.go, publish.go, run.go): with
//     Config.X12 the 835s are made from the staged remittance and tied out
//     to the staged payments (package x12); report.html is built from the
//     staged tables and the manifest about to be written (package report);
//     the outputs are written into a stage beside Config.OutDir and
//     swapped in as a whole (writers.Publisher), the manifest signed with
//     Config.SignKey.
//
// # Memory model
//
// Accepted lines never stay in memory as decoded lines as a whole: the run
// streams them, encoded, into spill sets (package spill) in one pass, so
// peak memory depends on the memory budget, not on the number of lines. The
// sets share a quarter of the budget: within it they stay in memory (a
// nightly extract that fits writes no spill file at all), past it they move
// to files in a claimsbatch-spill-* directory.
//
//  0. members: the members file is streamed (readers.MembersReader); each
//     row is checked against the plan while it is read (book.Builder) and
//     its span goes, encoded, to a spill set in file order; what stays is
//     the member ids, one per run of rows of a member. The --state-in
//     file's member records are counted the same way. The ids are sorted
//     once and numbered in member_id order (no map of ids), the members cut
//     into member ranges (planMemberRanges: the state's records per member
//     are known, the lines and spans are estimated from the files' sizes),
//     and the spans routed to their range's partition; each range's
//     members are checked for overlapping spans there. The overlaps'
//     exceptions get their rows' text back from a second read of those
//     rows only. The book keeps of the spans only what pricing needs; step
//     3 loads a range's full spans with its lines.
//  1. read: every claims file goes through the readers and
//     the run-level checks (book.Pricer: member, FX); an accepted line's
//     fields (with its member's number) go to the partition of its
//     member's range, its key (claim_id, line_no, where it came from) to a
//     key partition chosen by the key's hash, after the --state-in keys; a
//     rejected row goes to the exceptions set, in input order. A Bloom
//     filter over the keys (about 12 bits a key) flags the lines whose key
//     may have been seen before: only their key records carry the row's raw
//     text and the member's number, and their keys also go to a candidates
//     set, partitioned as the keys are.
//  2. dedupe: each key partition's candidates (about 1 % of its keys, and
//     every later copy of a key: the filter has no false negatives) are
//     put in a table, then its keys are read back past it (the state's
//     keys, then this run's in input order); the first copy of a candidate
//     (claim_id, line_no) is kept, a later one becomes DUPLICATE_LINE (its
//     raw text is in its key record) and its (source, row) joins the drops
//     of its member's range. A key partition's candidates are all that is
//     in memory.
//  3. adjudicate: the member ranges are loaded in order (the next while the
//     current one is adjudicated), their drops skipped, grouped by member
//     with a counting sort and adjudicated in parallel; reading them in order
//     gives the SPEC's output order. A range the plan made too big for the
//     budget (its lines were only estimated) is split into sub-ranges when it
//     is loaded.
//
// With claims ordered by member (stream.go), step 1 writes no member
// partition: the sink holds the current member's lines as decoded (their
// text copied into arenas by the pricing workers) and hands complete
// members to step 3's chunk pipeline, with the member's --state-in records
// (read from the state's spill set in file order) and spans (loaded a
// member range at a time); a member with a huge history is kept as
// records and adjudicated in segments, as below. Step 1's keys and step 2
// run as above; the stream's outputs stand only if step 2 drops no line
// the stream kept.
//
// What stays in memory for the whole run is sized by members, not lines:
// the book (package book: measured 32.5 bytes a member of a 2 M-member
// file: its id, the hash index, a status byte and 6 bytes a span), one
// count of lines and of state records per member (8 bytes), the FX rates,
// the Bloom filter (at most a sixteenth of the budget: past that it only
// flags more keys), the payees' totals, and the blocks spill files are read
// into, kept for the next partition (spill.BlockPool: at most a sixteenth
// of the budget, 32 MiB). The exceptions of steps 1 and
// 2 are merged by (file, row) at the end, the members file's follow them
// from their own spill set.
//
// A member's lines are never split across partitions (they are
// adjudicated in date order, together), but a member with a huge history
// (more than hugeMemberLines, 8,192) is not decoded whole (huge.go): its
// member-partition records stay encoded as loaded (about 120 bytes a line),
// with an index (16 bytes a line) sorted in SPEC order, and segmentLines
// (4,096) of them at a time are decoded, adjudicated with one engine.Member
// (engine.BeginMember, then Adjudicate a segment at a time) and written
// before the next; its LINE records are made from the records at the end,
// merged with the earlier runs' and written a batch at a time. What stays
// a line is the record, its index entry and the engine's duplicate-service
// key (96 bytes, its strings sharing the record): measured on one member
// with 300,000 lines, the live heap after a collection peaks at 77 to 84
// MB (11 to 12 MB with one line: about 230 bytes a line; whole, it was 274
// to 286 MB, about 870 bytes a line: claim.Line 304, its text, claim.Result 192, its LINE record
// 88 and a copy of it, its duplicate-service key), and RSS at about 180
// MiB under a 512 MiB budget, 190 MiB under 256 MiB (README "Memory and
// spill files" has the command).
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
