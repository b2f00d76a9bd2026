package x12

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"claimsbatch/claim"
)

// FuzzInspect: any bytes give a report, never a panic; every problem names
// the file and a segment that was read; reading twice gives the same report.
func FuzzInspect(f *testing.F) {
	f.Add([]byte(base835))
	f.Add([]byte(foreign835))
	f.Add([]byte(strings.ReplaceAll(foreign835, "\r\n", "\n")))
	f.Add([]byte(base835[:200]))
	f.Add([]byte("ISA*"))
	f.Add([]byte("ISA*00*          *00*          *ZZ*A*ZZ*B*250502*0000*^*00501*000000001*0*T*:~SE*1*1~IEA*1*x~"))
	golden, _ := filepath.Glob("testdata/golden/*/*.835")
	for _, g := range golden[:min(3, len(golden))] {
		if b, err := os.ReadFile(g); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := Inspect(bytes.NewReader(data), "fuzz.835")
		for _, p := range rep.Problems {
			if p.File != "fuzz.835" || p.Segment < 0 || p.Segment > rep.Segments || !strings.HasPrefix(p.String(), "fuzz.835: ") {
				t.Fatalf("problem %+v (of %d segments)", p, rep.Segments)
			}
			if p.Segment > 0 && p.ID == "" && p.Message == "" {
				t.Fatalf("empty problem %+v", p)
			}
		}
		if rep.Claims < 0 || rep.ServiceLines < 0 || len(rep.Sets) > rep.Transactions {
			t.Fatalf("counts %+v", rep)
		}
		again := Inspect(bytes.NewReader(data), "fuzz.835")
		if !reflect.DeepEqual(rep, again) {
			t.Fatal("two reads of the same bytes differ")
		}
	})
}

// FuzzEncode: lines built from any values either encode to a file that
// Check passes and whose totals are the lines', or fail with one of the
// package's errors; never a panic, never a file that does not balance.
func FuzzEncode(f *testing.F) {
	f.Add("C1", "M1", "HOSPITAL_ACCOMMODATION", "", int64(120000), int64(82500), "PR-1:375.00", "PAID", uint8(1), "USD")
	f.Add("C2", "M2", "OP_TELEHEALTH", "99213", int64(5191), int64(0), "OA-18:51.91", "DENIED", uint8(3), "EUR")
	f.Add("C3", "M3", "X", "D1110", int64(800), int64(100), "PR-1:1.00 PR-2:1.00 PR-6:1.00 PR-26:1.00 PR-27:1.00 PR-35:1.00 PR-119:1.00", "PARTIAL", uint8(2), "GBP")
	f.Add("C*4", "M4", "X", "", int64(1), int64(1), "", "PAID", uint8(1), "USD")
	f.Add("C5", "M5", "X", "", int64(100), int64(50), "PR-1:60.00", "PARTIAL", uint8(1), "usd")
	f.Fuzz(func(t *testing.T, claimID, member, benefit, procedure string, charge, paid int64, adjustments, status string, n uint8, currency string) {
		adj, err := ParseAdjustments(adjustments)
		if err != nil {
			return
		}
		r := &Remittance{RunID: "fuzz", Date: claim.FromCivil(2025, 5, 2), PayeeID: "PR-1", Currency: currency}
		for i := range int(n%5) + 1 {
			r.Lines = append(r.Lines, Line{ClaimID: claimID, LineNo: i + 1, MemberID: member, ServiceDate: claim.FromCivil(2024, 3, 1),
				BenefitCode: benefit, ProcedureCode: procedure, Status: status,
				Charge: claim.Money(charge % 1e12), Paid: claim.Money(paid % 1e12), Adjustments: adj})
		}
		data, st, err := Encode(nil, r)
		if err != nil {
			if !errors.Is(err, ErrData) && !errors.Is(err, ErrUnbalanced) && !errors.Is(err, ErrConfig) {
				t.Fatalf("error %v wraps none of the package's errors", err)
			}
			return
		}
		if p := Check(bytes.NewReader(data), "fuzz.835"); len(p) > 0 {
			t.Fatalf("Encode wrote a file Check rejects: %v\n%s", p, data)
		}
		var wantPaid claim.Money
		for _, l := range r.Lines {
			wantPaid += l.Paid
		}
		if st.Paid != wantPaid || st.Lines != len(r.Lines) {
			t.Fatalf("stats %+v for %d lines paying %s", st, len(r.Lines), wantPaid)
		}
	})
}
