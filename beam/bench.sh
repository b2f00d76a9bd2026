#!/usr/bin/env bash
# Wall time, CPU time and peak RSS of claimsbatch-beam (in-process Prism)
# against claimsbatch run on the same generated inputs, and a byte
# comparison of what they publish (docs/DISTRIBUTED.md, "Measured").
#   SIZES="1000000 4000000" bash beam/bench.sh      (from the repository root)
# Members are lines/20. Data and outputs go to ${BENCH_DIR:-/tmp/claimsbatch-beam-bench}.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
SIZES=${SIZES:-1000000}
DIR=${BENCH_DIR:-/tmp/claimsbatch-beam-bench}
AS_OF=${AS_OF:-2026-03-01}
mkdir -p "$DIR" bin
$GO build -o bin/claimsbatch ./cmd/claimsbatch
(cd beam && $GO build -o ../bin/claimsbatch-beam ./cmd/claimsbatch-beam)
measure() { # label, command...
	local label=$1; shift
	/usr/bin/time -v "$@" >"$DIR/$label.out" 2>"$DIR/$label.time" || { echo "$label failed:"; tail -20 "$DIR/$label.time"; return 1; }
	awk -v l="$label" -F': ' '
		/Elapsed \(wall clock\)/ {w=$2} /User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {r=$2}
		END {printf "%-22s wall %s  user %ss  sys %ss  peak RSS %.0f MiB\n", l, w, u, s, r/1024}' "$DIR/$label.time"
}
for n in $SIZES; do
	data="$DIR/data-$n"
	[ -f "$data/claims.csv" ] || bin/claimsbatch generate --out "$data" --lines "$n" --members $((n / 20)) --seed 7 >/dev/null
	args=(--claims "$data/claims.csv" --members "$data/members.csv" --fx "$data/fx.csv" --as-of "$AS_OF" --run-id bench)
	rm -rf "$DIR/run-$n" "$DIR/beam-$n"
	measure "run-$n" bin/claimsbatch run "${args[@]}" --out "$DIR/run-$n"
	measure "beam-$n" bin/claimsbatch-beam run "${args[@]}" --out "$DIR/beam-$n"
	if diff -r "$DIR/run-$n" "$DIR/beam-$n" >/dev/null; then echo "$n lines: published files byte-identical"; else echo "$n lines: OUTPUTS DIFFER"; fi
done
