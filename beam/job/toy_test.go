package job

// A toy adjudication with the shape of the real one, to prove the Beam
// machinery before claimsbatch's packages are wired in: claim.Line elements,
// DUPLICATE_LINE by a GroupByKey on (claim_id, line_no) keeping the first in
// input order, pricing with an FX side input, a CoGroupByKey of lines, spans
// and state records on member_id, a per-member rule in date order, payments
// as a CombinePerKey, sharded outputs and the launcher's publish. The toy
// rule: a member's lines are paid in claim.Less order up to 1000.00 per
// member, less what the state says was used; lines outside every span pay 0.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"claimsbatch/claim"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

func TestMain(m *testing.M) {
	// Beam's way: flags first, then beam.Init, which turns this binary
	// into an SDK worker when a runner starts it with --worker (the
	// PROCESS environment test does).
	flag.Parse()
	beam.Init()
	restore, err := PrivateTempDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	for _, c := range cleanups {
		c()
	}
	restore()
	os.Exit(code)
}

const toyLimit claim.Money = 1000_00

type toyState struct {
	MemberID string
	Used     claim.Money
}

type toyFX struct {
	Currency string
	Rate     int64 // plan currency units per 10000 billed units
}

// toyResult is flat: a claim.Result cannot cross a shuffle (see the package doc).
type toyResult struct {
	ClaimID      string
	LineNo       int32
	MemberID     string
	ServiceDate  claim.Date
	ReceivedDate claim.Date
	PayeeID      string
	Currency     string
	Charge       claim.Money
	Paid         claim.Money
}

type toyException struct {
	Source  int32
	Row     int64
	ClaimID string
	LineNo  int32
	Code    string
}

type toyPayment struct {
	Lines int64
	Paid  claim.Money
}

type toyInput struct {
	lines  []claim.Line
	spans  []claim.Span
	states []toyState
	fx     []toyFX
}

func init() {
	for _, t := range []reflect.Type{reflect.TypeFor[toyState](), reflect.TypeFor[toyFX](), reflect.TypeFor[toyResult](),
		reflect.TypeFor[toyException](), reflect.TypeFor[toyPayment]()} {
		beam.RegisterType(t)
	}
	register.Function1x2[claim.Line, string, claim.Line](lineKey)
	register.DoFn4x0[string, func(*claim.Line) bool, func(claim.Line), func(toyException)](&firstInInputOrderFn{})
	register.DoFn4x0[claim.Line, func(*toyFX) bool, func(string, claim.Line), func(toyException)](&priceFn{})
	register.Function1x2[claim.Span, string, claim.Span](spanKey)
	register.Function1x2[toyState, string, toyState](stateKey)
	register.DoFn7x0[string, func(*claim.Line) bool, func(*claim.Span) bool, func(*toyState) bool, func(toyResult), func(toyState), func(toyException)](&toyAdjudicateFn{})
	register.Function1x2[toyResult, string, toyPayment](paymentOf)
	register.Function2x1[toyPayment, toyPayment, toyPayment](addPayments)
	register.DoFn1x2[toyResult, int, Record](&remittanceRecordFn{})
	register.DoFn1x2[toyException, int, Record](&exceptionRecordFn{})
	register.DoFn1x2[toyState, int, Record](&stateRecordFn{})
	register.DoFn2x2[string, toyPayment, int, Record](&paymentRecordFn{})
	register.Emitter1[claim.Line]()
	register.Emitter1[toyException]()
	register.Emitter2[string, claim.Line]()
	register.Emitter1[toyResult]()
	register.Emitter1[toyState]()
	register.Iter1[claim.Line]()
	register.Iter1[claim.Span]()
	register.Iter1[toyState]()
	register.Iter1[toyFX]()
}

func lineKey(l claim.Line) (string, claim.Line) {
	return l.ClaimID + "\x00" + strconv.Itoa(int(l.LineNo)), l
}

// firstInInputOrderFn keeps, of the lines with one (claim_id, line_no), the
// first in input order (file, then row); the rest are DUPLICATE_LINE. The
// group arrives in no particular order, so the minimum is chosen, not the
// first seen.
type firstInInputOrderFn struct{}

