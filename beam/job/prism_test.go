package job

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/writers"
)

// smallToy is a hand-made input whose every output row is written out below.
func smallToy() toyInput {
	line := func(src int32, row int64, claimID string, lineNo int32, member, provider, currency string, billed claim.Money, service claim.Date) claim.Line {
		return claim.Line{ClaimID: claimID, LineNo: lineNo, MemberID: member, ProviderID: provider, Currency: currency,
			Billed: billed, ServiceDate: service, ReceivedDate: service + 2, Source: src, Row: row}
	}
	return toyInput{
		lines: []claim.Line{
			line(1, 1, "C2", 1, "M1", "P1", "EUR", 600_00, 20010), // 2nd of M1 by date: pays 400.00 of 600.00
			line(0, 1, "C1", 1, "M1", "P1", "EUR", 600_00, 20005), // 1st of M1: pays 600.00
			line(0, 2, "C2", 1, "M1", "P2", "EUR", 1_00, 20001),   // C2/1 first in input order (file 0): kept
			line(1, 2, "C3", 1, "M2", "P1", "USD", 100_00, 20003), // USD 100 at 0.9 = 90.00, M2 used 950.00: pays 50.00
			line(1, 3, "C4", 1, "M3", "P2", "EUR", 5_00, 20003),   // unknown member
			line(0, 3, "C5", 1, "M2", "P2", "JPY", 100_00, 20003), // no FX rate
			line(0, 4, "C6", 2, "M2", "P2", "EUR", 20_00, 20500),  // outside M2's span: pays 0
		},
		spans:  []claim.Span{{MemberID: "M1", Start: 20000, End: claim.OpenEnd}, {MemberID: "M2", Start: 20000, End: 20100}},
		states: []toyState{{MemberID: "M2", Used: 950_00}, {MemberID: "M9", Used: 12_34}},
		fx:     []toyFX{{"USD", 9000}},
	}
}

// TestToyPrismSmall runs the toy on in-process Prism: ParDo over claim.Line,
// GroupByKey, a side input, CoGroupByKey of three PCollections, a
// CombinePerKey and sharded outputs merged by the launcher's publish.
func TestToyPrismSmall(t *testing.T) {
	out := t.TempDir()
	in := smallToy()
	if err := runToy(t, in, out, 3, Fault{}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		// C2/1 of M1 is the one from file 0 (P2, 1.00, the earliest date);
		// the other C2/1 is a duplicate.
		"remittance.csv": "claim_id,line_no,member_id,service_date,payee_id,charge,plan_paid\n" +
			"C2,1,M1,2024-10-05,P2,1.00,1.00\n" +
			"C1,1,M1,2024-10-09,P1,600.00,600.00\n" +
			"C3,1,M2,2024-10-07,P1,90.00,50.00\n" +
			"C6,2,M2,2026-02-16,P2,20.00,0.00\n",
		"payments.csv": "payee_id,plan_currency,line_count,plan_paid\n" +
			"P1,EUR,2,650.00\n" +
			"P2,EUR,2,1.00\n",
		"exceptions.csv": "source,row,claim_id,line_no,code\n" +
			"0,3,C5,1,NO_FX_RATE\n" +
			"1,1,C2,1,DUPLICATE_LINE\n" +
			"1,3,C4,1,UNKNOWN_MEMBER\n",
		"state.csv": "member_id,used\n" +
			"M1,601.00\n" +
			"M2,1000.00\n" +
			"M9,12.34\n",
	}
	got := readOutputs(t, out)
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s:\n%s\nwant:\n%s", name, got[name], w)
		}
	}
	if ref := toyReference(in); !equalOutputs(ref, got) {
		t.Errorf("reference differs from the hand-written expectation: %v", ref)
	}
	// Published: the four files and the manifest; no shard directory,
	// no temporary file left.
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "exceptions.csv manifest.json payments.csv remittance.csv state.csv" {
		t.Errorf("output directory holds %v", names)
	}
}

func equalOutputs(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestToyPrismGenerated: 8 000 generated lines, the same bytes as the
// sequential reference, for 1 and 7 shards.
func TestToyPrismGenerated(t *testing.T) {
	in := toyGenerated(8000)
	want := toyReference(in)
	for _, shards := range []int{1, 7} {
		out := t.TempDir()
		if err := runToy(t, in, out, shards, Fault{}); err != nil {
			t.Fatal(err)
		}
		got := readOutputs(t, out)
		for name, w := range want {
			if got[name] != w {
				t.Errorf("%d shards: %s differs from the reference (%d vs %d bytes)", shards, name, len(got[name]), len(w))
			}
		}
		if n := strings.Count(got["exceptions.csv"], "DUPLICATE_LINE"); n < 400 {
			t.Errorf("only %d duplicates: the generator does not test what it should", n)
		}
	}
}

// TestToyFault makes the first attempt at writing remittance shard 1 fail
// halfway. Prism (v2.77.0) does not retry a failed bundle: the job fails,
// nothing is published, the partial shard stays only under its temporary
// name in the shard directory, and a rerun gives the reference bytes.
func TestToyFault(t *testing.T) {
	in := toyGenerated(3000)
	out := t.TempDir()
	marker := filepath.Join(t.TempDir(), "fault-spent")
	fault := Fault{Kind: "remittance", Shard: 1, Marker: marker}
	err := runToy(t, in, out, 4, fault)
	if _, statErr := os.Stat(marker); statErr != nil {
		t.Fatalf("the fault did not fire: %v", statErr)
	}
	if err == nil {
		t.Fatal("the job succeeded: this Prism retried the failed bundle; update the test and docs/DISTRIBUTED.md")
	}
	if !strings.Contains(err.Error(), ErrInjected.Error()) {
		t.Errorf("the job failed, but not with the injected error: %v", err)
	}
	t.Logf("Prism on an injected worker failure: %v", err)
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), writers.TempPrefix) {
			t.Errorf("failed job published %s", e.Name())
		}
	}
	partial, _ := filepath.Glob(filepath.Join(ShardDir(out, "toy"), ShardName("remittance", 1, 4)+".tmp-*"))
	final, _ := filepath.Glob(filepath.Join(ShardDir(out, "toy"), ShardName("remittance", 1, 4)))
	if len(partial) != 1 || len(final) != 0 {
		t.Errorf("after the failure: %d partial and %d final files of the failed shard, want 1 and 0", len(partial), len(final))
	}
	// The rerun (the fault is spent) overwrites the shards by name.
	if err := runToy(t, in, out, 4, fault); err != nil {
		t.Fatal(err)
	}
	if got, want := readOutputs(t, out), toyReference(in); !equalOutputs(got, want) {
		t.Error("the rerun's outputs differ from the reference")
	}
}
