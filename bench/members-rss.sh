#!/usr/bin/env bash
# bench/members-rss.sh — peak RSS of runs whose members are many, or one
# member whose lines are many (README "Memory and spill files"):
#
#  1. a members file of $MEMBERS members (synth: `claimsbatch generate
#     --members N --lines N`, one claim line a member) under
#     --memory-limit ${LIMIT_MIB}MiB: prints the peak RSS and the book's
#     bytes a member (the run's "members loaded" log line), and fails (exit
#     1) when the peak RSS passes the limit by more than $MARGIN_MIB MiB;
#  2. one member with $HUGE lines under --memory-limit ${HUGE_LIMIT_MIB}MiB,
#     against the same run with one line: prints the RSS a line adds.
#
# Environment (all optional):
#   MEMBERS         members of run 1                (default 2000000)
#   LIMIT_MIB       run 1's --memory-limit in MiB   (default 256)
#   MARGIN_MIB      RSS allowed over the limit      (default 8: the Go
#                   runtime's soft limit is 90 % of the budget, the 10 % left
#                   holds what is not Go heap, about 20 MiB of binary,
#                   stacks and runtime metadata; the margin covers a soft
#                   limit's overshoot)
#   HUGE            lines of the one member of run 2; 0 skips it (default 300000)
#   HUGE_LIMIT_MIB  run 2's --memory-limit in MiB   (default 512)
#   SEED            generator seed                   (default 7)
#
# Generated data is cached in bench/data/members-*/ with a stamp of the
# arguments and the generator's sources (as bench/run.sh does).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

MEMBERS=${MEMBERS:-2000000}
LIMIT_MIB=${LIMIT_MIB:-256}
MARGIN_MIB=${MARGIN_MIB:-8}
HUGE=${HUGE:-300000}
HUGE_LIMIT_MIB=${HUGE_LIMIT_MIB:-512}
SEED=${SEED:-7}
GO=${GO:-go}
AS_OF=2026-06-30

BIN=bench/bin
DATA=bench/data
OUT=$(mktemp -d "${TMPDIR:-/tmp}/members-rss-XXXXXX")
trap 'rm -rf "$OUT"' EXIT
mkdir -p "$BIN" "$DATA"

log() { echo "members-rss: $*" >&2; }
[[ -x /usr/bin/time ]] || { log "/usr/bin/time is missing (apt-get install time)"; exit 1; }

"$GO" build -trimpath -o "$BIN/claimsbatch" ./cmd/claimsbatch
GEN_HASH=$(git hash-object $(ls synth/*.go | grep -v '_test\.go$') plan/closecare.yaml cmd/claimsbatch/generate.go | sha256sum | cut -c1-16)

# ensure_data DIR MEMBERS LINES BAD_SHARE: generate DIR unless its stamp matches.
ensure_data() {
	local dir=$1 members=$2 lines=$3 bad=$4
	local stamp="members=$members lines=$lines bad_share=$bad seed=$SEED generator=$GEN_HASH"
	if [[ -f $dir/stamp && $(cat "$dir/stamp") == "$stamp" ]]; then
		return
	fi
	log "generating $members members, $lines lines into $dir"
	rm -rf "$dir"
	"$BIN/claimsbatch" generate --out "$dir" --members "$members" --lines "$lines" --seed "$SEED" --bad-share "$bad" >&2
	echo "$stamp" >"$dir/stamp"
}

# rss_of LOG CMD...: runs CMD (its stderr to LOG) under /usr/bin/time; sets
# RSS (KiB) and CPU (user + system seconds).
rss_of() {
	local logfile=$1
	shift
	if ! /usr/bin/time -f "%M %U %S" -o "$OUT/time" "$@" 2>"$logfile" >/dev/null; then
		log "FAILED: $* (see below)"
		tail -5 "$logfile" >&2
		exit 1
	fi
	read -r RSS user sys <"$OUT/time"
	CPU=$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.1f", u + s}')
}

# --- 1. many members ----------------------------------------------------------
dir=$DATA/members-$MEMBERS
ensure_data "$dir" "$MEMBERS" "$MEMBERS" 0.002
rss_of "$OUT/run1.log" "$BIN/claimsbatch" run --claims "$dir/claims.csv" --members "$dir/members.csv" --fx "$dir/fx.csv" \
	--out "$OUT/run1" --as-of "$AS_OF" --memory-limit "${LIMIT_MIB}MiB"
book=$(sed -n 's/.*msg="members loaded".* members=\([0-9]*\) .*book_bytes=\([0-9]*\).*/\1 \2/p' "$OUT/run1.log")
read -r n bytes <<<"$book"
rss_mib=$((RSS / 1024))
echo "members: $n members, --memory-limit ${LIMIT_MIB}MiB: peak RSS $rss_mib MiB, CPU ${CPU} s, book $(awk -v b="$bytes" -v n="$n" 'BEGIN {printf "%.1f", b / n}') bytes a member (+8 for the run's counts)"
status=0
if ((rss_mib > LIMIT_MIB + MARGIN_MIB)); then
	log "FAIL: peak RSS $rss_mib MiB is over ${LIMIT_MIB} MiB + ${MARGIN_MIB} MiB"
	status=1
fi

# --- 2. one member with many lines ---------------------------------------------
if ((HUGE > 0)); then
	dir=$DATA/members-huge-$HUGE
	ensure_data "$dir" 2000 "$HUGE" 0
	if [[ ! -f $dir/one.csv || $dir/one.csv -ot $dir/stamp ]]; then
		# Every line to the first member (covered from 2021 on, open-ended).
		awk -F, 'BEGIN {OFS = ","} NR > 1 {$3 = "M0000001"} {print}' "$dir/claims.csv" >"$dir/one.csv"
		head -2 "$dir/one.csv" >"$dir/one1.csv"
	fi
	for c in one one1; do
		rss_of "$OUT/$c.log" "$BIN/claimsbatch" run --claims "$dir/$c.csv" --members "$dir/members.csv" --fx "$dir/fx.csv" \
			--out "$OUT/$c" --as-of "$AS_OF" --memory-limit "${HUGE_LIMIT_MIB}MiB" --quiet
		eval "rss_$c=$RSS cpu_$c=$CPU"
	done
	echo "one member: $HUGE lines, --memory-limit ${HUGE_LIMIT_MIB}MiB: peak RSS $((rss_one / 1024)) MiB (1 line: $((rss_one1 / 1024)) MiB), $(awk -v a="$rss_one" -v b="$rss_one1" -v n="$HUGE" 'BEGIN {printf "%.0f", (a - b) * 1024 / n}') bytes a line, CPU ${cpu_one} s"
fi
exit $status
