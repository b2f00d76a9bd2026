package x12

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"claimsbatch/claim"
)

// ErrUnbalanced is wrapped when the lines given to Encode do not balance
// (a line's charge - paid differs from its adjustments) or the encoded bytes
// fail Check: nothing is written.
var ErrUnbalanced = errors.New("x12: remittance does not balance")

// ErrData is wrapped when a line cannot be carried by an 835 (a value with
// an X12 delimiter or too long for its element, an unknown adjustment group).
var ErrData = errors.New("x12: remittance line cannot be encoded")

// Line is one adjudicated remittance line, as the 835 needs it.
type Line struct {
	ClaimID       string // CLP01 and CLP07
	LineNo        int
	MemberID      string // NM109 of the patient
	ServiceDate   claim.Date
	BenefitCode   string // SVC01-2 when there is no procedure code
	ProcedureCode string // SVC01-2 when set
	Module        string // "dental" makes a CDT-shaped procedure code AD
	Status        string // PAID, PARTIAL, DENIED or MEMBER_PAID
	Charge        claim.Money
	Paid          claim.Money
	Adjustments   []Adjustment
	// Source locates the line in messages ("remittance.csv row 12"); ""
	// = claim id and line number only.
	Source string
}

func (l *Line) where() string {
	w := fmt.Sprintf("claim %s line %d", l.ClaimID, l.LineNo)
	if l.Source != "" {
		w = l.Source + ": " + w
	}
	return w
}

// Adjustment is one CARC amount of a line: group PR, CO, OA or PI, a reason
// code such as 1 (deductible), 2 (coinsurance), 119 (benefit maximum), and
// the amount.
type Adjustment struct {
	Group  string
	Reason string
	Amount claim.Money
}

// ParseAdjustments parses the remittance's adjustments column: entries
// "GROUP-REASON:amount" separated by spaces, e.g. "PR-1:375.00 PR-2:165.00".
// Group codes are those of the 835 (CO, OA, PI, PR); a reason code is 1 to 5
// letters and digits.
func ParseAdjustments(s string) ([]Adjustment, error) {
	var out []Adjustment
	for _, f := range strings.Fields(s) {
		code, amt, ok := strings.Cut(f, ":")
		group, reason, ok2 := strings.Cut(code, "-")
		if !ok || !ok2 {
			return nil, fmt.Errorf("adjustment %q is not GROUP-REASON:amount", f)
		}
		switch group {
		case "CO", "OA", "PI", "PR":
		default:
			return nil, fmt.Errorf("adjustment %q: group %q is not CO, OA, PI or PR", f, group)
		}
		if len(reason) == 0 || len(reason) > 5 || strings.Trim(reason, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return nil, fmt.Errorf("adjustment %q: reason %q is not a CARC code", f, reason)
		}
		m, err := claim.ParseMoney(amt)
		if err != nil {
			return nil, fmt.Errorf("adjustment %q: amount: %w", f, err)
		}
		out = append(out, Adjustment{Group: group, Reason: reason, Amount: m})
	}
	return out, nil
}

// Remittance is what one 835 carries: one provider payee's lines in one plan
// currency, from one run.
type Remittance struct {
	RunID    string     // seeds the control and trace numbers
	Date     claim.Date // the run's as-of date: ISA09, GS04, BPR16, DTM*405 (time 0000)
	PayeeID  string     // the provider_id
	Currency string     // the plan currency; CUR when not USD
	// Lines in order of (claim_id, member_id, line_no). Lines of one claim
	// and member make one CLP (split every 999 lines, the 2110 loop's
	// limit).
	Lines []Line
	// ProviderAdjustments become PLB: amounts that change the payment
	// outside any claim (positive reduces it). A claimsbatch run has none;
	// Encode supports them for callers that do.
	ProviderAdjustments []ProviderAdjustment
}

// ProviderAdjustment is one PLB adjustment.
type ProviderAdjustment struct {
	Reason    string      // PLB03-1, e.g. "L6" interest, "WO" overpayment recovery
	Reference string      // PLB03-2, optional
	Amount    claim.Money // positive reduces the payment
}

// Stats describes an encoded interchange.
type Stats struct {
	Segments              int // in the file, ISA to IEA (SE01 counts 4 fewer)
	Claims                int // CLP segments
	Lines                 int // SVC segments
	Charge                claim.Money
	Paid                  claim.Money // BPR02
	PatientResponsibility claim.Money // the sum of CLP05
	InterchangeControl    string      // ISA13
	TraceNumber           string      // TRN02
}

