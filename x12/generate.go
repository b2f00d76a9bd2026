package x12

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"claimsbatch/claim"
	"claimsbatch/readers"

	"golang.org/x/sync/errgroup"
)

// Options is one Generate call.
type Options struct {
	// Remittance is the path of a run's remittance file: CSV, CSV.gz or
	// Parquet with the columns of SPEC section 7 (run_id and module may be
	// absent) and an optional procedure_code column.
	Remittance string
	// RunID seeds the control and trace numbers; "" = the file's run_id
	// column. When both are there they must agree on every row.
	RunID string
	// Date is the run's as-of date (ISA09, GS04, BPR16, DTM*405); required.
	// No clock is read: the same inputs give the same bytes.
	Date claim.Date
	// Config describes the trading partners and the payment; nil =
	// DefaultConfig().
	Config *Config
	// Create makes the output file of the given plain name. Generate writes
	// each file whole and closes it before it creates the next, so a run
	// with tens of thousands of payees holds one file open at a time; an
	// error from Close fails Generate. After an error, files already created
	// are the caller's to discard (nothing should be published). Required.
	Create func(name string) (io.WriteCloser, error)
	// TmpDir is where the partition files go, in a claimsbatch-x12-*
	// directory removed at the end; "" = the system temp directory.
	TmpDir string
	// PartitionBytes is the size of spilled lines one partition aims at,
	// which bounds Generate's memory; 0 = 16 MiB.
	PartitionBytes int64
	// Workers is the number of goroutines encoding payees; 0 = GOMAXPROCS.
	// The bytes are the same for any value.
	Workers int
}

// File is one 835 Generate wrote.
type File struct {
	Name     string // plain file name, e.g. PR-HOSP1_USD_1f0c2a9e.835
	PayeeID  string // the provider_id
	Currency string // the plan currency
	SHA256   string // hex, of the bytes written
	Bytes    int64
	Stats
}

// remittanceColumns are the columns Generate reads, in the order of a record.
var remittanceColumns = []readers.TableColumn{
	{Name: "run_id", Optional: true},
	{Name: "claim_id"}, {Name: "line_no"}, {Name: "member_id"}, {Name: "service_date"},
	{Name: "benefit_code"}, {Name: "module", Optional: true},
	{Name: "payee_type"}, {Name: "payee_id"}, {Name: "plan_currency"},
	{Name: "charge"}, {Name: "plan_paid"}, {Name: "status"}, {Name: "adjustments"},
	{Name: "procedure_code", Optional: true},
}

const (
	colRunID = iota
	colClaimID
	colLineNo
	colMemberID
	colServiceDate
	colBenefitCode
	colModule
	colPayeeType
	colPayeeID
	colCurrency
	colCharge
	colPaid
	colStatus
	colAdjustments
	colProcedureCode
)

