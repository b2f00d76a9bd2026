#!/usr/bin/env bash
# bench/run.sh — end-to-end benchmark of claimsbatch against DuckDB's sort-copy.
#
# For each size in $SIZES and each format pair in $PAIRS it runs, on the same
# seeded input file:
#   ours:   claimsbatch run --memory-limit $MEMORY_LIMIT --format F --quiet
#   duckdb: bench/bin/sortcopy (COPY (SELECT * ... ORDER BY member_id,
#           service_date, claim_id, line_no) TO ... in the same format)
#   duckdb at equal memory: the same sort-copy with SET memory_limit =
#           $DUCKDB_MEMORY_LIMIT (spilling to bench/results/runs/duckdb-tmp)
# each under /usr/bin/time -v, and prints a Markdown table of wall seconds,
# lines/s, peak RSS and the time ratios ours/duckdb, unconstrained and at
# equal memory (plus CPU seconds, which other load on a shared host distorts
# less than wall time), the machine and the load average.
#
# Then (COMPARE=1) it checks that the current binary publishes the same
# results as the binary of a base revision ($BASE, built from `git archive`
# into bench/bin/claimsbatch-base): both run on the $COMPARE_LINES-line set
# of each format, and bench/compare checks that the CSV outputs are
# byte-identical and the Parquet outputs have the same schema and the same
# values row for row, and prints the verdict with both binaries' times. The
# report is also written to bench/results/latest.md; the script exits 1 if
# the outputs differ.
#
# Environment (all optional):
#   SIZES         claim lines per data set          (default "10000000 30000000")
#   PAIRS         formats, input = output            (default "csv parquet")
#   SORTED_SIZES  sizes also run on claims ordered by member (generate --sorted), which
#                 claimsbatch streams, and again with --stream=false (default "10000000";
#                 "" skips them)
#   SEED          generator seed                     (default 42)
#   MEMBERS       members per data set; 0 = lines/20 (default 500000: the same book at every size, so the 30 M run is that book with more history)
#   BAD_SHARE     generator --bad-share              (default 0.002, the generator's)
#   MEMORY_LIMIT  claimsbatch --memory-limit         (default 512MiB)
#   REPEAT        runs per engine and pair; the fastest counts, the largest RSS is kept (default 1)
#   DUCKDB_THREADS  DuckDB threads                   (default nproc)
#   DUCKDB_MEMORY_LIMIT  DuckDB memory_limit of the equal-memory run (default 512MB; "" skips that run)
#   COMPARE=0     skip the old-vs-new comparison     (default 1)
#   BASE          the base revision of the comparison (default 6cdf8a2: main once issue 12
#                 made the as-of date an input and changed the state and the Parquet fx_rate
#                 on purpose, before the parallel readers and the column writers of issue 14;
#                 any commit-ish, e.g. BASE=origin/main)
#   AS_OF         claimsbatch --as-of for every run (default 2030-01-01, after the data)
#   COMPARE_LINES lines of the comparison's data sets (default 2000000)
#   MICRO=1       first run the Go micro-benchmarks once each (-benchtime 1x)
#   KEEP_OUTPUTS=1  keep the runs' output files under bench/results/runs/
#   SPACE_CHECK=0 run even with less free disk than the runs need (about 600
#                 bytes a line of the largest size: 17 GiB at 30 M lines)
#
# Generated data is cached in bench/data/<lines>-<format>/ with a stamp file
# keyed by lines, seed, members, bad share, format and a hash of the
# generator's sources: a changed generator regenerates. bench/data/ and
# bench/results/ are gitignored.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