// maxServiceLines is the repeat of loop 2110 in 005010X221A1.
const maxServiceLines = 999

// Element maximum lengths of the TR3 that data can reach.
const (
	maxClaimID  = 38 // CLP01
	maxMemberID = 80 // NM109
	maxCode     = 48 // SVC01-2
	maxPayeeID  = 50 // REF02 of REF*PQ
)

// Encode writes r as one interchange (ISA/GS/ST..SE/GE/IEA) following
// 005010X221A1 and returns its bytes. It checks every line's balance first
// (charge - paid = its adjustments) and then reads its own output back with
// Inspect: an error means nothing should be written.
func Encode(cfg *Config, r *Remittance) ([]byte, *Stats, error) {
	if cfg == nil {
		cfg = DefaultConfig()
	}
	if err := checkRemittance(r); err != nil {
		return nil, nil, err
	}
	payee := cfg.Payees[r.PayeeID]
	method := cfg.Payment.Method
	if payee.PaymentMethod != "" {
		method = payee.PaymentMethod
	}

	st := &Stats{}
	claims := splitClaims(r.Lines)
	for _, c := range claims {
		st.Claims++
		st.Lines += len(c.lines)
		st.Charge += c.charge
		st.Paid += c.paid
		st.PatientResponsibility += c.patientResp
	}
	for _, a := range r.ProviderAdjustments {
		st.Paid -= a.Amount
	}
	if st.Paid < 0 {
		return nil, nil, fmt.Errorf("%w: payee %s %s: the payment would be %s, below zero", ErrUnbalanced, r.PayeeID, r.Currency, st.Paid)
	}
	if st.Paid != 0 && needsBank(method) {
		switch {
		case cfg.Payment.Bank == nil:
			return nil, nil, fmt.Errorf("%w: payee %s is paid by %s but payment.bank is not configured", ErrConfig, r.PayeeID, method)
		case payee.Bank == nil:
			return nil, nil, fmt.Errorf("%w: payee %s is paid by %s but payees.%s.bank is not configured", ErrConfig, r.PayeeID, method, r.PayeeID)
		}
	}

	ids := controlNumbers(r.RunID, r.PayeeID, r.Currency)
	st.InterchangeControl = ids.interchange
	st.TraceNumber = ids.trace
	receiverQual, receiverID := cfg.Interchange.ReceiverQualifier, cfg.Interchange.ReceiverID
	if receiverID == "" {
		receiverQual, receiverID = "ZZ", payeeInterchangeID(r.PayeeID, payee)
	}
	gsSender, gsReceiver := cfg.Group.SenderCode, cfg.Group.ReceiverCode
	if gsSender == "" {
		gsSender = cfg.Interchange.SenderID
	}
	if gsReceiver == "" {
		gsReceiver = receiverID
	}
	ack := "0"
	if cfg.Interchange.AcknowledgmentRequested {
		ack = "1"
	}
	w := &segmentWriter{lineBreaks: cfg.LineBreaks == nil || *cfg.LineBreaks}
	w.begin("ISA")
	w.strs("00", pad("", 10), "00", pad("", 10),
		cfg.Interchange.SenderQualifier, pad(cfg.Interchange.SenderID, 15),
		receiverQual, pad(receiverID, 15), date6(r.Date), "0000")
	w.delim(repetitionSep)
	w.strs("00501", ids.interchange, ack, cfg.Interchange.Usage)
	w.delim(componentSep)
	w.end()
	w.segment("GS", "HP", gsSender, gsReceiver, date8(r.Date), "0000", ids.group, "X", "005010X221A1")
	stStart := w.count
	w.segment("ST", "835", ids.transaction, "005010X221A1")

	// Header: BPR, TRN, CUR, DTM*405.
	payerID := "1" + cfg.Payer.TIN
	w.begin("BPR")
	switch {
	case st.Paid == 0:
		// X12 RFI 2228: a zero payment that is not a prenote is H with NON.
		w.strs("H", "0", "C", "NON", "", "", "", "", "", "", "", "", "", "", "")
	case needsBank(method):
		pb, eb := cfg.Payment.Bank, payee.Bank
		format := ""
		if method == "ACH" {
			format = cfg.Payment.Format
		}
		w.str(cfg.Payment.Handling)
		w.amt(st.Paid)
		w.strs("C", method, format, pb.DFIQualifier, pb.DFIID, pb.AccountQualifier, pb.Account, payerID, "",
			eb.DFIQualifier, eb.DFIID, eb.AccountQualifier, eb.Account)
	default:
		w.str(cfg.Payment.Handling)
		w.amt(st.Paid)
		w.strs("C", method, "", "", "", "", "", "", "", "", "", "", "")
	}
	w.date8(r.Date)
	w.end()
	w.segment("TRN", "1", ids.trace, payerID)
	if r.Currency != "USD" {
		w.segment("CUR", "PR", r.Currency)
	}
	w.begin("DTM")
	w.str("405")
	w.date8(r.Date)
	w.end()

	// Loop 1000A: the payer.
	w.segment("N1", "PR", cfg.Payer.Name)
	writeAddress(w, &cfg.Payer.Address)
	w.segment("REF", "2U", cfg.Payer.ID)
	tc := cfg.Payer.TechnicalContact
	w.begin("PER")
	w.strs("BL", tc.Name)
	for _, c := range [][2]string{{"TE", tc.Phone}, {"EM", tc.Email}, {"UR", tc.URL}} {
		if c[1] != "" {
			w.strs(c[0], c[1])
		}
	}
	w.end()

	// Loop 1000B: the payee.
	name := payee.Name
	if name == "" {
		name = r.PayeeID
		if len(name) > 60 {
			name = name[:60]
		}
	}
	switch {
	case payee.NPI != "":
		w.segment("N1", "PE", name, "XX", payee.NPI)
	case payee.TIN != "":
		w.segment("N1", "PE", name, "FI", payee.TIN)
	default:
		w.segment("N1", "PE", name, cfg.UnknownPayeeQualifier, r.PayeeID)
	}
	if payee.Address != nil {
		writeAddress(w, payee.Address)
	}
	if payee.NPI != "" && payee.TIN != "" {
		w.segment("REF", "TJ", payee.TIN)
	}
	w.segment("REF", "PQ", r.PayeeID)

	// Loop 2000 (one LX), loops 2100 and 2110.
	if len(claims) > 0 {
		w.segment("LX", "1")
	}
	for _, c := range claims {
		status := "1" // processed as primary
		if c.allDenied {
			status = "4" // denied
		}
		w.begin("CLP")
		w.strs(c.id, status)
		w.amt(c.charge)
		w.amt(c.paid)
		if c.patientResp != 0 {
			w.amt(c.patientResp)
		} else {
			w.str("")
		}
		w.strs(cfg.ClaimFilingIndicator, c.id)
		w.end()
		w.segment("NM1", "QC", "1", "", "", "", "", "", "MI", c.member)
		for i := range c.lines {
			l := &c.lines[i]
			qual, code := serviceCode(l, cfg.LocalCodeQualifier)
			w.begin("SVC")
			w.comp(qual, code)
			w.amt(l.Charge)
			w.amt(l.Paid)
			w.end()
			w.begin("DTM")
			w.str("472")
			w.date8(l.ServiceDate)
			w.end()
			writeCAS(w, l.Adjustments)
		}
	}
	if len(r.ProviderAdjustments) > 0 {
		fiscal := claim.FromCivil(yearOf(r.Date), 12, 31)
		payeeRef := r.PayeeID
		if payee.NPI != "" {
			payeeRef = payee.NPI
		}
		for start := 0; start < len(r.ProviderAdjustments); start += 6 {
			w.begin("PLB")
			w.str(payeeRef)
			w.date8(fiscal)
			for _, a := range r.ProviderAdjustments[start:min(start+6, len(r.ProviderAdjustments))] {
				w.comp(a.Reason, a.Reference)
				w.amt(a.Amount)
			}
			w.end()
		}
	}
	w.segment("SE", strconv.Itoa(w.count-stStart+1), ids.transaction)
	w.segment("GE", "1", ids.group)
	w.segment("IEA", "1", ids.interchange)
	if w.err != nil {
		return nil, nil, fmt.Errorf("%w: payee %s %s: %w", ErrData, r.PayeeID, r.Currency, w.err)
	}
	st.Segments = w.count

	// Read the bytes back: what we publish must pass our own check.
	rep := Inspect(bytes.NewReader(w.buf), "835")
	if len(rep.Problems) > 0 {
		msgs := make([]string, len(rep.Problems))
		for i, p := range rep.Problems {
			msgs[i] = p.String()
		}
		return nil, nil, fmt.Errorf("%w: payee %s %s: the encoded file fails its check:\n  %s", ErrUnbalanced, r.PayeeID, r.Currency, strings.Join(msgs, "\n  "))
	}
	return w.buf, st, nil
}

