package rundir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"claimsbatch/claim"
)

func TestParseAdjustments(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  string
	}{
		{"", "[]", ""},
		{"PR-1:375.00 PR-2:165.00 PR-119:10.00", "[{PR-1 375.00} {PR-2 165.00} {PR-119 10.00}]", ""},
		{"  OA-18:2000.00  ", "[{OA-18 2000.00}]", ""},
		{"PR-119", "", `"PR-119": want GROUP-CODE:amount`},
		{"pr-1:1.00", "", `"pr-1:1.00": want GROUP-CODE:amount`},
		{"PR-:1.00", "", "want GROUP-CODE:amount"},
		{"PR-1:1.005", "", "more than 2 decimals"},
	}
	for _, tc := range tests {
		got, err := ParseAdjustments(nil, tc.in)
		if tc.err != "" {
			if !errors.Is(err, ErrAdjustments) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want ErrAdjustments with %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != tc.want && !(tc.want == "[]" && len(got) == 0) {
			t.Errorf("%q: %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	if got, _ := ParseAdjustments(nil, "PR-2:0.01"); got[0].Amount != claim.Money(1) {
		t.Errorf("amount %d cents, want 1", got[0].Amount)
	}
}

func TestCompareCodes(t *testing.T) {
	codes := []string{"PR-204", "X", "OA-18", "PR-2", "PR-119", "PR-1", "CO-18", "PR-96", "PR-6"}
	slices.SortFunc(codes, CompareCodes)
	if want := []string{"PR-1", "PR-2", "PR-6", "CO-18", "OA-18", "PR-96", "PR-119", "PR-204", "X"}; !slices.Equal(codes, want) {
		t.Errorf("%q, want %q", codes, want)
	}
}

func TestOpen(t *testing.T) {
	run, err := Open("../../testdata/sample/golden")
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := run.Table(Remittance); !ok || p != filepath.Join("../../testdata/sample/golden", "remittance.csv") {
		t.Errorf("remittance at %q, %v", p, ok)
	}
	if _, ok := run.Table("diff"); ok {
		t.Error("a table the manifest does not list")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	bad := filepath.Join(dir, "bad")
	os.Mkdir(bad, 0o755)
	os.WriteFile(filepath.Join(bad, ManifestName), []byte("{"), 0o644)
	for _, d := range []string{filepath.Join(dir, "missing"), file, dir, bad} {
		if _, err := Open(d); !errors.Is(err, ErrNotRun) {
			t.Errorf("Open(%s): %v, want ErrNotRun", d, err)
		}
	}
}
