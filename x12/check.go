package x12

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"claimsbatch/claim"
)

// Problem is one thing Check found wrong in an 835 file.
type Problem struct {
	File string
	// Segment is the position of the segment in the file, counting the
	// first ISA as 1; 0 means the file as a whole.
	Segment int
	ID      string // the segment's id ("SE"); "" when Segment is 0
	Claim   string // CLP01 of the claim the segment belongs to; "" outside a claim
	Message string
}

// String is "FILE: segment N ID (claim C): message".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	b.WriteString(": ")
	if p.Segment > 0 {
		fmt.Fprintf(&b, "segment %d %s", p.Segment, p.ID)
		if p.Claim != "" {
			fmt.Fprintf(&b, " (claim %s)", p.Claim)
		}
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Report is what Inspect read from an 835 file.
type Report struct {
	File         string
	Problems     []Problem
	Segments     int              // segments read, the last (truncated) one included
	Interchanges int              // ISA segments
	Groups       int              // GS segments
	Transactions int              // ST segments
	Claims       int              // CLP segments
	ServiceLines int              // SVC segments
	Sets         []TransactionSet // one per 835 transaction set, in file order
}

// TransactionSet is one 835 transaction set's payment, as its BPR and payee
// loop say.
type TransactionSet struct {
	Segment  int         // of the ST
	Payee    string      // N104 of the payee (N1*PE)
	PayeeRef string      // REF*PQ of the payee loop, the payer's own id for it
	Currency string      // CUR02, USD when there is no CUR
	Amount   claim.Money // BPR02
	Claims   int
	Lines    int
}

// maxSegmentBytes bounds one segment: a longer one means the file's segment
// terminator is not what its ISA says, and reading stops.
const maxSegmentBytes = 1 << 20

// Check reads an 835 file and returns its problems; nil means it is well
// formed and balanced. name is used in the problems. It reads any 835, not
// only ours: the delimiters come from the ISA segment and line breaks after
// segment terminators are skipped. It reads as it goes, keeping one claim
// at a time.
func Check(r io.Reader, name string) []Problem {
	return Inspect(r, name).Problems
}

// CheckFile is Check on the file at path; the error is for a file that
// cannot be opened (a read error later is a problem of the file).
func CheckFile(path string) ([]Problem, error) {
	rep, err := InspectFile(path)
	if err != nil {
		return nil, err
	}
	return rep.Problems, nil
}

// InspectFile is Inspect on the file at path, named by its path.
func InspectFile(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Inspect(f, path), nil
}

// Inspect is Check with the counts and payments it read. It checks:
//
//   - structure: the file starts with a complete ISA; envelopes pair up
//     (ISA/IEA, GS/GE, ST/SE, none outside its parent, none left open at the
//     end); IEA01 counts the groups, GE01 the transaction sets, SE01 the
//     segments from ST to SE; IEA02, GE02 and SE02 repeat ISA13, GS06 and
//     ST02; GS01 is HP and ST01 835; the file does not end in the middle of
//     a segment (truncated);
//   - required segments of the 835: BPR right after ST, TRN, the payer
//     (N1*PR) and payee (N1*PE) loops, LX before the first CLP, an NM1*QC
//     patient in every claim;
//   - balancing: per SVC, charge - paid = its CAS amounts; per CLP, charge -
//     paid = the CAS amounts of the claim and of its service lines, and the
//     patient responsibility (CLP05) = the PR adjustments; per transaction
//     set, BPR02 = the CLP04 payments less the PLB adjustments;
//   - every amount it uses is a decimal with at most 2 places.
func Inspect(r io.Reader, name string) *Report {
	c := &checker{rep: &Report{File: name}}
	c.run(bufio.NewReaderSize(r, 64<<10))
	return c.rep
}

type checker struct {
	rep *Report

	elem, comp, term byte

	seg   int      // position of the current segment
	id    string   // its id
	els   []string // its elements, els[0] the id
	claim string   // CLP01 of the open claim, for problems

	isa *envelope // open interchange
	gs  *envelope // open functional group
	st  *transaction
}

type envelope struct {
	seg      int
	control  string
	children int
}

type transaction struct {
	envelope
	segments int // ST to the current segment
	not835   bool

	bprSeg                     int
	bpr                        claim.Money
	bprOK                      bool // BPR02 read
	hasTRN, hasPayer, hasPayee bool
	hasLX                      bool
	currency, payee, payeeRef  string
	lastN1                     string
	clpSum, plbSum             claim.Money
	amountsOK                  bool // every CLP04 and PLB amount read
	claims, lines              int
	clp                        *claimState
	svc                        *serviceState
}

type claimState struct {
	seg                       int
	id                        string
	charge, paid, patientResp claim.Money
	cas, pr                   claim.Money
	ok                        bool // its amounts and all its CAS read
	hasPatient                bool
}

type serviceState struct {
	seg          int
	charge, paid claim.Money
	cas          claim.Money
	ok           bool
}

func (c *checker) problem(format string, args ...any) {
	c.rep.Problems = append(c.rep.Problems, Problem{
		File: c.rep.File, Segment: c.seg, ID: c.id, Claim: c.claim, Message: fmt.Sprintf(format, args...),
	})
}

// problemAt reports a problem of an earlier segment (a loop checked when it
// closes is reported at its first segment).
func (c *checker) problemAt(seg int, id, claimID, format string, args ...any) {
	c.rep.Problems = append(c.rep.Problems, Problem{
		File: c.rep.File, Segment: seg, ID: id, Claim: claimID, Message: fmt.Sprintf(format, args...),
	})
}

func (c *checker) fileProblem(format string, args ...any) {
	c.rep.Problems = append(c.rep.Problems, Problem{File: c.rep.File, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) run(r *bufio.Reader) {
	if !c.delimiters(r) {
		return
	}
	var partial []byte
	for {
		b, err := r.ReadSlice(c.term)
		if errors.Is(err, bufio.ErrBufferFull) {
			partial = append(partial, b...)
			if len(partial) > maxSegmentBytes {
				c.seg = c.rep.Segments + 1
				c.id = ""
				c.problem("segment is longer than %d bytes: the segment terminator %q the ISA declares is not used?", maxSegmentBytes, c.term)
				return
			}
			continue
		}
		if partial != nil {
			b = append(partial, b...)
			partial = nil
		}
		complete := err == nil
		if complete {
			b = b[:len(b)-1]
		}
		b = bytes.Trim(b, "\r\n")
		if !complete {
			if err != io.EOF {
				c.fileProblem("read error after segment %d: %v", c.rep.Segments, err)
				c.finish()
				return
			}
			if len(bytes.TrimSpace(b)) > 0 {
				c.rep.Segments++
				c.seg = c.rep.Segments
				c.split(b)
				c.claim = ""
				c.problem("the file ends in the middle of segment %d (no segment terminator): truncated", c.seg)
			}
			c.finish()
			return
		}
		if len(b) == 0 {
			continue // a blank line between segments
		}
		c.rep.Segments++
		c.seg = c.rep.Segments
		c.split(b)
		c.segment()
	}
}

// split makes b the current segment: its elements in c.els (reused) and
// its id in c.id.
func (c *checker) split(b []byte) {
	s := string(b)
	c.els = c.els[:0]
	for {
		i := strings.IndexByte(s, c.elem)
		if i < 0 {
			c.els = append(c.els, s)
			break
		}
		c.els = append(c.els, s[:i])
		s = s[i+1:]
	}
	c.id = c.els[0]
}

// delimiters reads them from the ISA segment without consuming it: the
// element separator is the byte after "ISA", the component separator the
// byte after the 16th element separator, the segment terminator the byte
// after that.
func (c *checker) delimiters(r *bufio.Reader) bool {
	// Skip a UTF-8 byte order mark and white space before the ISA.
	for {
		b, err := r.Peek(1)
		if err != nil {
			break
		}
		if b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n' {
			r.Discard(1)
			continue
		}
		if bom, _ := r.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
			r.Discard(3)
			continue
		}
		break
	}
	head, err := r.Peek(512)
	if len(head) == 0 {
		if err != nil && err != io.EOF {
			c.fileProblem("read error: %v", err)
		} else {
			c.fileProblem("the file is empty")
		}
		return false
	}
	if len(head) < 4 || string(head[:3]) != "ISA" {
		c.fileProblem("the file does not start with an ISA segment: not an X12 interchange")
		return false
	}
	c.elem = head[3]
	seps := 0
	for i := 3; i < len(head); i++ {
		if head[i] != c.elem {
			continue
		}
		seps++
		if seps == 16 {
			if i+2 >= len(head) {
				break
			}
			c.comp, c.term = head[i+1], head[i+2]
			if c.term == c.elem || c.term == c.comp || isAlnum(c.term) {
				c.fileProblem("the ISA segment declares segment terminator %q, which cannot be one", c.term)
				return false
			}
			return true
		}
	}
	c.fileProblem("the file ends before the ISA segment's 16 elements and its segment terminator: truncated")
	return false
}

func isAlnum(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z'
}

// el returns element i of the current segment, "" when absent.
func (c *checker) el(i int) string {
	if i < len(c.els) {
		return c.els[i]
	}
	return ""
}

// amount reads element i as an amount; a bad one is reported.
func (c *checker) amount(i int, optional bool) (claim.Money, bool) {
	s := c.el(i)
	if s == "" {
		if optional {
			return 0, true
		}
		c.problem("%s%02d is missing", c.id, i)
		return 0, false
	}
	m, err := claim.ParseMoney(s)
	if err != nil {
		c.problem("%s%02d %q is not a decimal amount with at most 2 places", c.id, i, s)
		return 0, false
	}
	return m, true
}

func (c *checker) segment() {
	id := c.id
	if len(id) < 2 || len(id) > 3 || strings.ToUpper(id) != id || !isAlnum(id[0]) {
		c.problem("%q is not a segment id", id)
		return
	}
	if c.st != nil {
		c.st.segments++
	}
	switch id {
	case "ISA":
		c.openInterchange()
	case "IEA":
		c.closeInterchange()
	case "GS":
		c.openGroup()
	case "GE":
		c.closeGroup()
	case "ST":
		c.openTransaction()
	case "SE":
		c.closeTransaction()
	default:
		if c.st == nil {
			c.problem("%s outside a transaction set (no open ST)", id)
			return
		}
		if !c.st.not835 {
			c.content()
		}
	}
}

func (c *checker) openInterchange() {
	c.rep.Interchanges++
	if c.isa != nil {
		c.problem("ISA while the interchange opened at segment %d is still open (no IEA)", c.isa.seg)
		c.closeGroupAtEnd("ISA")
	}
	if len(c.els) != 17 {
		c.problem("ISA has %d elements, want 16", len(c.els)-1)
	}
	if n := len(c.els); n >= 17 && c.seg > 1 {
		if s := c.el(16); len(s) != 1 || s[0] != c.comp {
			c.problem("ISA16 %q differs from the first interchange's component separator %q", s, c.comp)
		}
	}
	control := c.el(13)
	if len(control) != 9 || strings.Trim(control, "0123456789") != "" {
		c.problem("ISA13 %q is not a 9-digit interchange control number", control)
	}
	c.isa = &envelope{seg: c.seg, control: control}
}

func (c *checker) closeInterchange() {
	if c.isa == nil {
		c.problem("IEA without an open interchange (no ISA)")
		return
	}
	c.closeGroupAtEnd("IEA")
	c.count(1, c.isa.children, "functional groups", "the interchange")
	if c.el(2) != c.isa.control {
		c.problem("IEA02 %q differs from ISA13 %q (segment %d)", c.el(2), c.isa.control, c.isa.seg)
	}
	c.isa = nil
}

// closeGroupAtEnd closes a group (and transaction set) left open when its
// parent's trailer or a new ISA comes.
func (c *checker) closeGroupAtEnd(by string) {
	if c.gs == nil {
		return
	}
	c.problem("%s while the functional group opened at segment %d is still open (no GE)", by, c.gs.seg)
	c.closeTransactionAtEnd(by)
	c.gs = nil
}

func (c *checker) closeTransactionAtEnd(by string) {
	if c.st == nil {
		return
	}
	c.problem("%s while the transaction set opened at segment %d is still open (no SE)", by, c.st.seg)
	c.finishTransaction()
	c.st = nil
}

func (c *checker) openGroup() {
	c.rep.Groups++
	if c.isa == nil {
		c.problem("GS outside an interchange (no open ISA)")
	} else {
		c.isa.children++
	}
	if c.gs != nil {
		c.problem("GS while the functional group opened at segment %d is still open (no GE)", c.gs.seg)
		c.closeTransactionAtEnd("GS")
	}
	if c.el(1) != "HP" {
		c.problem("GS01 is %q, want HP (health care claim payment/advice)", c.el(1))
	}
	if c.el(6) == "" {
		c.problem("GS06 (group control number) is missing")
	}
	c.gs = &envelope{seg: c.seg, control: c.el(6)}
}

func (c *checker) closeGroup() {
	if c.gs == nil {
		c.problem("GE without an open functional group (no GS)")
		return
	}
	c.closeTransactionAtEnd("GE")
	c.count(1, c.gs.children, "transaction sets", "the functional group")
	if c.el(2) != c.gs.control {
		c.problem("GE02 %q differs from GS06 %q (segment %d)", c.el(2), c.gs.control, c.gs.seg)
	}
	c.gs = nil
}

func (c *checker) openTransaction() {
	c.rep.Transactions++
	if c.gs == nil {
		c.problem("ST outside a functional group (no open GS)")
	} else {
		c.gs.children++
	}
	if c.st != nil {
		c.problem("ST while the transaction set opened at segment %d is still open (no SE)", c.st.seg)
		c.finishTransaction()
	}
	t := &transaction{envelope: envelope{seg: c.seg, control: c.el(2)}, segments: 1, currency: "USD", amountsOK: true}
	if c.el(1) != "835" {
		c.problem("ST01 is %q, want 835: only 835 transaction sets are checked", c.el(1))
		t.not835 = true
	}
	if c.el(2) == "" {
		c.problem("ST02 (transaction set control number) is missing")
	}
	c.st = t
}

func (c *checker) closeTransaction() {
	t := c.st
	if t == nil {
		c.problem("SE without an open transaction set (no ST)")
		return
	}
	c.finishTransaction()
	c.claim = ""
	c.count(1, t.segments, "segments", "the transaction set (ST to SE)")
	if c.el(2) != t.control {
		c.problem("SE02 %q differs from ST02 %q (segment %d)", c.el(2), t.control, t.seg)
	}
	c.st = nil
}

// count checks a trailer's count element against what it closes.
func (c *checker) count(i, have int, what, of string) {
	n, err := strconv.Atoi(c.el(i))
	switch {
	case err != nil || n < 0:
		c.problem("%s%02d %q is not a count of %s", c.id, i, c.el(i), what)
	case n != have:
		c.problem("%s%02d says %d %s, but %s has %d", c.id, i, n, what, of, have)
	}
}

// content checks one segment inside an 835 transaction set.
func (c *checker) content() {
	t := c.st
	if t.segments == 2 && c.id != "BPR" {
		c.problem("BPR is missing: an 835 starts with BPR right after ST, found %s", c.id)
	}
	switch c.id {
	case "BPR":
		t.bprSeg = c.seg
		t.bpr, t.bprOK = c.amount(2, false)
	case "TRN":
		t.hasTRN = true
	case "CUR":
		if c.el(1) == "PR" && c.el(2) != "" {
			t.currency = c.el(2)
		}
	case "N1":
		t.lastN1 = c.el(1)
		switch c.el(1) {
		case "PR":
			t.hasPayer = true
		case "PE":
			t.hasPayee = true
			t.payee = c.el(4)
		}
	case "REF":
		if c.el(1) == "PQ" && t.lastN1 == "PE" && t.clp == nil && !t.hasLX {
			t.payeeRef = c.el(2)
		}
	case "LX":
		c.closeClaim()
		t.hasLX = true
		t.lastN1 = ""
	case "CLP":
		c.closeClaim()
		c.openClaim()
	case "NM1":
		if t.clp != nil && c.el(1) == "QC" {
			t.clp.hasPatient = true
		}
	case "SVC":
		if t.clp == nil {
			c.problem("SVC outside a claim (no CLP before it)")
			return
		}
		c.closeService()
		t.lines++
		c.rep.ServiceLines++
		s := &serviceState{seg: c.seg}
		var ok1, ok2 bool
		s.charge, ok1 = c.amount(2, false)
		s.paid, ok2 = c.amount(3, false)
		s.ok = ok1 && ok2
		t.svc = s
	case "CAS":
		c.cas()
	case "PLB":
		c.closeClaim()
		for i := 4; i <= 14; i += 2 {
			if c.el(i) == "" && i > 4 {
				continue
			}
			m, ok := c.amount(i, false)
			if !ok {
				t.amountsOK = false
			}
			t.plbSum += m
		}
	}
}

func (c *checker) openClaim() {
	t := c.st
	c.rep.Claims++
	t.claims++
	c.claim = c.el(1)
	if !t.hasLX {
		c.problem("CLP before any LX (the claim loops sit in a header number loop)")
	}
	if c.el(1) == "" {
		c.problem("CLP01 (patient control number) is missing")
	}
	cl := &claimState{seg: c.seg, id: c.el(1)}
	var ok1, ok2, ok3 bool
	cl.charge, ok1 = c.amount(3, false)
	cl.paid, ok2 = c.amount(4, false)
	cl.patientResp, ok3 = c.amount(5, true)
	cl.ok = ok1 && ok2 && ok3
	if !ok2 {
		t.amountsOK = false
	}
	t.clp = cl
}

// cas adds a CAS segment's amounts to its service line (and claim), or to
// its claim when it comes before the claim's first SVC.
func (c *checker) cas() {
	t := c.st
	if t.clp == nil {
		c.problem("CAS outside a claim (no CLP before it)")
		return
	}
	group := c.el(1)
	var sum claim.Money
	ok := true
	for i := 3; i <= 18; i += 3 {
		if i > 3 && c.el(i-1) == "" && c.el(i) == "" {
			continue
		}
		m, good := c.amount(i, false)
		ok = ok && good
		sum += m
	}
	t.clp.cas += sum
	t.clp.ok = t.clp.ok && ok
	if group == "PR" {
		t.clp.pr += sum
	}
	if t.svc != nil {
		t.svc.cas += sum
		t.svc.ok = t.svc.ok && ok
	}
}

func (c *checker) closeService() {
	t := c.st
	s := t.svc
	if s == nil {
		return
	}
	t.svc = nil
	if s.ok && s.charge-s.paid != s.cas {
		c.problemAt(s.seg, "SVC", t.clp.id, "SVC charge %s - paid %s = %s, but its CAS amounts add up to %s",
			s.charge, s.paid, s.charge-s.paid, s.cas)
	}
}

func (c *checker) closeClaim() {
	t := c.st
	c.closeService()
	cl := t.clp
	if cl == nil {
		return
	}
	t.clp = nil
	t.clpSum += cl.paid
	if !cl.hasPatient {
		c.problemAt(cl.seg, "CLP", cl.id, "the claim has no NM1*QC patient segment")
	}
	if cl.ok {
		if cl.charge-cl.paid != cl.cas {
			c.problemAt(cl.seg, "CLP", cl.id, "CLP charge %s - paid %s = %s, but the claim's CAS amounts (claim and service level) add up to %s",
				cl.charge, cl.paid, cl.charge-cl.paid, cl.cas)
		}
		if cl.patientResp != cl.pr {
			c.problemAt(cl.seg, "CLP", cl.id, "CLP05 patient responsibility is %s, but the claim's PR adjustments add up to %s",
				cl.patientResp, cl.pr)
		}
	}
	c.claim = ""
}

// finishTransaction closes the open loops of the transaction set and checks
// what the whole set must have.
func (c *checker) finishTransaction() {
	t := c.st
	if t.not835 {
		return
	}
	c.closeClaim()
	if t.bprSeg == 0 {
		c.problemAt(t.seg, "ST", "", "the transaction set has no BPR")
	} else if t.bprOK && t.amountsOK && t.bpr != t.clpSum-t.plbSum {
		c.problemAt(t.bprSeg, "BPR", "", "BPR02 is %s, but the CLP04 payments add up to %s less %s of PLB adjustments = %s",
			t.bpr, t.clpSum, t.plbSum, t.clpSum-t.plbSum)
	}
	for _, req := range []struct {
		has  bool
		name string
	}{{t.hasTRN, "TRN (reassociation trace number)"}, {t.hasPayer, "N1*PR (payer loop)"}, {t.hasPayee, "N1*PE (payee loop)"}} {
		if !req.has {
			c.problemAt(t.seg, "ST", "", "the transaction set has no %s", req.name)
		}
	}
	c.rep.Sets = append(c.rep.Sets, TransactionSet{
		Segment: t.seg, Payee: t.payee, PayeeRef: t.payeeRef, Currency: t.currency, Amount: t.bpr,
		Claims: t.claims, Lines: t.lines,
	})
}

// finish reports what the end of the file leaves open.
func (c *checker) finish() {
	c.claim = ""
	if c.st != nil {
		c.fileProblem("the file ends inside the transaction set opened at segment %d: no SE", c.st.seg)
		c.finishTransaction()
		c.st = nil
	}
	if c.gs != nil {
		c.fileProblem("the file ends inside the functional group opened at segment %d: no GE", c.gs.seg)
	}
	if c.isa != nil {
		c.fileProblem("the file ends inside the interchange opened at segment %d: no IEA", c.isa.seg)
	}
}
