package readers

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"claimsbatch/claim"
)

// testPlan is a BenefitLookup with a few of the Close Care codes.
type testPlan map[string]struct {
	id        claim.BenefitID
	needsItem bool
}

func (p testPlan) Lookup(code string) (claim.BenefitID, bool, bool) {
	b, ok := p[code]
	return b.id, b.needsItem, ok
}

var plan = testPlan{
	"HOSPITAL_ACCOMMODATION": {id: 1},
	"CANCER_DEVICE":          {id: 14, needsItem: true},
	"OP_CONSULTATION":        {id: 24},
	"DENTAL_ROUTINE":         {id: 40},
}

// writeFile writes data to name in a fresh temporary directory.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// claimsResult is everything a claims file read gives.
type claimsResult struct {
	lines      []claim.Line
	exceptions []claim.Exception
	rows       int64
	batches    int
}

func readClaims(t testing.TB, path string, opt Options) (claimsResult, error) {
	t.Helper()
	r, err := OpenClaims(path, 3, plan, opt)
	if err != nil {
		return claimsResult{}, err
	}
	defer r.Close()
	return drainClaims(r)
}

func drainClaims(r *ClaimsReader) (claimsResult, error) {
	var res claimsResult
	for r.Next() {
		res.batches++
		res.lines = append(res.lines, r.Lines()...)
		res.exceptions = append(res.exceptions, r.Exceptions()...)
	}
	res.rows = r.Rows()
	return res, r.Err()
}

// memFile is an in-memory input file for the fuzzers.
type memFile struct{ *bytes.Reader }

func (memFile) Close() error { return nil }

func openMem(name string, data []byte, spec []column, opt Options) (*table, error) {
	f, err := formatOf(name)
	if err != nil {
		return nil, err
	}
	return newTable(name, memFile{bytes.NewReader(data)}, f, spec, opt)
}

// readClaimsMem reads a claims file from memory.
func readClaimsMem(name string, data []byte, opt Options) (claimsResult, error) {
	t, err := openMem(name, data, claimColumns[:], opt)
	if err != nil {
		return claimsResult{}, err
	}
	r := newClaimsReader(t, 3, plan, opt)
	defer r.Close()
	return drainClaims(r)
}

func mustDate(t testing.TB, s string) claim.Date {
	t.Helper()
	d, err := claim.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
