package x12

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// base835 is a well-formed, balanced 835 (the interchange of TestEncodeExact).
// Segment positions: ISA 1, GS 2, ST 3, BPR 4, ..., CLP C1 16, SVC 18, 21,
// 24, CLP C2 28, SVC 30, SE 33, GE 34, IEA 35.
const base835 = `ISA*00*          *00*          *ZZ*CLOSECARE      *ZZ*PR-GP22        *250502*0000*^*00501*447173349*0*T*:~
GS*HP*CLOSECARE*PR-GP22*20250502*0000*447173349*X*005010X221A1~
ST*835*0001*005010X221A1~
BPR*I*501*C*CHK************20250502~
TRN*1*247590162484561*1999999999~
CUR*PR*EUR~
DTM*405*20250502~
N1*PR*CLOSE CARE~
N3*ADDRESS NOT CONFIGURED~
N4*NOT CONFIGURED***GB~
REF*2U*CLOSECARE~
PER*BL*EDI SUPPORT*EM*edi@example.com~
N1*PE*PR-GP22*FI*PR-GP22~
REF*PQ*PR-GP22~
LX*1~
CLP*C1*1*818.46*501*317.46*15*C1~
NM1*QC*1******MI*M1~
SVC*HC:99213*210.46*80.37~
DTM*472*20240301~
CAS*PR*1*110**2*20.09~
SVC*ER:OP_TELEHEALTH*600*419.63~
DTM*472*20240301~
CAS*PR*2*120**119*60.37~
SVC*ER:OP_TELEHEALTH*8*1~
DTM*472*20240301~
CAS*PR*1*1**2*1**6*1**26*1**27*1**35*1~
CAS*PR*119*1~
CLP*C2*4*51.91*0**15*C2~
NM1*QC*1******MI*M2~
SVC*ER:OP_TELEHEALTH*51.91*0~
DTM*472*20240301~
CAS*OA*18*51.91~
SE*31*0001~
GE*1*447173349~
IEA*1*447173349~
`

func TestCheckBaseIsClean(t *testing.T) {
	rep := Inspect(strings.NewReader(base835), "base.835")
	if len(rep.Problems) > 0 {
		t.Fatal(rep.Problems)
	}
	want := Report{File: "base.835", Segments: 35, Interchanges: 1, Groups: 1, Transactions: 1, Claims: 2, ServiceLines: 4,
		Sets: []TransactionSet{{Segment: 3, Payee: "PR-GP22", PayeeRef: "PR-GP22", Currency: "EUR", Amount: 50100, Claims: 2, Lines: 4}}}
	if rep.Segments != want.Segments || rep.Interchanges != 1 || rep.Groups != 1 || rep.Transactions != 1 ||
		rep.Claims != 2 || rep.ServiceLines != 4 || len(rep.Sets) != 1 || rep.Sets[0] != want.Sets[0] {
		t.Errorf("report %+v\nwant   %+v", rep, want)
	}
}