func yearOf(d claim.Date) int {
	y, _, _ := d.Civil()
	return y
}

// checkRemittance checks what Encode needs of r before it writes anything:
// values an 835 can carry, lines in order, every line balanced.
func checkRemittance(r *Remittance) error {
	if r.RunID == "" {
		return fmt.Errorf("%w: no run id", ErrData)
	}
	if r.Date == claim.NoDate {
		return fmt.Errorf("%w: no date", ErrData)
	}
	if len(r.Currency) != 3 || strings.Trim(r.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return fmt.Errorf("%w: currency %q is not an ISO 4217 code", ErrData, r.Currency)
	}
	if err := checkID("provider_id", r.PayeeID, maxPayeeID); err != nil {
		return fmt.Errorf("%w: %w", ErrData, err)
	}
	for i := range r.Lines {
		l := &r.Lines[i]
		if err := CheckLine(l); err != nil {
			return err
		}
		if i > 0 {
			p := &r.Lines[i-1]
			if compareLines(p, l) >= 0 {
				return fmt.Errorf("%w: %s: lines are not in (claim_id, member_id, line_no) order after %s", ErrData, l.where(), p.where())
			}
		}
	}
	for _, a := range r.ProviderAdjustments {
		if err := errors.Join(checkValue(a.Reason), checkValue(a.Reference)); err != nil || a.Reason == "" {
			return fmt.Errorf("%w: provider adjustment %q:%q: %v", ErrData, a.Reason, a.Reference, err)
		}
	}
	return nil
}

