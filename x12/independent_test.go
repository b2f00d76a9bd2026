package x12_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"claimsbatch/claim"
)

// This file reads our 835s back with node-x12, an X12 parser written
// independently of ours (npm, MIT), and recomputes their balancing from its
// parse alone: no code of package x12 runs on the parsed side. node-x12 in
// strict mode rejects a file whose IEA01, GE01 or SE01 count or whose
// IEA02, GE02 or SE02 control number is wrong.

const nodeDir = "testdata/nodex12"

var (
	nodeOnce sync.Once
	nodeErr  error
)

// requireNodeX12 installs node-x12 when it is missing (testdata/nodex12/
// install.sh: npm ci of the pinned version). It skips the test only when
// node or npm is not there; an install that fails fails the test under CI
// and skips it elsewhere.
func requireNodeX12(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed (Debian: apt-get install -y nodejs npm): the independent X12 parser cannot run")
	}
	nodeOnce.Do(func() {
		if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "node-x12", "package.json")); err == nil {
			return
		}
		if _, err := exec.LookPath("npm"); err != nil {
			nodeErr = fmt.Errorf("npm is not installed (Debian: apt-get install -y npm)")
			return
		}
		out, err := exec.Command("bash", filepath.Join(nodeDir, "install.sh")).CombinedOutput()
		if err != nil {
			nodeErr = fmt.Errorf("%s: %v\n%s", filepath.Join(nodeDir, "install.sh"), err, out)
		}
	})
	if nodeErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node-x12 cannot be installed: %v", nodeErr)
		}
		t.Skipf("node-x12 cannot be installed: %v", nodeErr)
	}
}

// parsed is one file as node-x12 read it (see testdata/nodex12/parse.js).
type parsed struct {
	File   string   `json:"file"`
	Error  string   `json:"error"`
	ISA    []string `json:"isa"`
	IEA    []string `json:"iea"`
	Groups []struct {
		GS           []string `json:"gs"`
		GE           []string `json:"ge"`
		Transactions []struct {
			ST       []string   `json:"st"`
			SE       []string   `json:"se"`
			Segments [][]string `json:"segments"` // tag, then elements from 01
		} `json:"transactions"`
	} `json:"groups"`
}

// parseWithNodeX12 parses the files, 200 per node process.
func parseWithNodeX12(t *testing.T, files []string) []parsed {
	t.Helper()
	requireNodeX12(t)
	var out []parsed
	for start := 0; start < len(files); start += 200 {
		batch := files[start:min(start+200, len(files))]
		abs := make([]string, len(batch))
		for i, f := range batch {
			a, err := filepath.Abs(f)
			if err != nil {
				t.Fatal(err)
			}
			abs[i] = a
		}
		cmd := exec.Command("node", append([]string{"parse.js"}, abs...)...)
		cmd.Dir = nodeDir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.Output()
		sc := bufio.NewScanner(bytes.NewReader(stdout))
		sc.Buffer(nil, 256<<20)
		n := 0
		for sc.Scan() {
			var p parsed
			if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
				t.Fatalf("node-x12 output: %v", err)
			}
			out = append(out, p)
			n++
		}
		if n != len(batch) {
			t.Fatalf("node parse.js answered for %d of %d files: %v\n%s", n, len(batch), err, stderr.String())
		}
	}
	return out
}

// independentTotals is what the parse of one transaction set says, and what
// the recomputation found wrong.
type independentTotals struct {
	payee, currency     string
	paid                claim.Money // BPR02
	claims, lines       int
	charge, patientResp claim.Money
	problems            []string
}

func money(t *testing.T, s string) claim.Money {
	t.Helper()
	if s == "" {
		return 0
	}
	m, err := claim.ParseMoney(s)
	if err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return m
}

func el(seg []string, i int) string {
	if i < len(seg) {
		return seg[i]
	}
	return ""
}