SIZES=${SIZES:-10000000 30000000}
SORTED_SIZES=${SORTED_SIZES-10000000}
PAIRS=${PAIRS:-csv parquet}
SEED=${SEED:-42}
MEMBERS=${MEMBERS:-500000}
BAD_SHARE=${BAD_SHARE:-0.002}
MEMORY_LIMIT=${MEMORY_LIMIT:-512MiB}
REPEAT=${REPEAT:-1}
DUCKDB_THREADS=${DUCKDB_THREADS:-$(nproc)}
DUCKDB_MEMORY_LIMIT=${DUCKDB_MEMORY_LIMIT-512MB}
COMPARE=${COMPARE:-1}
BASE=${BASE:-6cdf8a2}
# The as-of date of every claimsbatch run: after every received_date the
# generator writes, so that no line is refused for being received later.
AS_OF=${AS_OF:-2030-01-01}
COMPARE_LINES=${COMPARE_LINES:-2000000}
MICRO=${MICRO:-0}
KEEP_OUTPUTS=${KEEP_OUTPUTS:-0}
GO=${GO:-go}

BIN=bench/bin
DATA=bench/data
RESULTS=bench/results
RUNS=$RESULTS/runs
mkdir -p "$BIN" "$DATA" "$RUNS"

# A run needs room for its outputs, its spill files and DuckDB's output and
# temporary files at once: about 600 bytes a line of the largest size
# (measured: a 30 M-line CSV pair fits in 23 GB free, failed with "no space
# left on device" eight minutes in with 14 GB). Check before anything runs.
if [[ ${SPACE_CHECK:-1} != 0 ]]; then
	largest=0
	for n in $SIZES ${SORTED_SIZES:-}; do ((n > largest)) && largest=$n; done
	need_kb=$((largest * 600 / 1024))
	free_kb=$(df -Pk "$RESULTS" | awk 'NR == 2 {print $4}')
	if ((free_kb < need_kb)); then
		echo "bench: $((free_kb / 1048576)) GiB free under $RESULTS, and the $largest-line runs need about $((need_kb / 1048576 + 1)) GiB: free some space (SPACE_CHECK=0 runs anyway)" >&2
		exit 2
	fi
fi

log() { echo "bench: $*" >&2; }

[[ -x /usr/bin/time ]] || { log "/usr/bin/time is missing (apt-get install time)"; exit 1; }

# --- build -------------------------------------------------------------------
log "building claimsbatch, compare and sortcopy"
"$GO" build -trimpath -o "$BIN/claimsbatch" ./cmd/claimsbatch
"$GO" build -trimpath -o "$BIN/compare" ./bench/compare
(cd bench/duckdb && CGO_ENABLED=1 "$GO" build -trimpath -o ../bin/sortcopy .)

source bench/build.sh

# build_base: bench/bin/claimsbatch-base from revision $BASE (a `git archive`
# of it, built in a temporary directory), unless it is already that build.
BASE_COMMIT=""
build_base() {
	BASE_COMMIT=$(git rev-parse --verify --quiet "$BASE^{commit}") || {
		log "BASE=$BASE is not a commit of this repository"
		return 1
	}
	if [[ -x $BIN/claimsbatch-base && -f $BIN/claimsbatch-base.rev && $(cat "$BIN/claimsbatch-base.rev") == "$BASE_COMMIT" ]]; then
		return
	fi
	log "building the base binary of $BASE ($BASE_COMMIT)"
	build_revision "$BASE_COMMIT" "$ROOT/$BIN/claimsbatch-base"
	echo "$BASE_COMMIT" >"$BIN/claimsbatch-base.rev"
}