func (*firstInInputOrderFn) ProcessElement(_ string, lines func(*claim.Line) bool, accepted func(claim.Line), dups func(toyException)) {
	var all []claim.Line
	var l claim.Line
	for lines(&l) {
		all = append(all, l)
	}
	slices.SortFunc(all, func(a, b claim.Line) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Row, b.Row))
	})
	accepted(all[0])
	for _, d := range all[1:] {
		dups(toyException{Source: d.Source, Row: d.Row, ClaimID: d.ClaimID, LineNo: d.LineNo, Code: string(claim.DuplicateLine)})
	}
}

// priceFn prices a line in the plan currency (EUR) with the FX side input.
type priceFn struct{ PlanCurrency string }

func (fn *priceFn) ProcessElement(l claim.Line, fx func(*toyFX) bool, priced func(string, claim.Line), exc func(toyException)) {
	rate := int64(-1)
	if l.Currency == fn.PlanCurrency {
		rate = 10000
	}
	var r toyFX
	for fx(&r) {
		if r.Currency == l.Currency {
			rate = r.Rate
		}
	}
	if rate < 0 {
		exc(toyException{Source: l.Source, Row: l.Row, ClaimID: l.ClaimID, LineNo: l.LineNo, Code: string(claim.NoFXRate)})
		return
	}
	l.Charge = claim.Money(int64(l.Billed) * rate / 10000)
	l.PlanCurrency = fn.PlanCurrency
	priced(l.MemberID, l)
}

func spanKey(s claim.Span) (string, claim.Span) { return s.MemberID, s }
func stateKey(s toyState) (string, toyState)    { return s.MemberID, s }

type toyAdjudicateFn struct{}

func (*toyAdjudicateFn) ProcessElement(member string, lineIter func(*claim.Line) bool, spanIter func(*claim.Span) bool, stateIter func(*toyState) bool,
	results func(toyResult), states func(toyState), exc func(toyException)) {
	var lines []claim.Line
	var l claim.Line
	for lineIter(&l) {
		lines = append(lines, l)
	}
	var spans []claim.Span
	var sp claim.Span
	for spanIter(&sp) {
		spans = append(spans, sp)
	}
	used := claim.Money(0)
	var st toyState
	for stateIter(&st) {
		used += st.Used
	}
	if len(spans) == 0 {
		for _, l := range lines {
			exc(toyException{Source: l.Source, Row: l.Row, ClaimID: l.ClaimID, LineNo: l.LineNo, Code: string(claim.UnknownMember)})
		}
		if used != 0 {
			states(toyState{MemberID: member, Used: used})
		}
		return
	}
	slices.SortFunc(lines, func(a, b claim.Line) int {
		if claim.Less(&a, &b) {
			return -1
		}
		if claim.Less(&b, &a) {
			return 1
		}
		return 0
	})
	for _, l := range lines {
		paid := claim.Money(0)
		if covered(spans, l.ServiceDate) {
			paid = min(l.Charge, toyLimit-used)
		}
		used += paid
		results(toyResult{ClaimID: l.ClaimID, LineNo: l.LineNo, MemberID: l.MemberID, ServiceDate: l.ServiceDate,
			ReceivedDate: l.ReceivedDate, PayeeID: l.ProviderID, Currency: l.PlanCurrency, Charge: l.Charge, Paid: paid})
	}
	states(toyState{MemberID: member, Used: used})
}

func covered(spans []claim.Span, d claim.Date) bool {
	for _, s := range spans {
		if s.Start <= d && d <= s.End {
			return true
		}
	}
	return false
}

func paymentOf(r toyResult) (string, toyPayment) {
	return r.PayeeID + "\x00" + r.Currency, toyPayment{Lines: 1, Paid: r.Paid}
}

func addPayments(a, b toyPayment) toyPayment {
	return toyPayment{Lines: a.Lines + b.Lines, Paid: a.Paid + b.Paid}
}

// The toy encodes each output row as its CSV line; the real pipeline will
// encode flat structs and let the writers package format them at publish.