// Generate writes one 835 per provider payee and plan currency of a run's
// remittance file (member payees are reimbursed, not remitted to; their
// lines are skipped) and returns the files in (payee, currency) order.
//
// Memory does not grow with the number of lines: the provider lines are
// spilled into partition files by a hash of (payee, currency), and each
// partition is then loaded, sorted by (payee, currency, claim_id,
// member_id, line_no) and encoded, one at a time. A partition holds whole
// payees, so the largest payee's lines are loaded at once, with its file
// encoded in memory (some 600 bytes a line in all): a provider's lines in one run
// are few enough for that (a 1 M-line synthetic run has 7 500 payee and
// currency pairs of 113 lines on average, 281 at most; a hospital billing
// 100 000 lines a night would take some 60 MB), and a partition is
// otherwise about PartitionBytes of spilled lines, at most 256 partitions.
//
// Every line is checked as it is read (CheckLine: it must balance and fit
// the 835's elements) and every file by Encode before it is written, so an
// error means the run's 835s must not be published. A configuration problem
// (a payee paid by ACH with no bank details) is reported for every payee at
// once, wrapping ErrConfig.
func Generate(ctx context.Context, opt Options) ([]File, error) {
	if opt.Create == nil {
		return nil, errors.New("x12: Generate needs Options.Create")
	}
	if opt.Date == claim.NoDate {
		return nil, errors.New("x12: Generate needs Options.Date, the run's as-of date")
	}
	cfg := opt.Config
	if cfg == nil {
		cfg = DefaultConfig()
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	partBytes := opt.PartitionBytes
	if partBytes <= 0 {
		partBytes = 16 << 20
	}
	tmp, err := os.MkdirTemp(opt.TmpDir, "claimsbatch-x12-*")
	if err != nil {
		return nil, fmt.Errorf("x12: temp directory: %w", err)
	}
	defer os.RemoveAll(tmp)

	sp, runID, err := spillProviderLines(ctx, opt, tmp, partBytes)
	if err != nil {
		return nil, err
	}
	var files []File
	var configProblems []error
	for p := range sp.count {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		lines, err := sp.load(p)
		if err != nil {
			return nil, err
		}
		// Sort pointers: a spilled line is some 200 bytes.
		sorted := make([]*spilled, len(lines))
		for i := range lines {
			sorted[i] = &lines[i]
		}
		slices.SortFunc(sorted, func(a, b *spilled) int {
			return cmp.Or(strings.Compare(a.payee, b.payee), strings.Compare(a.currency, b.currency), compareLines(&a.Line, &b.Line))
		})
		var groups [][]*spilled
		for start := 0; start < len(sorted); {
			end := start + 1
			for end < len(sorted) && sorted[end].payee == sorted[start].payee && sorted[end].currency == sorted[start].currency {
				end++
			}
			groups = append(groups, sorted[start:end])
			start = end
		}
		// Encode the partition's payees in parallel, each into its own
		// slot; write them in order.
		encoded := make([]encodedFile, len(groups))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(workers)
		for i, group := range groups {
			g.Go(func() error {
				if err := gctx.Err(); err != nil {
					return err
				}
				e, err := encodeGroup(cfg, opt.Date, runID, group)
				if err != nil && !errors.Is(err, ErrConfig) {
					return err
				}
				e.err = err
				encoded[i] = e
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		for i := range encoded {
			e := &encoded[i]
			if e.err != nil {
				configProblems = append(configProblems, e.err)
				continue
			}
			f, err := writeFile(opt.Create, e)
			if err != nil {
				return nil, err
			}
			files = append(files, f)
			encoded[i] = encodedFile{} // let the bytes go
		}
	}
	if len(configProblems) > 0 {
		slices.SortFunc(configProblems, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return nil, errors.Join(configProblems...)
	}
	slices.SortFunc(files, func(a, b File) int {
		return cmp.Or(strings.Compare(a.PayeeID, b.PayeeID), strings.Compare(a.Currency, b.Currency))
	})
	return files, nil
}

// encodedFile is one payee's 835, encoded, not yet written.
type encodedFile struct {
	payee, currency string
	data            []byte
	stats           *Stats
	err             error // a configuration problem of this payee
}

// encodeGroup encodes one payee's lines (sorted, of one currency).
func encodeGroup(cfg *Config, date claim.Date, runID string, group []*spilled) (encodedFile, error) {
	r := &Remittance{RunID: runID, Date: date, PayeeID: group[0].payee, Currency: group[0].currency, Lines: make([]Line, len(group))}
	for i := range group {
		r.Lines[i] = group[i].Line
	}
	data, st, err := Encode(cfg, r)
	return encodedFile{payee: r.PayeeID, currency: r.Currency, data: data, stats: st}, err
}

// writeFile writes an encoded 835 through create.
func writeFile(create func(string) (io.WriteCloser, error), e *encodedFile) (File, error) {
	name := FileName(e.payee, e.currency)
	w, err := create(name)
	if err != nil {
		return File{}, fmt.Errorf("x12: create %s: %w", name, err)
	}
	_, err = w.Write(e.data)
	if err = errors.Join(err, w.Close()); err != nil {
		return File{}, fmt.Errorf("x12: write %s: %w", name, err)
	}
	sum := sha256.Sum256(e.data)
	return File{
		Name: name, PayeeID: e.payee, Currency: e.currency,
		SHA256: hex.EncodeToString(sum[:]), Bytes: int64(len(e.data)), Stats: *e.stats,
	}, nil
}

// FileName is the 835's file name for a payee and currency: the provider_id
// with every character but letters, digits and '-' made '_' (at most 40 of
// them), the currency, 8 hex digits of a SHA-256 of both (so two ids that
// sanitise alike, or differ only in case, still get different names) and
// ".835". It is safe on any file system for any provider_id.
func FileName(payeeID, currency string) string {
	safe := []byte(payeeID)
	if len(safe) > 40 {
		safe = safe[:40]
	}
	for i, c := range safe {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			safe[i] = '_'
		}
	}
	h := sha256.Sum256([]byte(payeeID + "\x00" + currency))
	return string(safe) + "_" + currency + "_" + hex.EncodeToString(h[:4]) + ".835"
}

// spilled is a provider line with its payee and currency.
type spilled struct {
	payee, currency string
	Line
}

// spill is the set of partition files of one Generate call.
type spill struct {
	dir    string
	count  int
	source string // the remittance file's base name, for messages
}

func (s *spill) path(p int) string { return filepath.Join(s.dir, "part-"+strconv.Itoa(p)) }

// spillProviderLines reads the remittance file, checks every provider line
// and writes it to its partition. It returns the run id used.
func spillProviderLines(ctx context.Context, opt Options, dir string, partBytes int64) (*spill, string, error) {
	fi, err := os.Stat(opt.Remittance)
	if err != nil {
		return nil, "", fmt.Errorf("x12: remittance: %w: %w", readers.ErrOpen, err)
	}
	// A spilled line takes about as many bytes as a CSV row; compressed
	// files expand about eightfold.
	estimate := fi.Size()
	if !strings.HasSuffix(opt.Remittance, ".csv") {
		estimate *= 8
	}
	sp := &spill{dir: dir, count: int(min(max(estimate/partBytes+1, 1), 256)), source: filepath.Base(opt.Remittance)}

	t, err := readers.OpenTable(opt.Remittance, remittanceColumns, readers.Options{})
	if err != nil {
		return nil, "", fmt.Errorf("x12: remittance: %w", err)
	}
	defer t.Close()
	hasRunID := slices.Contains(t.Header(), "run_id")
	runID := opt.RunID
	if runID == "" && !hasRunID {
		return nil, "", fmt.Errorf("x12: %s has no run_id column and no run id was given", opt.Remittance)
	}

	files := make([]*os.File, sp.count)
	bufs := make([]*bufio.Writer, sp.count)
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}()
	for p := range files {
		f, err := os.Create(sp.path(p))
		if err != nil {
			return nil, "", fmt.Errorf("x12: spill: %w", err)
		}
		files[p] = f
		bufs[p] = bufio.NewWriterSize(f, 16<<10)
	}

	var rec []byte
	for t.Next() {
		row := t.Row()
		if row%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, "", err
			}
		}
		v := t.Record()
		where := fmt.Sprintf("%s row %d", sp.source, row)
		if hasRunID {
			switch {
			case runID == "":
				runID = v[colRunID]
			case v[colRunID] != runID:
				return nil, "", fmt.Errorf("%w: %s: run_id %q differs from the run's %q", ErrData, where, v[colRunID], runID)
			}
		}
		if v[colPayeeType] != "provider" {
			continue
		}
		s, err := parseRow(v, where)
		if err != nil {
			return nil, "", err
		}
		h := fnv.New32a()
		h.Write([]byte(s.payee))
		h.Write([]byte{0})
		h.Write([]byte(s.currency))
		p := int(h.Sum32() % uint32(sp.count))
		rec = appendSpilled(rec[:0], &s, row, v[colAdjustments])
		if _, err := bufs[p].Write(rec); err != nil {
			return nil, "", fmt.Errorf("x12: spill: %w", err)
		}
	}
	if err := t.Err(); err != nil {
		return nil, "", fmt.Errorf("x12: remittance: %w", err)
	}
	for p, f := range files {
		err := errors.Join(bufs[p].Flush(), f.Close())
		files[p] = nil
		if err != nil {
			return nil, "", fmt.Errorf("x12: spill: %w", err)
		}
	}
	return sp, runID, nil
}

// parseRow turns a remittance record into a checked provider line.
func parseRow(v []string, where string) (spilled, error) {
	bad := func(col, format string, args ...any) (spilled, error) {
		return spilled{}, fmt.Errorf("%w: %s: %s: %s", ErrData, where, col, fmt.Sprintf(format, args...))
	}
	s := spilled{payee: v[colPayeeID], currency: v[colCurrency]}
	if err := checkID("payee_id", s.payee, maxPayeeID); err != nil {
		return spilled{}, fmt.Errorf("%w: %s: %w", ErrData, where, err)
	}
	if len(s.currency) != 3 || strings.Trim(s.currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return bad("plan_currency", "%q is not an ISO 4217 code", s.currency)
	}
	l := &s.Line
	l.Source = where
	l.ClaimID, l.MemberID = v[colClaimID], v[colMemberID]
	l.BenefitCode, l.Module, l.ProcedureCode = v[colBenefitCode], v[colModule], v[colProcedureCode]
	l.Status = v[colStatus]
	n, err := strconv.Atoi(v[colLineNo])
	if err != nil {
		return bad("line_no", "%q is not an integer", v[colLineNo])
	}
	l.LineNo = n
	if l.ServiceDate, err = claim.ParseDate(v[colServiceDate]); err != nil {
		return bad("service_date", "%q is not a YYYY-MM-DD date", v[colServiceDate])
	}
	if l.Charge, err = claim.ParseMoney(v[colCharge]); err != nil {
		return bad("charge", "%q: %v", v[colCharge], err)
	}
	if l.Paid, err = claim.ParseMoney(v[colPaid]); err != nil {
		return bad("plan_paid", "%q: %v", v[colPaid], err)
	}
	if l.Adjustments, err = ParseAdjustments(v[colAdjustments]); err != nil {
		return bad("adjustments", "%v", err)
	}
	if err := CheckLine(l); err != nil {
		return spilled{}, err
	}
	return s, nil
}

// A spilled record: its length (uvarint), then payee, currency, claim_id,
// member_id, benefit_code, module, procedure_code, status, adjustments as
// length-prefixed strings, then row, line_no, service_date, charge and
// plan_paid as varints. The adjustments go as text (they were checked on the
// way in and parse again cheaply).
func appendSpilled(b []byte, s *spilled, row int64, adjustments string) []byte {
	var body []byte
	for _, str := range []string{s.payee, s.currency, s.ClaimID, s.MemberID, s.BenefitCode, s.Module, s.ProcedureCode, s.Status, adjustments} {
		body = appendUvarint(body, uint64(len(str)))
		body = append(body, str...)
	}
	for _, n := range []int64{row, int64(s.LineNo), int64(s.ServiceDate), int64(s.Charge), int64(s.Paid)} {
		body = appendVarint(body, n)
	}
	b = appendUvarint(b, uint64(len(body)))
	return append(b, body...)
}

// load reads partition p back.
func (s *spill) load(p int) ([]spilled, error) {
	data, err := os.ReadFile(s.path(p))
	if err != nil {
		return nil, fmt.Errorf("x12: spill: %w", err)
	}
	var out []spilled
	d := decoder{b: data}
	for len(d.b) > 0 {
		n := d.uvarint()
		rec := decoder{b: d.take(int(n))}
		var strs [9]string
		for i := range strs {
			strs[i] = string(rec.take(int(rec.uvarint())))
		}
		var nums [5]int64
		for i := range nums {
			nums[i] = rec.varint()
		}
		if d.err != nil || rec.err != nil {
			return nil, fmt.Errorf("x12: spill partition %d is corrupt", p)
		}
		sl := spilled{payee: strs[0], currency: strs[1]}
		sl.Line = Line{
			ClaimID: strs[2], MemberID: strs[3], BenefitCode: strs[4], Module: strs[5], ProcedureCode: strs[6], Status: strs[7],
			LineNo: int(nums[1]), ServiceDate: claim.Date(nums[2]), Charge: claim.Money(nums[3]), Paid: claim.Money(nums[4]),
		}
		if sl.Adjustments, err = ParseAdjustments(strs[8]); err != nil {
			return nil, fmt.Errorf("x12: spill partition %d is corrupt: %w", p, err)
		}
		sl.Source = fmt.Sprintf("%s row %d", s.source, nums[0])
		out = append(out, sl)
	}
	return out, nil
}

func appendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }
func appendVarint(b []byte, v int64) []byte   { return binary.AppendVarint(b, v) }

// decoder reads a spilled record; the first malformed read sets err and
// every later one returns zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) take(n int) []byte {
	if n < 0 || n > len(d.b) {
		d.fail()
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errors.New("x12: corrupt spill record")
	}
	d.b = nil
}
