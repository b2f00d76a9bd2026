//go:build !spillcheck

package spill

// poisonRecycled: see BlockPool (the spillcheck build tag).
const poisonRecycled = false