type remittanceRecordFn struct{ Shards int }

func (fn *remittanceRecordFn) ProcessElement(r toyResult) (int, Record) {
	key := AppendString(nil, r.MemberID)
	key = AppendInt(key, int64(r.ServiceDate))
	key = AppendInt(key, int64(r.ReceivedDate))
	key = AppendString(key, r.ClaimID)
	key = AppendInt(key, int64(r.LineNo))
	return ShardOf(r.MemberID, fn.Shards), Record{Key: key, Value: []byte(remittanceCSV(r))}
}

func remittanceCSV(r toyResult) string {
	return fmt.Sprintf("%s,%d,%s,%s,%s,%s,%s\n", r.ClaimID, r.LineNo, r.MemberID, r.ServiceDate, r.PayeeID, r.Charge, r.Paid)
}

type exceptionRecordFn struct{ Shards int }

func (fn *exceptionRecordFn) ProcessElement(x toyException) (int, Record) {
	key := AppendInt(AppendInt(nil, int64(x.Source)), x.Row)
	return ShardOf(fmt.Sprint(x.Source, "/", x.Row), fn.Shards), Record{Key: key, Value: []byte(exceptionCSV(x))}
}

func exceptionCSV(x toyException) string {
	return fmt.Sprintf("%d,%d,%s,%d,%s\n", x.Source, x.Row, x.ClaimID, x.LineNo, x.Code)
}

type stateRecordFn struct{ Shards int }

func (fn *stateRecordFn) ProcessElement(s toyState) (int, Record) {
	return ShardOf(s.MemberID, fn.Shards), Record{Key: AppendString(nil, s.MemberID), Value: []byte(fmt.Sprintf("%s,%s\n", s.MemberID, s.Used))}
}

type paymentRecordFn struct{ Shards int }

func (fn *paymentRecordFn) ProcessElement(key string, p toyPayment) (int, Record) {
	payee, currency, _ := strings.Cut(key, "\x00")
	return ShardOf(key, fn.Shards), Record{Key: AppendString(AppendString(nil, payee), currency),
		Value: []byte(fmt.Sprintf("%s,%s,%d,%s\n", payee, currency, p.Lines, p.Paid))}
}

// toyOutputs are the toy's published files and their headers.
var toyOutputs = []struct{ kind, header string }{
	{"remittance", "claim_id,line_no,member_id,service_date,payee_id,charge,plan_paid\n"},
	{"payments", "payee_id,plan_currency,line_count,plan_paid\n"},
	{"exceptions", "source,row,claim_id,line_no,code\n"},
	{"state", "member_id,used\n"},
}

// toyPipeline builds the toy over lines (already read) and writes its
// shards into shardDir.
func toyPipeline(s beam.Scope, lines beam.PCollection, in toyInput, shardDir string, shards int, fault Fault) {
	accepted, dups := beam.ParDo2(s, &firstInInputOrderFn{}, beam.GroupByKey(s, beam.ParDo(s, lineKey, lines)))
	fx := beam.CreateList(s, in.fx)
	priced, noFX := beam.ParDo2(s, &priceFn{PlanCurrency: "EUR"}, accepted, beam.SideInput{Input: fx})
	spans := beam.ParDo(s, spanKey, beam.CreateList(s, in.spans))
	states := beam.ParDo(s, stateKey, beam.CreateList(s, in.states))
	results, newState, unknown := beam.ParDo3(s, &toyAdjudicateFn{}, beam.CoGroupByKey(s, priced, spans, states))
	payments := beam.CombinePerKey(s, addPayments, beam.ParDo(s, paymentOf, results))

	WriteShards(s, shardDir, "remittance", shards, beam.ParDo(s, &remittanceRecordFn{Shards: shards}, results), fault)
	WriteShards(s, shardDir, "payments", 1, beam.ParDo(s, &paymentRecordFn{Shards: 1}, payments), fault)
	WriteShards(s, shardDir, "exceptions", shards, beam.ParDo(s, &exceptionRecordFn{Shards: shards}, beam.Flatten(s, dups, noFX, unknown)), fault)
	WriteShards(s, shardDir, "state", shards, beam.ParDo(s, &stateRecordFn{Shards: shards}, newState), fault)
}

