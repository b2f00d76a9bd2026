// Package synth generates synthetic claimsbatch inputs: a members file, a
// claims file and an FX file that together exercise every adjudication rule
// of SPEC sections 3-6, in CSV, gzip-compressed CSV or Parquet.
//
// The data is built for tests and benchmarks, so it is realistic where the
// rules care: members hold one or two coverage spans (renewals, lapses,
// 29 February starts, spans that end), three plan currencies, cost-share
// options from the plan's lists (or empty, to use the default), children and
// pensioners; claim lines are skewed across members (most have a few, some
// hundreds), carry stays with nights for day-limited benefits, wigs and bras,
// ICD-10 diagnoses, out-of-area emergencies with and without trip ids,
// treatment in the country of origin, foreign currencies, duplicate services
// and service dates before, after and between spans.
//
// Coverage starts between 2021-01-01 and 2024-12-31; service dates run from
// 20 days before a member's first span to 2025-12-31 (or 30 days after the
// last span ends), received dates 0-60 days later; the FX file covers
// 2020-01-01 to 2026-12-31.
//
// # Bad rows
//
// With Config.BadShare > 0, that share of claim rows is made bad on purpose,
// rotating among: an empty required field, a date that does not parse, an
// amount with 3 decimals, a negative amount, service_end_date before
// service_date, emergency "X", an unknown benefit code, an unknown member id
// (a real id with one digit too many), a currency with no FX rate, a repeated
// (claim_id, line_no) and, in CSV only, a row with a wrong field count.
// Parquet's typed columns cannot hold a bad date, a 3-decimal amount or a
// wrong field count, so those kinds are left out there. Result.BadRows counts
// them: each is a row the pipeline must turn into an exception. Repeated
// (claim_id, line_no) rows therefore appear only with BadShare > 0, while
// duplicate services (the same service under another claim id, which the
// engine denies OA-18) appear always. About 0.2 % of members (never more than
// BadShare) are made invalid too: an option outside the plan's list, or two
// overlapping spans. Result.BadMembers counts them; their claim rows are not
// counted as bad, though the pipeline rejects them as INVALID_MEMBER.
//
// # Order and memory
//
// Members are generated in blocks of 1000. Each block's member rows are
// written, then its claim lines are generated, sorted and written before the
// next block starts, so memory stays flat whatever the number of lines (a
// member with very many lines is generated in date slices, and at most about
// 160 000 lines are held at once). With Config.Sorted the claims file is
// ordered by (member_id, service_date); otherwise each block (or each part of
// 131 072 lines, for blocks with more) is ordered by received_date, the way a
// daily extract interleaves members. Claim ids are
// numbered in file order. Files are written by background goroutines (and
// Parquet encoded there), one row group per 65 536 rows.
//
// # Determinism
//
// Every random draw comes from a math/rand/v2 PCG source seeded from
// Config.Seed (one stream per block, one for the FX rates), through integer
// arithmetic only, and no map is iterated: the same Config gives
// byte-identical files on every platform (for Parquet, with the same version
// of the arrow-go library).
//
// It may import only claim and plan.
package synth

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"

	"claimsbatch/claim"
	"claimsbatch/plan"
)

// Config says what to generate. The zero value of each field is usable
// except Dir and Lines.
type Config struct {
	Dir      string     // output directory, created if missing
	Members  int        // number of members; 0 = Lines/20 (at least 1)
	Lines    int64      // number of claim lines (rows of the claims file)
	Seed     int64      // same Seed and Config = byte-identical files
	Format   string     // "csv" (default), "csv.gz" or "parquet"
	BadShare float64    // share of claim rows made bad on purpose; 0 = none
	Plan     *plan.Plan // nil = plan.Default()
	Sorted   bool       // claims ordered by (member_id, service_date); false = interleaved by received_date per block of members
}

// Result reports the files written and their row counts (headers excluded).
type Result struct {
	MembersPath, ClaimsPath, FXPath string
	MemberRows, ClaimRows, FXRows   int64
	BadRows                         int64 // claim rows made bad on purpose (Config.BadShare)
	BadMembers                      int64 // members made invalid on purpose
}

// ErrConfig is wrapped by the errors Generate returns for an unusable Config.
var ErrConfig = errors.New("synth: invalid config")

// Sizes that bound memory: members per block, lines per slice of one member,
// and lines held before a sort-and-write.
const (
	blockMembers = 1000
	sliceLines   = 1 << 15
	flushLines   = 1 << 17
)

