package spill

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"claimsbatch/claim"
)

// TestSpillLineRecords: a member-partition record decodes to the same
// line, its head (with the member's number it was written with) first,
// then its tail; and again whole with Line.
func TestSpillLineRecords(t *testing.T) {
	l := claim.Line{ClaimID: "C1", LineNo: 3, MemberID: "M7", ServiceDate: 19000, ServiceEndDate: 19002, ReceivedDate: 19010,
		BenefitCode: "HOSPITAL_ACCOMMODATION", Benefit: 4, Diagnosis: "V0481", DiagnosisSystem: claim.ICD9, Condition: "ICD9:V04", ProcedureCode: "90471", ItemCode: "X", Country: "FR",
		Emergency: true, TripID: "T9", ProviderID: "P1", Payee: claim.PayeeProvider, Currency: "EUR", Billed: 123456,
		Units: 2, Charge: -99, FXRate: "1.0823", PlanCurrency: "USD", Source: 2, Row: 1 << 40}
	var part bytes.Buffer
	w := bufio.NewWriter(&part)
	for _, member := range []int32{0, 2_000_000_123} {
		if err := writeFrame(w, AppendLineFields(nil, &l, member)); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	d := NewDecoder(&part)
	for _, want := range []int32{0, 2_000_000_123} {
		if !d.Next() {
			t.Fatalf("no record: %v", d.err)
		}
		rec := d.Record()
		var got claim.Line
		member := d.LineHead(&got)
		if member != want || got.ClaimID != "C1" || got.LineNo != 3 || got.MemberID != "M7" || got.Source != 2 || got.Row != 1<<40 || d.err != nil {
			t.Fatalf("head %+v member %d (want %d), err %v", got, member, want, d.err)
		}
		d.LineTail(&got)
		if d.err != nil || got != l || len(d.Rest()) != 0 {
			t.Fatalf("decoded %+v (err %v, %d bytes left), want %+v", got, d.err, len(d.Rest()), l)
		}
		var again Decoder
		again.Load(rec)
		got = claim.Line{}
		again.Line(&got)
		if again.Err() != nil || got != l {
			t.Fatalf("decoded again %+v (err %v), want %+v", got, again.Err(), l)
		}
	}
	if d.Next() || d.err != nil {
		t.Fatalf("a third record or an error: %v", d.err)
	}
}

// TestDecoderLoad: a record kept with Record decodes again with Load, its
// strings sharing the kept bytes; a malformed one sets Err, which stays.
func TestDecoderLoad(t *testing.T) {
	l := claim.Line{ClaimID: "C1", LineNo: 2, MemberID: "M1", Source: 1, Row: 7, ServiceDate: 100, ReceivedDate: 101,
		BenefitCode: "OP_CONSULTATION", ProviderID: "P9", Currency: "EUR", Billed: 12345, Units: 1, FXRate: "1", PlanCurrency: "EUR"}
	rec := AppendLineFields(nil, &l, 7)
	var d Decoder
	var got claim.Line
	d.Load(rec)
	d.Line(&got)
	if d.Err() != nil || got != l {
		t.Fatalf("decoded %+v, %v; want %+v", got, d.Err(), l)
	}
	d.Load(rec[:5])
	d.Line(&got)
	if d.Err() == nil {
		t.Fatal("a cut record decoded without an error")
	}
	d.Load(rec)
	d.Line(&got)
	if d.Err() == nil {
		t.Fatal("Err was cleared by the next record")
	}
}

// TestLineTailLayouts: a line whose text fields all fit a byte's count has
// the fixed tail, one with a longer text the tail of varints; both decode
// to the line, and a record cut or with an unknown layout sets Err.
func TestLineTailLayouts(t *testing.T) {
	short := benchLine
	long := benchLine
	long.ItemCode = strings.Repeat("x", 256)
	long.Billed, long.Charge, long.Units, long.ServiceDate = -1<<40, 1<<50, -3, -5
	for _, tc := range []struct {
		name   string
		l      claim.Line
		layout byte
	}{{"fixed", short, tailFixed}, {"varint", long, tailVarint}} {
		rec := AppendLineFields(nil, &tc.l, 7)
		var d Decoder
		var got claim.Line
		d.Load(rec)
		d.LineHead(&got)
		if d.Rest()[0] != tc.layout {
			t.Fatalf("%s: layout %d, want %d", tc.name, d.Rest()[0], tc.layout)
		}
		d.LineTail(&got)
		if d.Err() != nil || got != tc.l {
			t.Fatalf("%s: decoded %+v, %v; want %+v", tc.name, got, d.Err(), tc.l)
		}
		for cut := len(rec) - 1; cut > len(rec)-40; cut-- {
			var d Decoder
			d.Load(rec[:cut])
			d.Line(&got)
			if d.Err() == nil {
				t.Fatalf("%s: a record cut to %d of %d bytes decoded without an error", tc.name, cut, len(rec))
			}
		}
	}
	rec := AppendLineFields(nil, &short, 7)
	var d Decoder
	var got claim.Line
	d.Load(rec)
	d.LineHead(&got)
	rec[len(rec)-len(d.Rest())] = 9
	d.LineTail(&got)
	if d.Err() == nil {
		t.Fatal("an unknown tail layout decoded without an error")
	}
}

// TestKeyRecords: a key record keeps the member (and the raw text) only
// when it has raw text: only such a line can be a duplicate.
func TestKeyRecords(t *testing.T) {
	keys := []Key{
		{ClaimID: "C9", LineNo: 2, Source: 1, Row: 1 << 33, Member: 400_000, Raw: "C9,2,M1,…", HasRaw: true},
		{ClaimID: "C10", LineNo: 1, Source: 0, Row: 7, Member: 12},
		{ClaimID: "S1", LineNo: 3, Source: -1, Member: -1},
		{ClaimID: "", LineNo: 0, Source: 0, Row: 2, Member: 0, Raw: "", HasRaw: true},
	}
	var part bytes.Buffer
	w := bufio.NewWriter(&part)
	var e encoder
	for i := range keys {
		e.key(&keys[i])
		if err := e.frame(w); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	d := NewDecoder(&part)
	for i, want := range keys {
		if !want.HasRaw {
			want.Member = -1
		}
		var got Key
		if !d.Next() {
			t.Fatalf("key %d: no record (%v)", i, d.Err())
		}
		d.Key(&got)
		if d.Err() != nil || got != want || len(d.Rest()) != 0 {
			t.Fatalf("key %d: %+v (err %v, %d bytes left), want %+v", i, got, d.Err(), len(d.Rest()), want)
		}
	}
}
