package engine

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"claimsbatch/claim"
)

// AppendState appends the Member's state for member id to dst, leaving out
// policy years that ended before keepFrom, duplicate keys of services before
// keepFrom and trips whose last counted date is before keepFrom (pass
// claim.NoDate to keep everything). The order is deterministic.
func (e *Engine) AppendState(m *Member, id string, keepFrom claim.Date, dst []claim.StateRecord) []claim.StateRecord {
	return e.appendState(m, id, keepFrom, dst, true)
}

// AppendAccumulators is AppendState without the DUP records: for a caller
// that writes the duplicate-service keys with its own line records (see
// claim.DupDetail) rather than as records of their own.
func (e *Engine) AppendAccumulators(m *Member, id string, keepFrom claim.Date, dst []claim.StateRecord) []claim.StateRecord {
	return e.appendState(m, id, keepFrom, dst, false)
}

func (e *Engine) appendState(m *Member, id string, keepFrom claim.Date, dst []claim.StateRecord, dups bool) []claim.StateRecord {
	rec := func(kind string, scope claim.Date, key string) claim.StateRecord {
		return claim.StateRecord{Kind: kind, MemberID: id, Scope: scope, Key: key}
	}
	for i := range m.years {
		y := &m.years[i]
		if y.end < keepFrom {
			continue
		}
		r := rec(claim.KindYear, y.start, "")
		r.Detail = y.end.String()
		dst = append(dst, r)
		for slot, v := range y.amounts {
			if v != 0 {
				r := rec(claim.KindAcc, y.start, e.yearAmountNames[slot])
				r.Amount = v
				dst = append(dst, r)
			}
		}
		for slot, v := range y.units {
			if v != 0 {
				r := rec(claim.KindAcc, y.start, e.yearUnitNames[slot])
				r.Count = int64(v)
				dst = append(dst, r)
			}
		}
		conds := slices.Clone(y.conds)
		slices.SortFunc(conds, func(a, b condAcc) int { return strings.Compare(a.category, b.category) })
		for _, c := range conds {
			r := rec(claim.KindCond, y.start, c.category)
			r.Amount = c.paid
			dst = append(dst, r)
		}
		if len(y.oaDates) > 0 {
			r := rec(claim.KindDates, y.start, "out_of_area")
			r.Count, r.Detail = int64(len(y.oaDates)), joinDates(y.oaDates)
			dst = append(dst, r)
		}
		if len(y.originDates) > 0 {
			r := rec(claim.KindDates, y.start, "origin")
			r.Count, r.Detail = int64(len(y.originDates)), joinDates(y.originDates)
			dst = append(dst, r)
		}
	}
	for slot, v := range m.lifetime {
		if v != 0 {
			r := rec(claim.KindLife, claim.NoDate, e.lifetimeNames[slot])
			r.Amount = v
			dst = append(dst, r)
		}
	}
	items := slices.Clone(m.items)
	slices.SortFunc(items, func(a, b itemAcc) int {
		if c := strings.Compare(a.benefit, b.benefit); c != 0 {
			return c
		}
		return strings.Compare(a.item, b.item)
	})
	for _, it := range items {
		if it.paid != 0 {
			r := rec(claim.KindItem, claim.NoDate, it.benefit)
			r.Amount, r.Detail = it.paid, it.item
			dst = append(dst, r)
		}
	}
	trips := slices.Clone(m.trips)
	slices.SortFunc(trips, func(a, b tripAcc) int { return strings.Compare(tripName(a.key), tripName(b.key)) })
	for _, t := range trips {
		if len(t.dates) == 0 || t.dates[len(t.dates)-1] < keepFrom {
			continue
		}
		r := rec(claim.KindTrip, claim.NoDate, tripName(t.key))
		r.Count, r.Detail = int64(len(t.dates)), joinDates(t.dates)
		dst = append(dst, r)
	}
	if m.tripless.set {
		r := rec(claim.KindTripless, m.tripless.end, tripName(m.tripless.key))
		r.Count = int64(m.tripSeq)
		dst = append(dst, r)
	}
	if dups {
		m.allDups(func(d *dupEntry) {
			if d.date >= keepFrom {
				r := rec(claim.KindDup, d.date, d.claimID)
				r.Amount, r.Detail = d.billed, d.key.Detail()
				dst = append(dst, r)
			}
		})
	}
	return dst
}

func tripName(k tripKey) string {
	if k.id != "" {
		return k.id
	}
	return "~" + strconv.Itoa(int(k.seq))
}

func parseTrip(s string) (tripKey, error) {
	if strings.HasPrefix(s, "~") {
		n, err := strconv.Atoi(s[1:])
		if err != nil || n < 1 {
			return tripKey{}, fmt.Errorf("bad inferred trip %q", s)
		}
		return tripKey{seq: int32(n)}, nil
	}
	return tripKey{id: s}, nil
}

func joinDates(ds []claim.Date) string {
	b := make([]byte, 0, len(ds)*11)
	for i, d := range ds {
		if i > 0 {
			b = append(b, ';')
		}
		b = d.AppendTo(b)
	}
	return string(b)
}

