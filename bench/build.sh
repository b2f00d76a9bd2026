# bench/build.sh — build_revision COMMIT OUT: build claimsbatch of a git
# commit into OUT (sourced by bench/run.sh and bench/pair.sh, from the
# repository's root). The commit is exported with `git archive` into a
# temporary directory, so no worktree is touched. Expects GO.
build_revision() {
	local commit=$1 out=$2 tmp
	tmp=$(mktemp -d)
	git archive "$commit" | tar -x -C "$tmp"
	(cd "$tmp" && "$GO" build -trimpath -o "$out" ./cmd/claimsbatch)
	local rc=$?
	rm -rf "$tmp"
	return $rc
}