// recompute walks node-x12's segments of one transaction set and checks the
// 835 balancing rules from them: SVC02 - SVC03 = its CAS, CLP03 - CLP04 =
// the claim's CAS, CLP05 = its PR CAS, BPR02 = sum of CLP04 - PLB.
func recompute(t *testing.T, segs [][]string) independentTotals {
	t.Helper()
	tot := independentTotals{currency: "USD"}
	var (
		inClaim, inSvc                    bool
		clpID                             string
		clpCharge, clpPaid, clpPR, clpCAS claim.Money
		prCAS                             claim.Money
		svcCharge, svcPaid, svcCAS        claim.Money
		clpSum, plbSum                    claim.Money
		lastN1                            string
	)
	closeSvc := func() {
		if inSvc && svcCharge-svcPaid != svcCAS {
			tot.problems = append(tot.problems, fmt.Sprintf("claim %s: SVC %s - %s != CAS %s", clpID, svcCharge, svcPaid, svcCAS))
		}
		inSvc = false
	}
	closeClaim := func() {
		closeSvc()
		if inClaim {
			if clpCharge-clpPaid != clpCAS {
				tot.problems = append(tot.problems, fmt.Sprintf("claim %s: CLP %s - %s != CAS %s", clpID, clpCharge, clpPaid, clpCAS))
			}
			if clpPR != prCAS {
				tot.problems = append(tot.problems, fmt.Sprintf("claim %s: CLP05 %s != PR CAS %s", clpID, clpPR, prCAS))
			}
			clpSum += clpPaid
		}
		inClaim = false
	}
	for _, s := range segs {
		switch s[0] {
		case "BPR":
			tot.paid = money(t, el(s, 2))
		case "CUR":
			tot.currency = el(s, 2)
		case "N1":
			lastN1 = el(s, 1)
		case "REF":
			if el(s, 1) == "PQ" && lastN1 == "PE" {
				tot.payee = el(s, 2)
			}
		case "CLP":
			closeClaim()
			inClaim = true
			tot.claims++
			clpID = el(s, 1)
			clpCharge, clpPaid, clpPR = money(t, el(s, 3)), money(t, el(s, 4)), money(t, el(s, 5))
			clpCAS, prCAS = 0, 0
			tot.charge += clpCharge
			tot.patientResp += clpPR
		case "SVC":
			closeSvc()
			inSvc = true
			tot.lines++
			svcCharge, svcPaid, svcCAS = money(t, el(s, 2)), money(t, el(s, 3)), 0
		case "CAS":
			var sum claim.Money
			for i := 3; i < len(s); i += 3 {
				sum += money(t, s[i])
			}
			clpCAS += sum
			if el(s, 1) == "PR" {
				prCAS += sum
			}
			if inSvc {
				svcCAS += sum
			}
		case "PLB":
			closeClaim()
			for i := 4; i < len(s); i += 2 {
				plbSum += money(t, s[i])
			}
		}
	}
	closeClaim()
	if tot.paid != clpSum-plbSum {
		tot.problems = append(tot.problems, fmt.Sprintf("BPR02 %s != CLP04 %s - PLB %s", tot.paid, clpSum, plbSum))
	}
	return tot
}

// independentRead parses the files with node-x12 and recomputes each one;
// each file must hold one interchange of one group of one 835.
func independentRead(t *testing.T, files []string) []independentTotals {
	t.Helper()
	var out []independentTotals
	for _, p := range parseWithNodeX12(t, files) {
		if p.Error != "" {
			t.Errorf("node-x12 rejects %s: %s", p.File, p.Error)
			continue
		}
		if len(p.Groups) != 1 || len(p.Groups[0].Transactions) != 1 {
			t.Errorf("%s: %d groups, want 1 with 1 transaction set", p.File, len(p.Groups))
			continue
		}
		if p.ISA[11] != "00501" || p.Groups[0].GS[0] != "HP" || p.Groups[0].GS[7] != "005010X221A1" {
			t.Errorf("%s: ISA12 %s GS01 %s GS08 %s", p.File, p.ISA[11], p.Groups[0].GS[0], p.Groups[0].GS[7])
		}
		tx := p.Groups[0].Transactions[0]
		if tx.ST[0] != "835" {
			t.Errorf("%s: ST01 %s", p.File, tx.ST[0])
		}
		tot := recompute(t, tx.Segments)
		for _, prob := range tot.problems {
			t.Errorf("%s: %s", p.File, prob)
		}
		out = append(out, tot)
	}
	if len(out) != len(files) {
		t.Fatalf("node-x12 read %d of %d files", len(out), len(files))
	}
	return out
}