// TestCheckFinds: each broken file gives exactly these problems.
func TestCheckFinds(t *testing.T) {
	edit := func(old, new string) string {
		if !strings.Contains(base835, old) {
			t.Fatalf("base835 has no %q", old)
		}
		return strings.Replace(base835, old, new, 1)
	}
	cut := func(at string) string {
		i := strings.Index(base835, at)
		if i < 0 {
			t.Fatalf("base835 has no %q", at)
		}
		return base835[:i+len(at)]
	}
	tests := []struct {
		name string
		file string
		want []string
	}{
		{"wrong SE count", edit("SE*31*0001~", "SE*30*0001~"), []string{
			"f.835: segment 33 SE: SE01 says 30 segments, but the transaction set (ST to SE) has 31",
		}},
		{"unbalanced SVC", edit("SVC*HC:99213*210.46*80.37~", "SVC*HC:99213*210.46*80.30~"), []string{
			"f.835: segment 18 SVC (claim C1): SVC charge 210.46 - paid 80.30 = 130.16, but its CAS amounts add up to 130.09",
		}},
		{"BPR does not match the CLPs", edit("BPR*I*501*", "BPR*I*500*"), []string{
			"f.835: segment 4 BPR: BPR02 is 500.00, but the CLP04 payments add up to 501.00 less 0.00 of PLB adjustments = 501.00",
		}},
		{"truncated in a segment", cut("CLP*C2*4*51"), []string{
			"f.835: segment 28 CLP: the file ends in the middle of segment 28 (no segment terminator): truncated",
			"f.835: the file ends inside the transaction set opened at segment 3: no SE",
			"f.835: the file ends inside the functional group opened at segment 2: no GE",
			"f.835: the file ends inside the interchange opened at segment 1: no IEA",
		}},
		{"truncated between segments", cut("CAS*PR*119*1~\n"), []string{
			"f.835: the file ends inside the transaction set opened at segment 3: no SE",
			"f.835: the file ends inside the functional group opened at segment 2: no GE",
			"f.835: the file ends inside the interchange opened at segment 1: no IEA",
		}},
		{"truncated ISA", base835[:90], []string{
			"f.835: the file ends before the ISA segment's 16 elements and its segment terminator: truncated",
		}},
		{"unbalanced claim", edit("CLP*C1*1*818.46*501*317.46", "CLP*C1*1*818.46*502*317.46"), []string{
			"f.835: segment 16 CLP (claim C1): CLP charge 818.46 - paid 502.00 = 316.46, but the claim's CAS amounts (claim and service level) add up to 317.46",
			"f.835: segment 4 BPR: BPR02 is 501.00, but the CLP04 payments add up to 502.00 less 0.00 of PLB adjustments = 502.00",
		}},
		{"patient responsibility", edit("*317.46*15*C1~", "*300*15*C1~"), []string{
			"f.835: segment 16 CLP (claim C1): CLP05 patient responsibility is 300.00, but the claim's PR adjustments add up to 317.46",
		}},
		{"control numbers", edit("GE*1*447173349~\nIEA*1*447173349~", "GE*2*447173348~\nIEA*1*000000001~"), []string{
			"f.835: segment 34 GE: GE01 says 2 transaction sets, but the functional group has 1",
			`f.835: segment 34 GE: GE02 "447173348" differs from GS06 "447173349" (segment 2)`,
			`f.835: segment 35 IEA: IEA02 "000000001" differs from ISA13 "447173349" (segment 1)`,
		}},
		{"SE control number", edit("SE*31*0001~", "SE*31*0002~"), []string{
			`f.835: segment 33 SE: SE02 "0002" differs from ST02 "0001" (segment 3)`,
		}},
		{"missing BPR and payee", strings.Replace(edit("BPR*I*501*C*CHK************20250502~\n", ""), "N1*PE*PR-GP22*FI*PR-GP22~\n", "", 1), []string{
			"f.835: segment 4 TRN: BPR is missing: an 835 starts with BPR right after ST, found TRN",
			"f.835: segment 3 ST: the transaction set has no BPR",
			"f.835: segment 3 ST: the transaction set has no N1*PE (payee loop)",
			"f.835: segment 31 SE: SE01 says 31 segments, but the transaction set (ST to SE) has 29",
		}},
		{"no patient, bad amount", edit("NM1*QC*1******MI*M2~\nSVC*ER:OP_TELEHEALTH*51.91*0~", "DTM*050*20240301~\nSVC*ER:OP_TELEHEALTH*51.9.1*0~"), []string{
			`f.835: segment 30 SVC (claim C2): SVC02 "51.9.1" is not a decimal amount with at most 2 places`,
			"f.835: segment 28 CLP (claim C2): the claim has no NM1*QC patient segment",
		}},
		{"envelope out of order", edit("ST*835*0001*005010X221A1~", "GS*HP*A*B*20250502*0000*9*X*005010X221A1~\nST*835*0001*005010X221A1~"), []string{
			"f.835: segment 3 GS: GS while the functional group opened at segment 2 is still open (no GE)",
			`f.835: segment 35 GE: GE02 "447173349" differs from GS06 "9" (segment 3)`,
			"f.835: segment 36 IEA: IEA01 says 1 functional groups, but the interchange has 2",
		}},
		{"not an 835", edit("ST*835*0001", "ST*837*0001"), []string{
			`f.835: segment 3 ST: ST01 is "837", want 835: only 835 transaction sets are checked`,
		}},
		{"not X12", "hello, world\n", []string{
			"f.835: the file does not start with an ISA segment: not an X12 interchange",
		}},
		{"empty", "", []string{"f.835: the file is empty"}},
		{"segment outside", base835 + "LX*2~\n", []string{
			"f.835: segment 36 LX: LX outside a transaction set (no open ST)",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range Check(strings.NewReader(tc.file), "f.835") {
				got = append(got, p.String())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// foreign835 is an 835 as another payer might write it: other delimiters
// (| elements, > components, ! repetitions), CRLF after each segment, a
// claim adjusted at claim level only (no service lines), a claim with a
// claim-level and a line-level CAS, segments we do not write (TS3, MIA,
// DTM*232/233, AMT, LQ, REF*6R) and a PLB that withholds interest and
// recovers an overpayment.
const foreign835 = "ISA|00|          |00|          |ZZ|PAYERID        |ZZ|PROVIDERID     |250502|1230|!|00501|000000042|1|P|>\r\n" +
	"GS|HP|PAYERID|PROVIDERID|20250502|1230|42|X|005010X221A1\r\n" +
	"ST|835|1234|005010X221A1\r\n" +
	"BPR|I|1195.13|C|ACH|CCP|01|999999992|DA|123456|1512345678||01|999988880|DA|98765|20250505\r\n" +
	"TRN|1|12345|1512345678\r\n" +
	"DTM|405|20250502\r\n" +
	"N1|PR|INSURANCE COMPANY OF TIMBUCKTU\r\n" +
	"N3|1 MAIN STREET\r\n" +
	"N4|TIMBUCKTU|AK|89111\r\n" +
	"PER|BL|EDI|TE|8005550100\r\n" +
	"N1|PE|REGIONAL HOPE HOSPITAL|XX|1234567893\r\n" +
	"LX|110212\r\n" +
	"TS3|1234567893|11|20251231|2|2211.11\r\n" +
	"CLP|666123|1|1000|700|100|MA|1999999444444|11|1\r\n" +
	"CAS|CO|45|200\r\n" +
	"CAS|PR|1|100\r\n" +
	"NM1|QC|1|JONES|SAM|O|||HN|666666666A\r\n" +
	"MIA|0|||700\r\n" +
	"DTM|232|20250416\r\n" +
	"DTM|233|20250424\r\n" +
	"CLP|666124|2|1211.11|500.13|11|12|1999999444445\r\n" +
	"CAS|OA|23|50\r\n" +
	"NM1|QC|1|DOE|JANE\r\n" +
	"SVC|HC>99213>25|1000|550.13||1\r\n" +
	"DTM|472|20250420\r\n" +
	"CAS|CO|45|437.87||253|1\r\n" +
	"CAS|PR|3|11\r\n" +
	"REF|6R|LINE-1\r\n" +
	"AMT|B6|561.13\r\n" +
	"LQ|HE|M15\r\n" +
	"SVC|HC>A0425|211.11|0\r\n" +
	"DTM|472|20250420\r\n" +
	"CAS|OA|23|211.11\r\n" +
	"PLB|1234567893|20251231|L6>CLAIM666124|-5|WO>RECOUP1|10\r\n" +
	"SE|33|1234\r\n" +
	"GE|1|42\r\n" +
	"IEA|1|000000042\r\n"

func TestCheckForeignFile(t *testing.T) {
	rep := Inspect(strings.NewReader(foreign835), "foreign.835")
	if len(rep.Problems) > 0 {
		t.Fatal(rep.Problems)
	}
	got := rep.Sets[0]
	want := TransactionSet{Segment: 3, Payee: "1234567893", Currency: "USD", Amount: 119513, Claims: 2, Lines: 2}
	if got != want || rep.Segments != 37 {
		t.Errorf("set %+v (%d segments), want %+v", got, rep.Segments, want)
	}
	// The same file with "~" terminators and no line breaks at all, and with
	// a newline as the terminator.
	for name, f := range map[string]string{
		"tilde":   strings.ReplaceAll(foreign835, "\r\n", "~"),
		"newline": strings.ReplaceAll(foreign835, "\r\n", "\n"),
	} {
		if p := Check(strings.NewReader(f), name); len(p) > 0 {
			t.Errorf("%s: %v", name, p)
		}
	}
}

func TestCheckFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.835")
	if err := os.WriteFile(path, []byte(base835), 0o600); err != nil {
		t.Fatal(err)
	}
	if p, err := CheckFile(path); err != nil || p != nil {
		t.Errorf("CheckFile = %v, %v", p, err)
	}
	if _, err := CheckFile(filepath.Join(dir, "missing.835")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
}