// CheckLine checks that one line can be carried by an 835 and balances:
// charge - paid = the sum of its adjustments. Generate calls it on every
// provider line as it reads the remittance, so a bad line fails the run
// before anything is written.
func CheckLine(l *Line) error {
	if err := errors.Join(
		checkID("claim_id", l.ClaimID, maxClaimID),
		checkID("member_id", l.MemberID, maxMemberID),
		checkID("benefit_code", l.BenefitCode, maxCode),
	); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrData, l.where(), err)
	}
	if l.ProcedureCode != "" {
		if err := checkID("procedure_code", l.ProcedureCode, maxCode); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrData, l.where(), err)
		}
	}
	if l.LineNo < 1 {
		return fmt.Errorf("%w: %s: line_no must be 1 or more", ErrData, l.where())
	}
	if l.ServiceDate == claim.NoDate {
		return fmt.Errorf("%w: %s: no service_date", ErrData, l.where())
	}
	switch l.Status {
	case "PAID", "PARTIAL", "DENIED", "MEMBER_PAID":
	default:
		return fmt.Errorf("%w: %s: status %q is not PAID, PARTIAL, DENIED or MEMBER_PAID", ErrData, l.where(), l.Status)
	}
	var sum claim.Money
	for _, a := range l.Adjustments {
		sum += a.Amount
	}
	if l.Charge-l.Paid != sum {
		return fmt.Errorf("%w: %s: charge %s - plan_paid %s = %s, but the adjustments add up to %s",
			ErrUnbalanced, l.where(), l.Charge, l.Paid, l.Charge-l.Paid, sum)
	}
	return nil
}

func checkID(name, s string, max int) error {
	switch {
	case s == "":
		return fmt.Errorf("%s is empty", name)
	case len(s) > max:
		return fmt.Errorf("%s %q is longer than %d characters, the most its X12 element holds", name, s, max)
	}
	if err := checkValue(s); err != nil {
		return fmt.Errorf("%s %w", name, err)
	}
	return nil
}

// compareLines orders lines by (claim_id, member_id, line_no).
func compareLines(a, b *Line) int {
	if c := strings.Compare(a.ClaimID, b.ClaimID); c != 0 {
		return c
	}
	if c := strings.Compare(a.MemberID, b.MemberID); c != 0 {
		return c
	}
	return a.LineNo - b.LineNo
}

// claimGroup is one CLP loop: the lines of one claim and member, at most
// maxServiceLines of them.
type claimGroup struct {
	id, member                string
	lines                     []Line
	charge, paid, patientResp claim.Money
	allDenied                 bool
}

func splitClaims(lines []Line) []claimGroup {
	var out []claimGroup
	for i := range lines {
		l := &lines[i]
		n := len(out)
		if n == 0 || out[n-1].id != l.ClaimID || out[n-1].member != l.MemberID || len(out[n-1].lines) == maxServiceLines {
			out = append(out, claimGroup{id: l.ClaimID, member: l.MemberID, allDenied: true})
			n++
		}
		c := &out[n-1]
		c.lines = lines[i-len(c.lines) : i+1]
		c.charge += l.Charge
		c.paid += l.Paid
		for _, a := range l.Adjustments {
			if a.Group == "PR" {
				c.patientResp += a.Amount
			}
		}
		c.allDenied = c.allDenied && l.Status == "DENIED"
	}
	return out
}

