package pipeline

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"claimsbatch/book"
	"claimsbatch/claim"
	"claimsbatch/engine"
	"claimsbatch/plan"
	"claimsbatch/readers"
	"claimsbatch/spill"
)

// TestMembersMemory is the small version of bench/members-rss.sh (2 M
// members under --memory-limit 256MiB, checked on the process's peak RSS):
// 200,000 members under a tenth of that budget. What the run holds for
// its members afterwards is the book and two counts a member, the figure
// is exact, about 43 bytes a member here; and the live heap grows by no
// more than that and what the spill budget allows (the spans and the
// members file's exceptions live in spill sets): no map of ids, no row
// kept.
func TestMembersMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads 200,000 members")
	}
	const members = 200_000
	dir := t.TempDir()
	path := filepath.Join(dir, "members.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("member_id,policy_id,coverage_start,coverage_end,date_of_birth,residence_country,origin_country,us_cover,plan_currency,modules,core_deductible,core_coinsurance,core_oop_max,outpatient_deductible,outpatient_coinsurance,outpatient_oop_max\n")
	spans := 0
	for i := range members {
		currency := [...]string{"EUR", "GBP", "USD"}[i%3]
		if i%4 == 0 { // a renewal: two spans
			fmt.Fprintf(w, "M%07d,POL%07d-1,2023-01-01,2023-12-31,1980-02-03,FR,GB,N,%s,core;outpatient,,,,,,\n", i, i, currency)
			spans++
		}
		fmt.Fprintf(w, "M%07d,POL%07d-2,2024-01-01,,1980-02-03,FR,GB,N,%s,core;outpatient,,20,,,,\n", i, i, currency)
		spans++
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	limit := int64(256<<20) / 10
	r := &run{cfg: Config{Members: path, MemoryLimit: limit, Workers: 2}, log: slog.New(slog.DiscardHandler), plan: plan.Default(), spillDir: dir}
	r.engine = engine.New(r.plan)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc

	budget := spill.NewBudget(limit / 4)
	m, err := r.loadMembers(budget)
	if err != nil {
		t.Fatal(err)
	}
	if r.ref, err = r.newReference(m, &loadedFX{}); err != nil {
		t.Fatal(err)
	}
	if err := r.resolveMembers(m, r.planMemberRanges(0), budget); err != nil {
		t.Fatal(err)
	}
	m.close()
	m = nil
	defer r.ref.close()

	runtime.GC()
	runtime.ReadMemStats(&ms)
	live := int64(ms.HeapAlloc) - int64(before)
	bk := r.ref.book
	if n, invalid := r.ref.book.Len(), r.ref.memberExCount; n != members || invalid != 0 {
		t.Fatalf("%d members, %d exceptions", n, invalid)
	}
	// ids of 8 bytes, their ends, a status byte, span ends; a hash index
	// of 2^19 slots; 6 bytes a span; the run's counts of lines and state
	// records per member.
	want := int64(members*(8+4+1+4)) + 4<<19 + int64(spans)*6 + members*8
	if got := r.ref.bytes(); got != want {
		t.Fatalf("the book holds %d bytes, want %d", got, want)
	}
	perMember := float64(want) / members
	t.Logf("book and counts: %.1f bytes a member; live heap grew by %.1f bytes a member", perMember, float64(live)/members)
	if perMember > 48 {
		t.Fatalf("%.1f bytes a member", perMember)
	}
	if slack := int64(limit/4) + 2<<20; live > want+slack {
		t.Fatalf("the live heap grew by %d bytes, more than the book's %d and the spill budget's %d", live, want, slack)
	}
	if id := bk.ID(members - 1); id != fmt.Sprintf("M%07d", members-1) || bk.Find(id) != members-1 {
		t.Fatalf("last member %q", id)
	}
	runtime.KeepAlive(r)
}

// TestMembersFileExceptions: a members file in no order where half the
// members have overlapping spans and some rows are bad or rejected. The
// run's members exceptions are, in row order, those book.ResolveMember
// gives member by member (overlaps with their row's text, read back), and
// the same whether everything fits in memory or every set is spilled in
// the smallest parts; a line of an invalid member carries its reason.
func TestMembersFileExceptions(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(8, 9))
	const header = "member_id,policy_id,coverage_start,coverage_end,date_of_birth,residence_country,origin_country,us_cover,plan_currency,modules,core_deductible,core_coinsurance,core_oop_max,outpatient_deductible,outpatient_coinsurance,outpatient_oop_max"
	var rows []string
	for i := range 600 {
		id := fmt.Sprintf("M%05d", i)
		rows = append(rows, fmt.Sprintf("%s,P%d-1,2023-01-01,2023-12-31,1980-01-01,FR,FR,N,EUR,core,,,,,,", id, i))
		switch i % 6 {
		case 0, 1, 2: // overlaps the first
			rows = append(rows, fmt.Sprintf("%s,P%d-2,2023-%02d-01,,1980-01-01,FR,FR,N,EUR,core,,,,,,", id, i, 1+rng.IntN(12)))
		case 3:
			rows = append(rows, fmt.Sprintf("%s,P%d-2,2024-01-01,,1980-01-01,FR,FR,N,EUR,core,123.45,,,,,", id, i))
		case 4:
			rows = append(rows, fmt.Sprintf("%s,P%d-2,2024-01-01,,1980-13-01,FR,FR,N,EUR,core,,,,,,", id, i))
		}
	}
	rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	members := filepath.Join(dir, "members.csv")
	if err := os.WriteFile(members, []byte(header+"\n"+strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	claims := filepath.Join(dir, "claims.csv")
	if err := os.WriteFile(claims, []byte("claim_id,line_no,member_id,service_date,benefit_code,country,currency,billed_amount\n"+
		"C1,1,M00000,2023-05-01,HOSPITAL_ACCOMMODATION,FR,EUR,100.00\nC2,1,M00005,2023-05-01,HOSPITAL_ACCOMMODATION,FR,EUR,100.00\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// What ResolveMember says, member by member.
	spans, rejected, _, err := readers.ReadMembers(members)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string][]claim.RawSpan{}
	for _, s := range spans {
		byID[s.MemberID] = append(byID[s.MemberID], s)
	}
	rejByID := map[string][]claim.Exception{}
	for _, x := range rejected {
		rejByID[x.MemberID] = append(rejByID[x.MemberID], x)
	}
	var want []claim.Exception
	reasons := map[string]string{}
	for i := range 600 {
		id := fmt.Sprintf("M%05d", i)
		_, why, ex := book.ResolveMember(plan.Default(), "members.csv", byID[id], rejByID[id])
		want = append(want, ex...)
		reasons[id] = why
	}
	slices.SortStableFunc(want, func(a, b claim.Exception) int { return cmp.Compare(a.Row, b.Row) })
	if len(want) != 500 { // 300 overlaps, 100 bad options, 100 rejected dates
		t.Fatalf("%d exceptions from ResolveMember", len(want))
	}

	outs := map[int64]string{}
	for _, limit := range []int64{1 << 10, 8 << 30} {
		out := filepath.Join(dir, fmt.Sprint(limit))
		if _, err := Run(context.Background(), Config{Claims: []string{claims}, Members: members, OutDir: out, MemoryLimit: limit, AsOf: testAsOf}); err != nil {
			t.Fatal(err)
		}
		outs[limit] = out
	}
	sameFiles(t, outs[1<<10], outs[8<<30])
	var got []claim.Exception
	byClaim := map[string]string{}
	for _, row := range readTable(t, filepath.Join(outs[1<<10], "exceptions.csv")) {
		if row["source"] != "members.csv" {
			byClaim[row["claim_id"]] = row["code"] + ": " + row["message"]
			continue
		}
		n, _ := strconv.ParseInt(row["row"], 10, 64)
		got = append(got, claim.Exception{Source: row["source"], Row: n, MemberID: row["member_id"], Code: claim.ExceptionCode(row["code"]),
			Field: row["field"], Message: row["message"], Raw: row["raw"]})
	}
	if len(got) != len(want) {
		t.Fatalf("%d members exceptions, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("members exception %d:\n%+v\nwant\n%+v", i, got[i], want[i])
		}
	}
	if r := reasons["M00000"]; byClaim["C1"] != "INVALID_MEMBER: the member's coverage is invalid: "+r || !strings.Contains(r, "overlaps the span") {
		t.Fatalf("C1: %q (M00000: %q)", byClaim["C1"], r)
	}
	if _, ok := byClaim["C2"]; ok || reasons["M00005"] != "" {
		t.Fatalf("C2 of a valid member: %q (%q)", byClaim["C2"], reasons["M00005"])
	}
}