// paymentsRow is a provider row of a payments.csv, read with encoding/csv.
type paymentsRow struct {
	lines int
	paid  claim.Money
}

func readProviderPayments(t *testing.T, path string) map[[2]string]paymentsRow {
	t.Helper()
	recs := readCSV(t, path)
	col := columns(recs[0])
	out := map[[2]string]paymentsRow{}
	for _, r := range recs[1:] {
		if r[col["payee_type"]] != "provider" {
			continue
		}
		n, err := strconv.Atoi(r[col["line_count"]])
		if err != nil {
			t.Fatal(err)
		}
		out[[2]string{r[col["payee_id"]], r[col["plan_currency"]]}] = paymentsRow{n, money(t, r[col["plan_paid"]])}
	}
	return out
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func columns(header []string) map[string]int {
	m := map[string]int{}
	for i, h := range header {
		m[h] = i
	}
	return m
}

// tieToPayments checks that the independently read files pay, per provider
// payee and currency, exactly the payments file's plan_paid over its line
// count, and that every provider row has its file.
func tieToPayments(t *testing.T, got []independentTotals, payments map[[2]string]paymentsRow) {
	t.Helper()
	seen := map[[2]string]bool{}
	for _, g := range got {
		k := [2]string{g.payee, g.currency}
		if seen[k] {
			t.Errorf("two files for %v", k)
		}
		seen[k] = true
		want, ok := payments[k]
		switch {
		case !ok:
			t.Errorf("file for %v has no provider row in payments", k)
		case g.paid != want.paid || g.lines != want.lines:
			t.Errorf("%v: BPR02 %s over %d lines, payments say %s over %d", k, g.paid, g.lines, want.paid, want.lines)
		}
	}
	var missing []string
	for k := range payments {
		if !seen[k] {
			missing = append(missing, k[0]+" "+k[1])
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("no file for %s", strings.Join(missing, ", "))
	}
}

// TestIndependentParserGolden: node-x12 reads every golden 835 of the sample
// strictly, and their balancing recomputed from its parse ties to the
// sample's payments.csv to the cent.
func TestIndependentParserGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/default/*.835")
	if err != nil || len(files) != 19 {
		t.Fatalf("%d golden files: %v", len(files), err)
	}
	configured, _ := filepath.Glob("testdata/golden/configured/*.835")
	got := independentRead(t, append(files, configured...))
	tieToPayments(t, got[:len(files)], readProviderPayments(t, "../testdata/sample/golden/payments.csv"))
}

// TestIndependentParserCatches: the harness can fail. node-x12 rejects a
// wrong SE01, and the recomputation finds a BPR that does not match.
func TestIndependentParserCatches(t *testing.T) {
	good, err := os.ReadFile("testdata/golden/default/PR-HOSP1_USD_cda93960.835")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	seCount := filepath.Join(dir, "se.835")
	bpr := filepath.Join(dir, "bpr.835")
	os.WriteFile(seCount, bytes.Replace(good, []byte("\nSE*43*"), []byte("\nSE*42*"), 1), 0o600)
	os.WriteFile(bpr, bytes.Replace(good, []byte("\nBPR*I*24287.5*"), []byte("\nBPR*I*24287.4*"), 1), 0o600)
	got := parseWithNodeX12(t, []string{seCount, bpr})
	if want := "X12 Standard: The value in SE01 (42) does not match the number of segments in the transaction (43)."; got[0].Error != want {
		t.Errorf("node-x12 on a wrong SE01: %q", got[0].Error)
	}
	tot := recompute(t, got[1].Groups[0].Transactions[0].Segments)
	if want := []string{"BPR02 24287.40 != CLP04 24287.50 - PLB 0.00"}; !slices.Equal(tot.problems, want) {
		t.Errorf("recomputed problems %q, want %q", tot.problems, want)
	}
}