// Claims columns, in file order.
const (
	colClaimID = iota
	colLineNo
	colMemberID
	colServiceDate
	colServiceEndDate
	colReceivedDate
	colBenefitCode
	colDiagnosisCode
	colItemCode
	colCountry
	colEmergency
	colTripID
	colProviderID
	colPayee
	colCurrency
	colBilledAmount
	colUnits
	numClaimCols
)

var claimColumns = [numClaimCols]string{
	"claim_id", "line_no", "member_id", "service_date", "service_end_date", "received_date",
	"benefit_code", "diagnosis_code", "item_code", "country", "emergency", "trip_id",
	"provider_id", "payee", "currency", "billed_amount", "units",
}

var memberColumns = []string{
	"member_id", "policy_id", "coverage_start", "coverage_end", "date_of_birth",
	"residence_country", "origin_country", "us_cover", "plan_currency", "modules",
	"core_deductible", "core_coinsurance", "core_oop_max",
	"outpatient_deductible", "outpatient_coinsurance", "outpatient_oop_max",
}

var fxColumns = []string{"date", "currency", "plan_currency", "rate"}

// Generate writes members.<ext>, claims.<ext> and fx.<ext> into cfg.Dir. Each
// file is written under a temporary name and renamed when complete; on error
// or cancellation no file that looks complete is left behind.
func Generate(ctx context.Context, cfg Config) (Result, error) {
	g, err := newGen(cfg)
	if err != nil {
		return Result{}, err
	}
	out, err := openOutputs(ctx, g.cfg)
	if err != nil {
		return Result{}, err
	}
	defer out.abort() // no-op after commit
	g.out = out

	if err := g.writeFX(ctx); err != nil {
		return Result{}, err
	}
	if err := g.writeMembersAndClaims(ctx); err != nil {
		return Result{}, err
	}
	if err := out.commit(); err != nil {
		return Result{}, err
	}
	return Result{
		MembersPath: out.members.final,
		ClaimsPath:  out.claims.final,
		FXPath:      out.fx.final,
		MemberRows:  g.memberRows,
		ClaimRows:   g.claimRows,
		FXRows:      g.fxRows,
		BadRows:     g.badRows,
		BadMembers:  g.badMembers,
	}, nil
}

// gen holds the tables built once from the plan and the running state.
type gen struct {
	cfg  Config
	plan *plan.Plan

	// Per benefit id.
	profiles   []profile
	modules    []claim.Module
	dayLimited []bool
	cash       []bool

	anyBenefit   pickTable
	memberTables [8][]pickTable // by module set (core, outpatient, dental bits) and age bucket
	moduleTables [4][]pickTable // by module and age bucket
	ageBucket    []uint8        // age 0..150 -> bucket

	currencies     []currencyInfo // billing currencies; the FX file covers each against each plan currency
	countryCur     []uint8        // country index -> currency index
	planCurIdx     []uint8        // plan currency index -> currency index
	planCurTable   weighted
	residenceTable weighted

	badThreshold     uint64 // a line is bad when a uniform uint64 draw is below it
	badMemberPer100k int
	badKinds         []badKind

	memberWidth, claimWidth int

	// Running state.
	badRotation           int
	forced                int
	claimSeq              int64
	buf                   []line
	keys                  []sortKey
	claimNo, prevClaimSeq int64
	memberRows, claimRows int64
	fxRows                int64
	badRows, badMembers   int64
	blockMembers          []member
	out                   *outputs
	weights               []int64
}