// writeAddress writes N3 and N4; N404 only outside the US.
func writeAddress(w *segmentWriter, a *Address) {
	w.segment("N3", a.Line1, a.Line2)
	country := a.Country
	if country == "US" {
		country = ""
	}
	w.segment("N4", a.City, a.State, a.PostalCode, country)
}

// writeCAS writes a line's adjustments: one CAS per group code in the order
// the groups first appear, at most 6 reason/amount/quantity triplets each
// (a seventh reason of a group starts a second CAS of that group). Zero
// amounts are left out.
func writeCAS(w *segmentWriter, adj []Adjustment) {
	var groups [4]string // CO, OA, PI, PR at most
	n := 0
	for _, a := range adj {
		if a.Amount != 0 && !contains(groups[:n], a.Group) && n < len(groups) {
			groups[n] = a.Group
			n++
		}
	}
	for _, g := range groups[:n] {
		reasons := 0
		for _, a := range adj {
			if a.Group != g || a.Amount == 0 {
				continue
			}
			if reasons == 6 {
				w.end()
				reasons = 0
			}
			if reasons == 0 {
				w.begin("CAS")
				w.str(g)
			}
			w.str(a.Reason)
			w.amt(a.Amount)
			w.str("") // no quantity
			reasons++
		}
		w.end()
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// serviceCode picks SVC01: a HCPCS/CPT-shaped procedure code under HC (a
// CDT-shaped one on a dental line under AD); any other procedure code, or
// the benefit code when there is none, under the local qualifier.
func serviceCode(l *Line, localQualifier string) (qualifier, code string) {
	pc := l.ProcedureCode
	switch {
	case pc == "":
		return localQualifier, l.BenefitCode
	case l.Module == "dental" && isCDT(pc):
		return "AD", pc
	case isHCPCS(pc):
		return "HC", pc
	}
	return localQualifier, pc
}

// isHCPCS: a CPT code (5 digits, or 4 digits and F, T or U) or a HCPCS
// level II code (a letter A-V and 4 digits).
func isHCPCS(s string) bool {
	if len(s) != 5 {
		return false
	}
	digits := func(t string) bool { return strings.Trim(t, "0123456789") == "" }
	switch {
	case digits(s[:4]) && (digits(s[4:]) || strings.ContainsRune("FTU", rune(s[4]))):
		return true
	case s[0] >= 'A' && s[0] <= 'V' && digits(s[1:]):
		return true
	}
	return false
}

// isCDT: an ADA dental procedure code, D and 4 digits.
func isCDT(s string) bool {
	return len(s) == 5 && s[0] == 'D' && strings.Trim(s[1:], "0123456789") == ""
}

// ids are an interchange's control and trace numbers.
type ids struct {
	interchange string // ISA13/IEA02: 9 digits
	group       string // GS06/GE02: the same number without leading zeros
	transaction string // ST02/SE02
	trace       string // TRN02: 15 digits
}

// controlNumbers derives the numbers from the run id, the payee and the
// currency alone, so the same run gives the same bytes and two files of a
// run never share an interchange control number by design (a collision of
// two 9-digit hashes is possible: about one pair in 2 000 among 1 000 payees
// of one run; receivers check ISA13 per sender and interchange, where it is
// harmless).
func controlNumbers(runID, payeeID, currency string) ids {
	h := sha256.Sum256([]byte("claimsbatch 835\x00" + runID + "\x00" + payeeID + "\x00" + currency))
	n := binary.BigEndian.Uint64(h[0:8])%999_999_999 + 1
	t := binary.BigEndian.Uint64(h[8:16]) % 1_000_000_000_000_000
	return ids{
		interchange: fmt.Sprintf("%09d", n),
		group:       strconv.FormatUint(n, 10),
		transaction: "0001",
		trace:       fmt.Sprintf("%015d", t),
	}
}

// payeeInterchangeID is ISA08 when the configuration names no common
// receiver: the payee's configured id, else its provider_id when that fits
// the 15 characters, else "P" and 14 hex digits of its SHA-256.
func payeeInterchangeID(providerID string, p PayeeInfo) string {
	if p.InterchangeID != "" {
		return p.InterchangeID
	}
	if len(providerID) <= 15 {
		return providerID
	}
	h := sha256.Sum256([]byte(providerID))
	return "P" + strings.ToUpper(hex.EncodeToString(h[:7]))
}