# --- machine -----------------------------------------------------------------
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
mem_total=$(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rev=$(git describe --always --dirty 2>/dev/null || echo unknown)

# --- micro-benchmarks (optional) ----------------------------------------------
if [[ $MICRO == 1 ]]; then
	log "Go micro-benchmarks (-benchtime 1x)"
	# A failure here (say, a package mid-edit) does not stop the comparison.
	if ! "$GO" test -run '^$' -bench . -benchmem -benchtime 1x ./engine/ ./readers/ ./writers/ >"$RESULTS/micro.txt" 2>&1; then
		log "micro-benchmarks failed (see $RESULTS/micro.txt); going on"
	fi
	grep -E '^(Benchmark|ok|FAIL|---)' "$RESULTS/micro.txt" >&2 || true
fi

# --- data --------------------------------------------------------------------
# ensure_data LINES FORMAT (bench/data.sh): generate bench/data/LINES-FORMAT
# unless its stamp matches.
source bench/data.sh

# --- measuring ---------------------------------------------------------------
# timed NAME CMD...: run CMD under /usr/bin/time -v; sets WALL (s), CPU (user +
# system s) and RSS (MiB).
timed() {
	local name=$1
	shift
	local tfile="$RUNS/$name.time" ofile="$RUNS/$name.log"
	if ! /usr/bin/time -v -o "$tfile" "$@" >"$ofile" 2>&1; then
		log "FAILED: $* (see $ofile)"
		tail -5 "$ofile" >&2
		return 1
	fi
	WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {
		n = split($2, p, ":"); s = 0
		for (i = 1; i <= n; i++) s = s * 60 + p[i]
		printf "%.2f", s }' "$tfile")
	CPU=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$tfile")
	RSS=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$tfile")
}

# best_of NAME CMD...: REPEAT runs; BEST_WALL is the fastest (BEST_CPU that
# run's CPU seconds), BEST_RSS the largest of all runs, ALL_WALLS every
# run's wall time in order ("15.21 / 14.80 / 16.02").
best_of() {
	local name=$1
	shift
	BEST_WALL="" BEST_CPU="" BEST_RSS=0 ALL_WALLS=""
	for ((r = 1; r <= REPEAT; r++)); do
		timed "$name.$r" "$@" || return 1
		ALL_WALLS+="${ALL_WALLS:+ / }$WALL"
		if [[ -z $BEST_WALL ]] || awk -v a="$WALL" -v b="$BEST_WALL" 'BEGIN {exit !(a < b)}'; then
			BEST_WALL=$WALL BEST_CPU=$CPU
		fi
		if ((RSS > BEST_RSS)); then BEST_RSS=$RSS; fi
	done
}

# fmt_int N: N with thousands separators (10000000 -> 10,000,000).
fmt_int() {
	awk -v n="$1" 'BEGIN {
		s = sprintf("%.0f", n); out = ""
		while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
		print s out }'
}

# --- report --------------------------------------------------------------------
# ratio A B: A / B with two decimals ("-" if either is missing).
ratio() {
	if [[ ! $1 =~ ^[0-9.]+$ || ! $2 =~ ^[0-9.]+$ ]]; then echo -; return; fi
	awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'
}

