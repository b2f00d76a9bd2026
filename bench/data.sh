# bench/data.sh — the generated data sets of the bench scripts (sourced by
# bench/run.sh and bench/pgo.sh, from the repository's root).
#
# Expects BIN (where claimsbatch is built), DATA (bench/data), SEED, MEMBERS,
# BAD_SHARE and a log function. A set is cached in $DATA/<lines>-<format>/
# with a stamp keyed by lines, seed, members, bad share, format and a hash of
# the generator's sources: a changed generator regenerates.

generator_hash() {
	# The generator's own sources and the plan it draws benefits from.
	git hash-object $(ls synth/*.go | grep -v '_test\.go$') plan/closecare.yaml cmd/claimsbatch/generate.go |
		sha256sum | cut -c1-16
}
GEN_HASH=$(generator_hash)

# ensure_data LINES FORMAT [sorted]: generate $DATA/LINES-FORMAT (with
# "sorted", $DATA/LINES-FORMAT-sorted: the claims ordered by member, as
# warehouse extracts often are, with generate --sorted) unless its stamp
# matches.
ensure_data() {
	local lines=$1 format=$2 order=${3:-}
	local dir="$DATA/$1-$2" flags=()
	if [[ $order == sorted ]]; then
		dir+="-sorted"
		flags=(--sorted)
	fi
	local stamp="lines=$lines seed=$SEED members=$MEMBERS bad_share=$BAD_SHARE format=$format generator=$GEN_HASH${order:+ $order}"
	if [[ -f $dir/stamp && $(cat "$dir/stamp") == "$stamp" && -f $dir/claims.$format ]]; then
		return
	fi
	log "generating $lines lines ($format${order:+, $order}) into $dir"
	rm -rf "$dir"
	mkdir -p "$dir"
	"$BIN/claimsbatch" generate --out "$dir" --lines "$lines" --seed "$SEED" --format "$format" \
		--members "$MEMBERS" --bad-share "$BAD_SHARE" "${flags[@]}" >&2
	echo "$stamp" >"$dir/stamp"
}
