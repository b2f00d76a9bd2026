#!/usr/bin/env bash
# bench/pgo.sh — regenerate cmd/claimsbatch/default.pgo (`make pgo`).
#
# `go build` optimises a main package with the CPU profile named default.pgo
# in its directory (profile-guided optimisation: hotter calls inlined,
# interface calls on hot paths devirtualised; nothing else changes, and the
# outputs are the same bytes). This script makes that profile from the runs
# the bench times: bench/profile (the pipeline as `claimsbatch run` calls
# it) on the generated data sets of LINES lines, CSV and Parquet, RUNS times
# each under MEMORY_LIMIT (so the lines spill, as in a nightly run of a big
# extract), and the same sets sorted by member (generate --sorted: the
# streamed path) SORTED_RUNS times each, merged into one profile.
#
# Regenerate it after a change that moves or renames the hot code (the
# profile names functions: a renamed one is no longer optimised, nothing
# breaks), then check the gain side by side with bench/pair.sh against the
# build before (docs/BENCHMARKS.md, "Profile-guided optimisation").
#
# Environment (all optional):
#   LINES         lines of each data set             (default 2000000)
#   RUNS          profiled runs per format           (default 3)
#   SORTED_RUNS   profiled runs per format of the sets sorted by member
#                 (default 1; 0 leaves the streamed path out)
#   MEMORY_LIMIT  the runs' memory budget in MiB     (default 512)
#   SEED, MEMBERS, BAD_SHARE  the generator's, as bench/run.sh's
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
GO=${GO:-go}
LINES=${LINES:-2000000}
RUNS=${RUNS:-3}
SORTED_RUNS=${SORTED_RUNS:-1}
MEMORY_LIMIT=${MEMORY_LIMIT:-512}
SEED=${SEED:-42}
MEMBERS=${MEMBERS:-500000}
BAD_SHARE=${BAD_SHARE:-0.002}
BIN=bench/bin
DATA=bench/data
OUT=bench/results/pgo
log() { echo "pgo: $*" >&2; }
mkdir -p "$BIN" "$DATA" "$OUT"

log "building claimsbatch and bench/profile"
"$GO" build -trimpath -o "$BIN/claimsbatch" ./cmd/claimsbatch
# bench/profile with the current profile too, so that the new one is of
# the code the product binary runs (Go's PGO is meant to be iterated).
pgo=off
[[ -f cmd/claimsbatch/default.pgo ]] && pgo=cmd/claimsbatch/default.pgo
"$GO" build -trimpath -pgo="$pgo" -o "$BIN/profile" ./bench/profile
source bench/data.sh

profiles=()
for set in csv parquet csv-sorted parquet-sorted; do
	format=${set%-sorted} runs=$RUNS order=
	if [[ $set == *-sorted ]]; then
		runs=$SORTED_RUNS order=sorted
	fi
	((runs > 0)) || continue
	ensure_data "$LINES" "$format" $order
	d=$DATA/$LINES-$set
	for i in $(seq "$runs"); do
		p=$OUT/$set-$i.prof
		log "profiling $LINES lines $set→$format, run $i of $runs"
		rm -rf "$OUT/out"
		"$BIN/profile" --claims "$d/claims.$format" --members "$d/members.$format" --fx "$d/fx.$format" \
			--format "$format" --out "$OUT/out" --memory-limit-mib "$MEMORY_LIMIT" --cpuprofile "$p" >"$OUT/run.log" 2>&1 ||
			{ log "the profiled run failed:"; tail -5 "$OUT/run.log" >&2; exit 1; }
		profiles+=("$p")
	done
done
rm -rf "$OUT/out"
"$GO" tool pprof -proto "${profiles[@]}" >"$OUT/merged.pgo" 2>/dev/null
mv "$OUT/merged.pgo" cmd/claimsbatch/default.pgo
log "wrote cmd/claimsbatch/default.pgo ($(wc -c <cmd/claimsbatch/default.pgo) bytes, ${#profiles[@]} runs); commit it with the change it follows"