func splitDates(s string) ([]claim.Date, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ";")
	out := make([]claim.Date, 0, len(parts))
	for _, p := range parts {
		d, err := claim.ParseDate(p)
		if err != nil {
			return nil, fmt.Errorf("bad date %q", p)
		}
		out = append(out, d)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// LoadState restores a Member (after Reset) from the records of one member
// written by AppendState. Accumulators the plan no longer has are an error, so
// a state written under another plan is never applied silently.
func (e *Engine) LoadState(m *Member, recs []claim.StateRecord) error {
	years := map[claim.Date]claim.Date{}
	for _, r := range recs {
		if r.Kind == claim.KindYear {
			end, err := claim.ParseDate(r.Detail)
			if err != nil {
				return fmt.Errorf("engine: state YEAR %s: bad end %q", r.Scope, r.Detail)
			}
			years[r.Scope] = end
		}
	}
	yearOf := func(r claim.StateRecord) (*yearState, error) {
		end, ok := years[r.Scope]
		if !ok {
			return nil, fmt.Errorf("engine: state %s %s: no YEAR record for %s", r.Kind, r.Key, r.Scope)
		}
		return m.year(r.Scope, end), nil
	}
	sortDups := false
	defer func() {
		if sortDups { // stable: as if recorded one by one (recordService)
			slices.SortStableFunc(m.dups, func(a, b dupEntry) int { return cmp.Compare(a.date, b.date) })
		}
	}()
	for _, r := range recs {
		var err error
		switch r.Kind {
		case claim.KindYear:
			_, err = yearOf(r)
		case claim.KindAcc:
			var y *yearState
			if y, err = yearOf(r); err != nil {
				break
			}
			if i := slices.Index(e.yearAmountNames, r.Key); i >= 0 {
				y.amounts[i] = r.Amount
			} else if i := slices.Index(e.yearUnitNames, r.Key); i >= 0 {
				y.units[i] = int32(r.Count)
			} else {
				err = fmt.Errorf("engine: state ACC: the plan has no accumulator %q", r.Key)
			}
		case claim.KindCond:
			var y *yearState
			if y, err = yearOf(r); err == nil {
				y.condition(r.Key).paid = r.Amount
			}
		case claim.KindDates:
			var y *yearState
			if y, err = yearOf(r); err != nil {
				break
			}
			var ds []claim.Date
			if ds, err = splitDates(r.Detail); err != nil {
				break
			}
			switch r.Key {
			case "out_of_area":
				y.oaDates = append(y.oaDates[:0], ds...)
			case "origin":
				y.originDates = append(y.originDates[:0], ds...)
			default:
				err = fmt.Errorf("engine: state DATES: unknown key %q", r.Key)
			}
		case claim.KindLife:
			if i := slices.Index(e.lifetimeNames, r.Key); i >= 0 {
				m.lifetime[i] = r.Amount
			} else {
				err = fmt.Errorf("engine: state LIFE: the plan has no lifetime limit %q", r.Key)
			}
		case claim.KindItem:
			m.item(r.Key, r.Detail).paid = r.Amount
		case claim.KindTrip:
			var k tripKey
			var ds []claim.Date
			if k, err = parseTrip(r.Key); err == nil {
				if ds, err = splitDates(r.Detail); err == nil {
					t := m.trip(k)
					t.dates = append(t.dates[:0], ds...)
				}
			}
		case claim.KindTripless:
			var k tripKey
			if k, err = parseTrip(r.Key); err == nil {
				m.tripless = tripless{set: true, end: r.Scope, key: k}
				m.tripSeq = int32(r.Count)
			}
		case claim.KindDup:
			k, ok := claim.ParseDupDetail(r.Detail)
			if !ok {
				err = fmt.Errorf("engine: state %s record: malformed duplicate-service key", r.Kind)
				break
			}
			// Sorted once at the end: a state lists them by claim id, and
			// one insertion each would cost a member with a huge history
			// minutes.
			m.dups = append(m.dups, dupEntry{date: r.Scope, billed: r.Amount, key: k, claimID: r.Key})
			sortDups = true
		default:
			err = fmt.Errorf("engine: unknown state kind %q", r.Kind)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Knows reports whether a state record can be loaded under this engine's
// plan: its accumulator, lifetime limit or benefit exists. Records of other
// kinds do not depend on the plan.
func (e *Engine) Knows(r claim.StateRecord) bool {
	switch r.Kind {
	case claim.KindAcc:
		return slices.Contains(e.yearAmountNames, r.Key) || slices.Contains(e.yearUnitNames, r.Key)
	case claim.KindLife:
		return slices.Contains(e.lifetimeNames, r.Key)
	case claim.KindItem:
		_, _, ok := e.plan.Lookup(r.Key)
		return ok
	case claim.KindYear, claim.KindCond, claim.KindDates, claim.KindTrip, claim.KindTripless, claim.KindDup:
		return true
	}
	return false
}