func newGen(cfg Config) (*gen, error) {
	switch {
	case cfg.Dir == "":
		return nil, fmt.Errorf("%w: Dir is empty", ErrConfig)
	case cfg.Lines < 0:
		return nil, fmt.Errorf("%w: Lines %d is negative", ErrConfig, cfg.Lines)
	case cfg.Members < 0:
		return nil, fmt.Errorf("%w: Members %d is negative", ErrConfig, cfg.Members)
	case !(cfg.BadShare >= 0 && cfg.BadShare <= 1):
		return nil, fmt.Errorf("%w: BadShare %v is not between 0 and 1", ErrConfig, cfg.BadShare)
	}
	switch cfg.Format {
	case "":
		cfg.Format = "csv"
	case "csv", "csv.gz", "parquet":
	default:
		return nil, fmt.Errorf("%w: Format %q (want csv, csv.gz or parquet)", ErrConfig, cfg.Format)
	}
	if cfg.Members == 0 {
		cfg.Members = int(max(1, cfg.Lines/20))
	}
	if cfg.Plan == nil {
		cfg.Plan = plan.Default()
	}
	p := cfg.Plan
	if len(p.Benefits) == 0 || len(p.Benefits) > 1<<15 {
		return nil, fmt.Errorf("%w: plan %s has %d benefits", ErrConfig, p.Name, len(p.Benefits))
	}
	g := &gen{cfg: cfg, plan: p}

	// Benefit tables.
	bounds := ageBounds(p)
	g.ageBucket = make([]uint8, 151)
	for age := range g.ageBucket {
		for _, b := range bounds {
			if age >= b {
				g.ageBucket[age]++
			}
		}
	}
	nBuckets := len(bounds) + 1
	representative := make([]int, nBuckets) // an age inside each bucket
	for age := len(g.ageBucket) - 1; age >= 0; age-- {
		representative[g.ageBucket[age]] = age
	}
	for i := range g.memberTables {
		g.memberTables[i] = make([]pickTable, nBuckets)
	}
	for i := range g.moduleTables {
		g.moduleTables[i] = make([]pickTable, nBuckets)
	}
	for id := range p.Benefits {
		b := &p.Benefits[id]
		pr := benefitProfile(p, b)
		g.profiles = append(g.profiles, pr)
		g.modules = append(g.modules, b.Module)
		g.dayLimited = append(g.dayLimited, dayLimited(p, b))
		g.cash = append(g.cash, b.IsCash())
		g.anyBenefit.add(id, pr.weight)
		for bucket, age := range representative {
			if !ageOK(b, age) {
				continue
			}
			g.moduleTables[b.Module][bucket].add(id, pr.weight)
			for set := range g.memberTables {
				if claim.ModuleSet(set << 1).Has(b.Module) {
					g.memberTables[set][bucket].add(id, pr.weight)
				}
			}
		}
	}

	// Currencies: the base list plus any plan currency it lacks.
	g.currencies = slices.Clone(baseCurrencies)
	for _, c := range p.Currencies {
		if g.currencyIndex(c) < 0 {
			g.currencies = append(g.currencies, currencyInfo{code: c, usdMicro: 1_000_000, daily: true})
		}
	}
	if len(g.currencies) > 255 {
		return nil, fmt.Errorf("%w: plan %s has too many currencies", ErrConfig, p.Name)
	}
	for _, c := range countries {
		g.countryCur = append(g.countryCur, uint8(g.currencyIndex(c.currency)))
	}
	for _, c := range p.Currencies {
		g.planCurIdx = append(g.planCurIdx, uint8(g.currencyIndex(c)))
		w := 10
		switch c {
		case "USD":
			w = 60
		case "EUR":
			w = 25
		case "GBP":
			w = 15
		}
		g.planCurTable.add(w)
	}
	for _, c := range countries {
		g.residenceTable.add(c.weight)
	}

	// Bad rows.
	if cfg.BadShare > 0 {
		if cfg.BadShare >= 1 {
			g.badThreshold = ^uint64(0)
		} else {
			g.badThreshold = uint64(cfg.BadShare * (1 << 64))
		}
		g.badMemberPer100k = int(min(cfg.BadShare, 0.002)*100000 + 0.5)
		g.badKinds = []badKind{badEmptyField, badNegative, badEndBeforeStart, badEmergency,
			badBenefit, badMember, badCurrency, badRepeat}
		if cfg.Format != "parquet" {
			g.badKinds = append(g.badKinds, badDate, badThreeDecimals, badFieldCount)
		}
	}

	g.memberWidth = max(7, digits(int64(cfg.Members)))
	g.claimWidth = max(9, digits(cfg.Lines))
	return g, nil
}

func (g *gen) currencyIndex(code string) int {
	for i, c := range g.currencies {
		if c.code == code {
			return i
		}
	}
	return -1
}

func digits(n int64) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

// weighted draws an index by integer weight.
type weighted struct{ cum []int }

func (w *weighted) add(weight int) {
	total := 0
	if n := len(w.cum); n > 0 {
		total = w.cum[n-1]
	}
	w.cum = append(w.cum, total+weight)
}

func (w *weighted) pickIndex(r *rng) int {
	x := r.n(w.cum[len(w.cum)-1])
	for i, c := range w.cum {
		if x < c {
			return i
		}
	}
	return len(w.cum) - 1
}

