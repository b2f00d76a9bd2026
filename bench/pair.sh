#!/usr/bin/env bash
# bench/pair.sh OLD [NEW] — two claimsbatch builds run side by side.
#
# A shared host's speed drifts by 10–30 % from one minute to the next (see
# docs/BENCHMARKS.md), more than most single changes are worth, so runs one
# after the other compare the host as much as the code. This script starts
# both builds at the same time on the same data set, so they share whatever
# state the host is in, and compares their CPU time (user + system): each
# run is CPU-bound, and a change that saves work shows as a ratio below 1.
# Both runs slow each other (two runs on two cores), so the absolute figures
# are not a run's; the ratio is the measurement. Two builds of the same
# code gave 0.983, 1.006 and 0.993, but one round can be 5–10 % off when
# the host drifts hard: take the median of several (ROUNDS).
#
# OLD and NEW are a git revision or an executable; NEW defaults to the
# working tree. A revision is built from `git archive` into bench/bin.
# Each round checks that both runs wrote the same bytes (CSV) or the same
# values (Parquet, bench/compare) and fails if not.
#
# Environment (all optional):
#   FMT      csv or parquet                         (default csv)
#   LINES    the bench/data set to use, made by bench/run.sh (default 10000000)
#   ROUNDS   rounds                                 (default 2)
#   MEMORY_LIMIT  claimsbatch --memory-limit        (default 512MiB)
#   SETTLE   seconds to wait before each round, after warming the cache
#            (default 10; see the loop)
#   KEEP     non-empty: keep the last round's outputs in bench/results/pair
#            (by default they are removed once found the same; outputs that
#            differ are always kept)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
[[ $# -ge 1 && $# -le 2 ]] || { echo "usage: $0 OLD [NEW]  (a git revision or an executable each)" >&2; exit 2; }
GO=${GO:-go}
FMT=${FMT:-csv}
LINES=${LINES:-10000000}
ROUNDS=${ROUNDS:-2}
MEMORY_LIMIT=${MEMORY_LIMIT:-512MiB}
BIN=bench/bin
DATA=bench/data/$LINES-$FMT
OUT=bench/results/pair
mkdir -p "$BIN" "$OUT"
[[ -f $DATA/claims.$FMT ]] || {
	echo "no data set $DATA: make it with SIZES=$LINES PAIRS=$FMT COMPARE=0 bash bench/run.sh" >&2
	exit 2
}

source bench/build.sh

# build SPEC NAME: echoes the path of an executable for SPEC.
build() {
	local spec=$1 name=$2
	# A copied executable left from an earlier round is not an object file:
	# go build refuses to overwrite it.
	rm -f "$BIN/pair-$name"
	if [[ -z $spec ]]; then
		"$GO" build -trimpath -o "$BIN/pair-$name" ./cmd/claimsbatch >&2 || exit 1
	elif [[ -x $spec && ! -d $spec ]]; then
		cp "$spec" "$BIN/pair-$name"
	else
		local commit
		commit=$(git rev-parse --verify --quiet "$spec^{commit}") || {
			echo "$spec is neither an executable nor a revision" >&2
			exit 2
		}
		build_revision "$commit" "$ROOT/$BIN/pair-$name" >&2 || exit 1
	fi
	echo "$BIN/pair-$name"
}
old=$(build "$1" old)
new=$(build "${2:-}" new)
"$GO" build -trimpath -o "$BIN/compare" ./bench/compare

one() { # executable tag
	rm -rf "$OUT/$2"
	/usr/bin/time -f "%e %U %S %M" -o "$OUT/$2.time" "$1" run --claims "$DATA/claims.$FMT" --members "$DATA/members.$FMT" \
		--fx "$DATA/fx.$FMT" --format "$FMT" --out "$OUT/$2" --memory-limit "$MEMORY_LIMIT" --as-of 2030-01-01 --quiet \
		>"$OUT/$2.log" 2>&1
}
for r in $(seq "$ROUNDS"); do
	# Warm the page cache first (as bench/run.sh does): this host drops
	# cached file pages within minutes, and the first read from disk would
	# charge its system time to whichever run asked first.
	cat "$DATA"/*."$FMT" >/dev/null
	# Then let the memory the last round freed go back to the host: this
	# VM's balloon reports free memory to the host about two seconds after
	# it is freed, and a page the host took back costs a fault in the host
	# when it is touched again. A run started right after another would
	# reuse pages the host still backs, which a nightly job started on a
	# settled machine does not find (huge pages the most: they come from
	# the free blocks that are reported).
	sleep "${SETTLE:-10}"
	one "$old" old &
	a=$!
	one "$new" new &
	b=$!
	wait $a || { echo "the old build failed: $OUT/old.log" >&2; exit 1; }
	wait $b || { echo "the new build failed: $OUT/new.log" >&2; exit 1; }
	read -r w1 u1 s1 _ <"$OUT/old.time"
	read -r w2 u2 s2 _ <"$OUT/new.time"
	verdict=$("$BIN/compare" -old "$OUT/old" -new "$OUT/new" | tail -1)
	awk -v f="$FMT" -v r="$r" -v w1="$w1" -v u1="$u1" -v s1="$s1" -v w2="$w2" -v u2="$u2" -v s2="$s2" -v v="$verdict" 'BEGIN {
		printf "%s round %d: old CPU %.2f s (user %.2f, sys %.2f, wall %.2f)  new CPU %.2f s (user %.2f, sys %.2f, wall %.2f)  new/old %.3f  %s\n",
			f, r, u1 + s1, u1, s1, w1, u2 + s2, u2, s2, w2, (u2 + s2) / (u1 + s1), v
	}'
	[[ $verdict == *SAME* ]] || { echo "outputs differ: $OUT/old and $OUT/new" >&2; exit 1; }
	# Two 10 M-line CSV runs' outputs are 5 GB: gone once they are known
	# to be the same, unless asked for (a full disk stopped a bench once).
	[[ -n ${KEEP:-} ]] || rm -rf "$OUT/old" "$OUT/new"
done