report() {
	local load_after
	load_after=$(cut -d' ' -f1-3 /proc/loadavg)
	echo "## claimsbatch vs DuckDB sort-copy — $started"
	echo
	echo "- machine: $(nproc) CPUs, $cpu_model, $mem_total RAM"
	echo "- $("$GO" version), claimsbatch $rev, duckdb-go $(awk '{for (i = 1; i < NF; i++) if ($i == "github.com/duckdb/duckdb-go/v2") print $(i + 1)}' bench/duckdb/go.mod)"
	local members=$MEMBERS
	[[ $members == 0 ]] && members="lines/20"
	echo "- seed $SEED, members $members, bad share $BAD_SHARE, claimsbatch --memory-limit $MEMORY_LIMIT (default workers), DuckDB threads $DUCKDB_THREADS (default memory_limit, and ${DUCKDB_MEMORY_LIMIT:-no} equal-memory run), best of $REPEAT"
	echo "- load average (1/5/15 min): before $load_before, after $load_after"
	echo
	echo "| lines | pair | ours s | ours lines/s | ours RSS MiB | ours CPU s | duckdb s | duckdb RSS MiB | duckdb CPU s | ratio ours/duckdb | CPU ratio | duckdb $DUCKDB_MEMORY_LIMIT s | its RSS MiB | its CPU s | ratio at equal memory | CPU ratio at equal memory |"
	echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	local row
	for row in "${rows[@]}"; do
		IFS='|' read -r l p os olps orss oc ds drss dc ms mrss mc <<<"$row"
		echo "| $(fmt_int "$l") | $p | $os | $(fmt_int "$olps") | $orss | $oc | $ds | $drss | $dc | **$(ratio "$os" "$ds")** | $(ratio "$oc" "$dc") | $ms | $mrss | $mc | **$(ratio "$os" "$ms")** | $(ratio "$oc" "$mc") |"
	done
	echo
	echo "Targets (issue 14): must, at 10 M lines of the generated (unordered) sets: parquet→parquet ≥ 600,000 lines/s, csv→csv ≥ 700,000 lines/s, peak RSS ≤ 512 MiB and flat to 30 M; goal: parquet→parquet ≥ 1,500,000 lines/s, ratio ≤ 1.00 (parquet), ≤ 1.25 (csv), faster than DuckDB at equal memory."
	echo
	for row in "${rows[@]}"; do
		IFS='|' read -r l p os olps orss oc ds drss dc ms mrss mc <<<"$row"
		local limit=1.25 verdict r must=700000
		if [[ $p == parquet* ]]; then limit=1.00 must=600000; fi
		if ((orss <= 512)); then verdict="RSS met"; else verdict="RSS missed (+$((orss - 512)) MiB)"; fi
		if [[ $l == 10000000 && $p != *sorted* ]]; then
			if awk -v x="$olps" -v m="$must" 'BEGIN {exit !(x >= m)}'; then
				verdict+="; must lines/s met ($(fmt_int "$olps") ≥ $(fmt_int "$must"))"
			else
				verdict+="; must lines/s missed ($(fmt_int "$olps") < $(fmt_int "$must"), $(awk -v x="$olps" -v m="$must" 'BEGIN {printf "%.0f%%", 100 * x / m}'))"
			fi
		fi
		if [[ $p == parquet* ]]; then
			if awk -v x="$olps" 'BEGIN {exit !(x >= 1500000)}'; then
				verdict+="; lines/s met"
			else
				verdict+="; lines/s missed ($(awk -v x="$olps" 'BEGIN {printf "%.0f%%", 100 * x / 1500000}') of target)"
			fi
		fi
		r=$(ratio "$os" "$ds")
		if awk -v r="$r" -v m="$limit" 'BEGIN {exit !(r <= m)}'; then
			verdict+="; ratio met"
		else
			verdict+="; ratio missed ($r > $limit)"
		fi
		r=$(ratio "$os" "$ms")
		if [[ $r != - ]]; then
			if awk -v r="$r" 'BEGIN {exit !(r < 1)}'; then
				verdict+="; faster than DuckDB at equal memory ($r)"
			else
				verdict+="; slower than DuckDB at equal memory ($r)"
			fi
		fi
		echo "- $(fmt_int "$l") $p: $verdict"
	done
	if ((REPEAT > 1)); then
		echo
		echo "Every run's wall time, in order (s; the table has the fastest of each):"
		echo
		echo "| lines | pair | ours | duckdb | duckdb $DUCKDB_MEMORY_LIMIT |"
		echo "|---:|---|---|---|---|"
		for row in "${spread_rows[@]}"; do
			IFS='|' read -r l p ow dw mw <<<"$row"
			echo "| $(fmt_int "$l") | $p | $ow | $dw | $mw |"
		done
	fi
	if ((${#cmp_rows[@]} > 0)); then
		echo
		echo "### Old vs new: the base binary ($BASE = ${BASE_COMMIT:0:12}) and this one on the same inputs"
		echo
		echo "| lines | pair | base s | base CPU s | base RSS MiB | new s | new CPU s | new RSS MiB | CPU new/base | outputs |"
		echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"
		for row in "${cmp_rows[@]}"; do
			IFS='|' read -r l p bs bc brss ns nc nrss v <<<"$row"
			echo "| $(fmt_int "$l") | $p | $bs | $bc | $brss | $ns | $nc | $nrss | $(ratio "$nc" "$bc") | **$v** |"
		done
		echo
		echo "(outputs: CSV byte-identical and Parquet equal value for value with the same schema, by bench/compare; its report per file is in bench/results/runs/compare-*.txt)"
	fi
}

# run_ours NAME BINARY DIR FORMAT OUT [FLAG...]: one claimsbatch run under
# best_of, with the FLAGs added.
run_ours() {
	local name=$1 bin=$2 dir=$3 format=$4 out=$5
	shift 5
	best_of "$name" bash -c 'out=$1 bin=$2 dir=$3 f=$4 limit=$5 asof=$6
		shift 6
		rm -rf "$out" && exec "$bin" run --claims "$dir/claims.$f" --members "$dir/members.$f" \
			--fx "$dir/fx.$f" --out "$out" --format "$f" --memory-limit "$limit" --as-of "$asof" --quiet "$@"' \
		_ "$out" "$bin" "$dir" "$format" "$MEMORY_LIMIT" "$AS_OF" "$@"
}

# bench_pair LINES FORMAT [sorted]: claimsbatch and DuckDB on one data set;
# on the sorted set, claimsbatch also with --stream=false (the same claims
# through the member partitions).
bench_pair() {
	local lines=$1 format=$2 order=${3:-}
	ensure_data "$lines" "$format" "$order"
	local dir="$DATA/$lines-$format${order:+-$order}" name="$lines-$format${order:+-$order}"
	# Warm the page cache so neither engine pays the first read from disk.
	cat "$dir"/*."$format" >/dev/null

	local out="$RUNS/$name"
	rm -rf "$out"
	mkdir -p "$out"
	log "$lines lines $format→$format${order:+ ($order)}: claimsbatch"
	run_ours "$name-ours" "$BIN/claimsbatch" "$dir" "$format" "$out/ours"
	local ours_s=$BEST_WALL ours_cpu=$BEST_CPU ours_rss=$BEST_RSS ours_walls=$ALL_WALLS
	local part_s="" part_cpu="" part_rss="" part_walls=""
	if [[ $order == sorted ]]; then
		log "$lines lines $format→$format ($order): claimsbatch --stream=false"
		run_ours "$name-ours-partitioned" "$BIN/claimsbatch" "$dir" "$format" "$out/ours" --stream=false
		part_s=$BEST_WALL part_cpu=$BEST_CPU part_rss=$BEST_RSS part_walls=$ALL_WALLS
	fi

	log "$lines lines $format→$format${order:+ ($order)}: duckdb sortcopy"
	best_of "$name-duckdb" bash -c 'rm -f "$1/sorted.$4" && exec "$2" --in "$3/claims.$4" --out "$1/sorted.$4" --format "$4" --threads "$5"' \
		_ "$out" "$BIN/sortcopy" "$dir" "$format" "$DUCKDB_THREADS"
	local duck_s=$BEST_WALL duck_cpu=$BEST_CPU duck_rss=$BEST_RSS duck_walls=$ALL_WALLS

	local lim_s=- lim_cpu=- lim_rss=- lim_walls=-
	if [[ -n $DUCKDB_MEMORY_LIMIT ]]; then
		log "$lines lines $format→$format${order:+ ($order)}: duckdb sortcopy, memory_limit $DUCKDB_MEMORY_LIMIT"
		# A failure here (DuckDB out of memory, say) is a result, not the end of the benchmark.
		if best_of "$name-duckdb-limited" bash -c 'rm -rf "$1/sorted.$4" "$1/duckdb-tmp" && exec "$2" --in "$3/claims.$4" --out "$1/sorted.$4" --format "$4" --threads "$5" --memory-limit "$6" --temp-dir "$1/duckdb-tmp"' \
			_ "$out" "$BIN/sortcopy" "$dir" "$format" "$DUCKDB_THREADS" "$DUCKDB_MEMORY_LIMIT"; then
			lim_s=$BEST_WALL lim_cpu=$BEST_CPU lim_rss=$BEST_RSS lim_walls=$ALL_WALLS
		else
			lim_s=failed
		fi
	fi
	[[ $KEEP_OUTPUTS == 1 ]] || rm -rf "$out"

	local pair="$format→$format" ours_lps
	[[ $order == sorted ]] && pair+=" sorted, streamed"
	ours_lps=$(awk -v n="$lines" -v s="$ours_s" 'BEGIN {printf "%.0f", n / s}')
	rows+=("$lines|$pair|$ours_s|$ours_lps|$ours_rss|$ours_cpu|$duck_s|$duck_rss|$duck_cpu|$lim_s|$lim_rss|$lim_cpu")
	spread_rows+=("$lines|$pair|$ours_walls|$duck_walls|$lim_walls")
	log "  ours ${ours_s}s (cpu ${ours_cpu}s) ${ours_rss} MiB; duckdb ${duck_s}s (cpu ${duck_cpu}s) ${duck_rss} MiB, ratio $(ratio "$ours_s" "$duck_s"); at $DUCKDB_MEMORY_LIMIT ${lim_s}s (cpu ${lim_cpu}s) ${lim_rss} MiB, ratio $(ratio "$ours_s" "$lim_s")"
	if [[ -n $part_s ]]; then
		local part_lps
		part_lps=$(awk -v n="$lines" -v s="$part_s" 'BEGIN {printf "%.0f", n / s}')
		rows+=("$lines|$format→$format sorted, --stream=false|$part_s|$part_lps|$part_rss|$part_cpu|$duck_s|$duck_rss|$duck_cpu|$lim_s|$lim_rss|$lim_cpu")
		spread_rows+=("$lines|$format→$format sorted, --stream=false|$part_walls|$duck_walls|$lim_walls")
		log "  ours --stream=false ${part_s}s (cpu ${part_cpu}s) ${part_rss} MiB"
	fi
	# Keep what is measured so far: a long run stopped half-way still has a table.
	report >"$RESULTS/latest.md"
}

rows=()
spread_rows=()
cmp_rows=()
for lines in $SIZES; do
	for format in $PAIRS; do
		bench_pair "$lines" "$format"
	done
done
for lines in $SORTED_SIZES; do
	for format in $PAIRS; do
		bench_pair "$lines" "$format" sorted
	done
done

# --- old vs new ------------------------------------------------------------------
different=0
if [[ $COMPARE == 1 ]]; then
	build_base
	# The generated sets, which this binary partitions, and the same lines
	# ordered by member, which it streams (the base binary partitions both).
	for order in "" sorted; do
		for format in $PAIRS; do
			ensure_data "$COMPARE_LINES" "$format" "$order"
			name="$COMPARE_LINES-$format${order:+-$order}"
			dir="$DATA/$name"
			cat "$dir"/*."$format" >/dev/null
			out="$RUNS/compare-$name"
			rm -rf "$out"
			mkdir -p "$out"
			log "$COMPARE_LINES lines $format→$format${order:+ ($order)}: base binary ($BASE)"
			run_ours "compare-$name-base" "$BIN/claimsbatch-base" "$dir" "$format" "$out/base"
			base_s=$BEST_WALL base_cpu=$BEST_CPU base_rss=$BEST_RSS
			log "$COMPARE_LINES lines $format→$format${order:+ ($order)}: this binary"
			run_ours "compare-$name-new" "$BIN/claimsbatch" "$dir" "$format" "$out/new"
			new_s=$BEST_WALL new_cpu=$BEST_CPU new_rss=$BEST_RSS
			log "comparing the outputs"
			status=0
			"$BIN/compare" --old "$out/base" --new "$out/new" >"$RUNS/compare-$name.txt" 2>&1 || status=$?
			cat "$RUNS/compare-$name.txt" >&2
			case $status in
			0) verdict=SAME ;;
			1) verdict=DIFFERENT different=1 ;;
			*) verdict="compare failed (exit $status)" different=1 ;;
			esac
			[[ $KEEP_OUTPUTS == 1 ]] || rm -rf "$out"
			cmp_rows+=("$COMPARE_LINES|$format→$format${order:+ $order}|$base_s|$base_cpu|$base_rss|$new_s|$new_cpu|$new_rss|$verdict")
			report >"$RESULTS/latest.md"
		done
	done
fi

report | tee "$RESULTS/latest.md"
cp "$RESULTS/latest.md" "$RESULTS/$(date -u +%Y%m%dT%H%M%SZ).md"
if ((different)); then
	log "the outputs of this binary and the base binary differ (see above)"
	exit 1
fi
