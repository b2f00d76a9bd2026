package pipeline

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"claimsbatch/engine"
	"claimsbatch/plan"
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