// csvSink writes a header and each record's value as it is.
type csvSink struct{ w io.Writer }

func (c csvSink) Row(_, value []byte) error { _, err := c.w.Write(value); return err }
func (c csvSink) Close() error              { return nil }

// runToy runs the toy on lines from Create and publishes into outDir.
func runToy(t *testing.T, in toyInput, outDir string, shards int, fault Fault) error {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	return runToyWith(t, p, beam.CreateList(s, in.lines), in, outDir, shards, fault)
}

func runToyWith(t *testing.T, p *beam.Pipeline, lines beam.PCollection, in toyInput, outDir string, shards int, fault Fault) error {
	t.Helper()
	// A job whose workers cannot start hangs on Prism ("pipeline is
	// running" forever): bound every toy run.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	shardDir := ShardDir(outDir, "toy")
	if err := PrepareShardDir(shardDir); err != nil {
		return err
	}
	toyPipeline(p.Root(), lines, in, shardDir, shards, fault)
	if _, err := Execute(ctx, p); err != nil {
		return err
	}
	var outputs []Output
	for _, o := range toyOutputs {
		n := shards
		if o.kind == "payments" {
			n = 1
		}
		header := o.header
		outputs = append(outputs, Output{Kind: o.kind, Shards: n, Name: o.kind + ".csv", Open: func(w io.Writer) (RowSink, error) {
			_, err := io.WriteString(w, header)
			return csvSink{w}, err
		}})
	}
	err := Publish(ctx, shardDir, outDir, outputs, "manifest.json", func(files []Published) ([]byte, error) {
		return json.MarshalIndent(map[string]any{"run_id": "toy", "outputs": files}, "", "  ")
	})
	if err != nil {
		return err
	}
	return RemoveShardDir(ctx, shardDir)
}

// toyReference is the toy done plainly in one process: the bytes every
// runner must reproduce.
func toyReference(in toyInput) map[string]string {
	out := map[string]string{}
	var exc []toyException
	seen := map[string]bool{}
	var accepted []claim.Line
	ordered := slices.Clone(in.lines)
	slices.SortFunc(ordered, func(a, b claim.Line) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Row, b.Row))
	})
	fx := map[string]int64{"EUR": 10000}
	for _, r := range in.fx {
		fx[r.Currency] = r.Rate
	}
	byMember := map[string][]claim.Line{}
	for _, l := range ordered {
		k, _ := lineKey(l)
		if seen[k] {
			exc = append(exc, toyException{l.Source, l.Row, l.ClaimID, l.LineNo, string(claim.DuplicateLine)})
			continue
		}
		seen[k] = true
		rate, ok := fx[l.Currency]
		if !ok {
			exc = append(exc, toyException{l.Source, l.Row, l.ClaimID, l.LineNo, string(claim.NoFXRate)})
			continue
		}
		l.Charge = claim.Money(int64(l.Billed) * rate / 10000)
		l.PlanCurrency = "EUR"
		accepted = append(accepted, l)
		byMember[l.MemberID] = append(byMember[l.MemberID], l)
	}
	spans := map[string][]claim.Span{}
	for _, s := range in.spans {
		spans[s.MemberID] = append(spans[s.MemberID], s)
	}
	used := map[string]claim.Money{}
	for _, s := range in.states {
		used[s.MemberID] += s.Used
	}
	var results []toyResult
	pay := map[[2]string]toyPayment{}
	for _, m := range slices.Sorted(maps.Keys(byMember)) {
		lines := byMember[m]
		if len(spans[m]) == 0 {
			for _, l := range lines {
				exc = append(exc, toyException{l.Source, l.Row, l.ClaimID, l.LineNo, string(claim.UnknownMember)})
			}
			continue
		}
		sort.Slice(lines, func(i, j int) bool { return claim.Less(&lines[i], &lines[j]) })
		for _, l := range lines {
			paid := claim.Money(0)
			if covered(spans[m], l.ServiceDate) {
				paid = min(l.Charge, toyLimit-used[m])
			}
			used[m] += paid
			r := toyResult{ClaimID: l.ClaimID, LineNo: l.LineNo, MemberID: m, ServiceDate: l.ServiceDate, ReceivedDate: l.ReceivedDate,
				PayeeID: l.ProviderID, Currency: "EUR", Charge: l.Charge, Paid: paid}
			results = append(results, r)
			k := [2]string{r.PayeeID, r.Currency}
			pay[k] = addPayments(pay[k], toyPayment{1, paid})
		}
	}
	var b bytes.Buffer
	b.WriteString(toyOutputs[0].header)
	for _, r := range results {
		b.WriteString(remittanceCSV(r))
	}
	out["remittance.csv"] = b.String()
	b.Reset()
	b.WriteString(toyOutputs[1].header)
	for _, k := range slices.SortedFunc(maps.Keys(pay), func(a, b [2]string) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) }) {
		fmt.Fprintf(&b, "%s,%s,%d,%s\n", k[0], k[1], pay[k].Lines, pay[k].Paid)
	}
	out["payments.csv"] = b.String()
	b.Reset()
	b.WriteString(toyOutputs[2].header)
	slices.SortFunc(exc, func(a, b toyException) int { return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Row, b.Row)) })
	for _, x := range exc {
		b.WriteString(exceptionCSV(x))
	}
	out["exceptions.csv"] = b.String()
	b.Reset()
	b.WriteString(toyOutputs[3].header)
	for _, m := range slices.Sorted(maps.Keys(used)) {
		if _, hadLines := byMember[m]; hadLines || used[m] != 0 {
			fmt.Fprintf(&b, "%s,%s\n", m, used[m])
		}
	}
	out["state.csv"] = b.String()
	return out
}

