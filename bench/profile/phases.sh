#!/usr/bin/env bash
# bench/profile/phases.sh BINARY PROFILE — split a CPU profile of one
# claimsbatch run into the pipeline's phases.
#
# Each sample's stack is put in the first phase whose function it contains
# (checked in the order below: the writers, split by table, before the
# adjudication loop that calls them, and so on). Samples of the GC's background mark workers cannot
# be attributed to a phase and get their own row; GC assists (allocation
# paying for marking) stay in the phase that allocated and are also shown
# as a share of it. Compression (zstd, snappy, flate) is shown as a share too.
set -euo pipefail
[[ $# == 2 ]] || { echo "usage: $0 BINARY PROFILE" >&2; exit 2; }

go tool pprof -traces "$1" "$2" 2>/dev/null | awk '
function secs(v) {
	if (v ~ /ms$/) return substr(v, 1, length(v) - 2) / 1000
	if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1e6
	if (v ~ /s$/)  return substr(v, 1, length(v) - 1) + 0
	return v + 0
}
function classify(st) {
	# Receivers are matched loosely ([A-Za-z]+): the types of the pipeline change
	# more often than the names of its phases.
	if (st ~ /runtime\.gcBgMarkWorker/) return "GC background mark workers"
	if (st ~ /pipeline\.hashFile/) return "input hashing (SHA-256)"
	if (st ~ /writers\.\(\*HashingWriter\)/) return "writers: output SHA-256 and file writes"
	if (st ~ /writers\.\(\*parquetEncoder\)\.(writeGroup|flush\.func)/) return "writers: Parquet row groups (encode, compress; every table, own goroutine)"
	if (st ~ /writers\.\(\*RemittanceWriter\)/) return "writers: remittance (encode, compress)"
	if (st ~ /writers\.\(\*StateWriter\)/) return "writers: state (encode, compress)"
	if (st ~ /writers\.\(\*PaymentsWriter\)/) return "writers: payments"
	if (st ~ /pipeline\.mergeExceptions|writers\.\(\*ExceptionsWriter\)/) return "exceptions merge + write"
	# Not the snappy decoding of the readers, whose codec lives in writers (fastSnappy).
	if (st ~ /claimsbatch\/writers\./ && st !~ /claimsbatch\/readers\./) return "writers: other (control totals, manifest, publish)"
	if (st ~ /pipeline\.\(\*[A-Za-z]+\)\.(loadMembers|loadFX|loadState)|pipeline\.newReference/) return "members, FX, state load"
	if (st ~ /pipeline\.\(\*[A-Za-z]+\)\.readClaims/) return "claims read, parse, check, spill"
	if (st ~ /readers\.\(\*(ClaimsReader|pqWorker|rowParser|csvWorker)\)/) return "claims decode and row checks (reader goroutines)"
	if (st ~ /pipeline\.\(\*[A-Za-z]+\)\.dedupe|pipeline\.\(\*dedupeWorker\)/) return "dedupe + member-range spill"
	if (st ~ /pipeline\.\(\*[A-Za-z]+\)\.loadPartition/) return "partition load + sort"
	if (st ~ /claimsbatch\/(pipeline\/)?engine\./) return "engine (adjudication)"
	if (st ~ /pipeline\.\(\*[A-Za-z]+\)\.(adjudicate|writeChunk|metaRecords)|pipeline\.\(\*payments\)|pipeline\.lineRecord/) return "adjudication glue (chunks, state records, payments)"
	if (st ~ /pipeline\.\(\*[A-Za-z]+\)\.conservation/) return "conservation checks"
	return "other (runtime, scheduler, syscalls)"
}
function flush() {
	if (val == "") return
	p = classify(stack)
	total += val; by[p] += val
	if (stack ~ /runtime\.gcAssistAlloc/) assist[p] += val
	if (stack ~ /compress\/(zstd|snappy|flate|s2)|writers\.fastSnappy|compress\.(zstd|snappy|lz4)|golang\/snappy|pierrec\/lz4/) comp[p] += val
	val = ""; stack = ""
}
/^-+\+-+/ { flush(); next }
/^ +[0-9.]+(ms|us|s|ns) / { flush(); val = secs($1); stack = $2 "\n"; next }
val != "" { stack = stack $1 "\n" }
END {
	flush()
	printf "| phase | CPU s | share | of which GC assist | of which compression |\n|---|---:|---:|---:|---:|\n"
	n = 0
	for (p in by) order[++n] = p
	for (i = 1; i <= n; i++) for (k = i + 1; k <= n; k++) if (by[order[k]] > by[order[i]]) { t = order[i]; order[i] = order[k]; order[k] = t }
	for (i = 1; i <= n; i++) {
		p = order[i]
		printf "| %s | %.2f | %.1f%% | %.2f | %.2f |\n", p, by[p], 100 * by[p] / total, assist[p], comp[p]
	}
	gc = by["GC background mark workers"]
	for (p in assist) gc += assist[p]
	printf "| **total sampled** | %.2f | 100%% | | |\n\nGC (background workers + assists): %.2f s = %.1f%% of CPU.\n", total, gc, 100 * gc / total
}'