// writeMembersAndClaims generates the members block by block and, for each
// block, its claim lines.
func (g *gen) writeMembersAndClaims(ctx context.Context) error {
	n := int64(g.cfg.Members)
	total := g.cfg.Lines
	g.blockMembers = make([]member, 0, blockMembers)
	for first, block := int64(0), uint64(0); first < n; first, block = first+blockMembers, block+1 {
		if err := ctx.Err(); err != nil {
			return err
		}
		last := min(first+blockMembers, n)
		r := newRNG(g.cfg.Seed, 2*block+1)
		g.blockMembers = g.blockMembers[:last-first]
		for i := range g.blockMembers {
			m := &g.blockMembers[i]
			g.newMember(r, first+int64(i)+1, m)
			if m.invalid {
				g.badMembers++
			}
			if err := g.out.membersW.member(g, m); err != nil {
				return err
			}
			g.memberRows += int64(m.nSpans)
		}

		// This block's share of the lines, spread over its members by weight.
		blockLines := mulDiv(total, last, n) - mulDiv(total, first, n)
		var weightSum int64
		weights := g.weights[:0]
		for i := range g.blockMembers {
			w := lineWeight(r)
			if g.blockMembers[i].modules == claim.ModuleSet(0).With(claim.Core) {
				w = (w + 2) / 3 // hospital-only cover: fewer, bigger claims
			} else {
				w *= 2
			}
			weights = append(weights, w)
		}
		g.weights = weights
		for i := range weights {
			weightSum += weights[i]
		}
		if weightSum == 0 {
			weights[0], weightSum = 1, 1
		}
		var cum int64
		for i := range g.blockMembers {
			before := mulDiv(blockLines, cum, weightSum)
			cum += weights[i]
			g.blockMembers[i].lines = mulDiv(blockLines, cum, weightSum) - before
		}

		for i := range g.blockMembers {
			m := &g.blockMembers[i]
			if m.lines == 0 {
				continue
			}
			// A member with very many lines is generated in date slices, each
			// sorted on its own, so memory stays bounded.
			slicesN := (m.lines + sliceLines - 1) / sliceLines
			span := int64(m.winTo-m.winFrom) + 1
			if slicesN > span {
				slicesN = span
			}
			for s := int64(0); s < slicesN; s++ {
				from := m.winFrom + claim.Date(mulDiv(span, s, slicesN))
				to := m.winFrom + claim.Date(mulDiv(span, s+1, slicesN)) - 1
				lines := mulDiv(m.lines, s+1, slicesN) - mulDiv(m.lines, s, slicesN)
				g.memberLines(r, m, from, to, lines, s == 0)
				if len(g.buf) >= flushLines {
					if err := g.flush(ctx); err != nil {
						return err
					}
				}
			}
		}
		if err := g.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

// sortKey orders the buffered lines: hi then lo, then the index (stable).
type sortKey struct {
	hi, lo uint64
	idx    int32
}

// flush sorts the buffered lines and writes them.
func (g *gen) flush(ctx context.Context) error {
	if len(g.buf) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	g.keys = g.keys[:0]
	for i := range g.buf {
		l := &g.buf[i]
		lo := uint64(l.claimSeq)<<8 | uint64(l.lineNo)<<1
		if l.bad == badRepeat {
			lo |= 1
		}
		var hi uint64
		if g.cfg.Sorted {
			ord := uint64(l.member)<<1 | 1
			if l.bad == badMember {
				ord &^= 1 // before the member's rows: its id sorts just below
			}
			hi = ord<<32 | uint64(uint32(l.service))
		} else {
			rec := l.received
			if rec == claim.NoDate {
				rec = l.service
			}
			hi = uint64(uint32(rec))<<32 | uint64(l.claimRand)
		}
		g.keys = append(g.keys, sortKey{hi: hi, lo: lo, idx: int32(i)})
	}
	slices.SortFunc(g.keys, func(a, b sortKey) int {
		switch {
		case a.hi < b.hi:
			return -1
		case a.hi > b.hi:
			return 1
		case a.lo < b.lo:
			return -1
		case a.lo > b.lo:
			return 1
		}
		return int(a.idx - b.idx)
	})
	w := g.out.claimsW
	for _, k := range g.keys {
		l := &g.buf[k.idx]
		if l.claimSeq != g.prevClaimSeq {
			g.claimNo++
			g.prevClaimSeq = l.claimSeq
		}
		if err := w.line(g, l, g.claimNo); err != nil {
			return err
		}
	}
	g.claimRows += int64(len(g.buf))
	g.buf = g.buf[:0]
	return nil
}

// mulDiv returns a×b/c for non-negative values without overflow (c > 0).
func mulDiv(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	q, _ := bits.Div64(hi, lo, uint64(c))
	return int64(q)
}