// readOutputs returns the published toy files of dir (without the manifest).
func readOutputs(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, o := range toyOutputs {
		b, err := os.ReadFile(dir + "/" + o.kind + ".csv")
		if err != nil {
			t.Fatal(err)
		}
		out[o.kind+".csv"] = string(b)
	}
	return out
}

// toyGenerated is a deterministic toy input of n lines in three "files":
// duplicates within and across files, unknown members, a currency without
// a rate, members with prior state, members past the limit.
func toyGenerated(n int) toyInput {
	var in toyInput
	in.fx = []toyFX{{"USD", 9000}, {"GBP", 11500}}
	members := n/20 + 1
	for m := range members {
		id := fmt.Sprintf("M%05d", m)
		if m%17 == 5 {
			continue // unknown member
		}
		in.spans = append(in.spans, claim.Span{MemberID: id, Start: claim.Date(20000), End: claim.Date(20300)})
		if m%3 == 0 {
			in.spans = append(in.spans, claim.Span{MemberID: id, Start: claim.Date(20400), End: claim.OpenEnd})
		}
		if m%4 == 1 {
			in.states = append(in.states, toyState{MemberID: id, Used: claim.Money(m * 731 % 90000)})
		}
	}
	currencies := []string{"EUR", "EUR", "USD", "GBP", "EUR", "CHF"}
	rng := uint64(42)
	next := func(k uint64) uint64 { rng = rng*6364136223846793005 + 1442695040888963407; return (rng >> 33) % k }
	for i := range n {
		l := claim.Line{
			ClaimID:    fmt.Sprintf("C%06d", next(uint64(n))),
			LineNo:     int32(next(3) + 1),
			MemberID:   fmt.Sprintf("M%05d", next(uint64(members))),
			ProviderID: fmt.Sprintf("P%03d", next(40)),
			Currency:   currencies[next(uint64(len(currencies)))],
			Billed:     claim.Money(next(60000) + 100),
			Source:     int32(i % 3),
			Row:        int64(i/3 + 1),
		}
		l.ServiceDate = claim.Date(20000 + next(500))
		l.ReceivedDate = l.ServiceDate + claim.Date(next(30))
		in.lines = append(in.lines, l)
	}
	return in
}
