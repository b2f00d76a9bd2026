package importer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"claimsbatch/claim"
	"claimsbatch/plan"
)

// ParseSetting reads a --set argument KEY=VALUE.
func ParseSetting(s string) (Setting, error) {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return Setting{}, fmt.Errorf("%w: --set %q: want KEY=VALUE, e.g. residence_country=AU", ErrConfig, s)
	}
	return Setting{Key: k, Value: strings.TrimSpace(v)}, nil
}

// columnValues are the values of the columns a block does not map: the
// profile's defaults with the --set overrides on top, per target and column.
type columnValues struct {
	val [][]string
	has [][]bool
}

// settle applies the defaults, then the overrides. An override must name a
// column of what the profile makes that some block does not map.
func (p *Profile) settle(set []Setting) (*columnValues, error) {
	cv := &columnValues{val: make([][]string, len(targets)), has: make([][]bool, len(targets))}
	for ti, t := range targets {
		cv.val[ti] = make([]string, len(t.columns))
		cv.has[ti] = make([]bool, len(t.columns))
	}
	apply := func(s Setting) error {
		tcs, err := p.settingTargets(s.Key)
		if err != nil {
			return err
		}
		for _, tc := range tcs {
			cv.val[tc.target][tc.col], cv.has[tc.target][tc.col] = s.Value, true
		}
		return nil
	}
	for _, d := range p.defaults {
		if err := apply(d); err != nil {
			return nil, fmt.Errorf("%w: defaults.%s: %v", ErrProfile, d.Key, err)
		}
	}
	var problems []string
	for _, s := range set {
		if err := apply(s); err != nil {
			problems = append(problems, fmt.Sprintf("--set %s: %v", s.Key, err))
			continue
		}
		tcs, _ := p.settingTargets(s.Key)
		used := false
		for _, tc := range tcs {
			for _, b := range p.blocks[tc.target] {
				used = used || (b.cols[tc.col] == nil && !b.computes(targets[tc.target].columns[tc.col].name))
			}
		}
		if !used {
			problems = append(problems, fmt.Sprintf("--set %s: every block maps this column from the source, so a value set here would be used nowhere", s.Key))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrConfig, strings.Join(problems, "; "))
	}
	return cv, nil
}

// checkPlan checks what the profile itself decides against the plan: the
// benefit codes its code tables and constants give, and the member values
// that come from defaults and --set (plan currency, modules, cost-share
// options). A value a source row supplies is checked by `claimsbatch run`.
func (p *Profile) checkPlan(pl *plan.Plan, cv *columnValues) error {
	var problems []string
	benefit := func(where, code string) {
		if code == "" {
			return
		}
		if _, _, ok := pl.Lookup(code); !ok {
			problems = append(problems, fmt.Sprintf("%s: benefit code %s is not in plan %s", where, code, pl.Name))
		}
	}
	seen := map[*codeTable]bool{}
	for _, bm := range p.benefitMappings {
		for _, u := range bm.m.valueTables() {
			if seen[u.t] {
				continue
			}
			seen[u.t] = true
			for _, r := range u.t.rows {
				benefit(fmt.Sprintf("table %s (%s) line %d", u.t.name, u.t.file, r.line), r.values[u.col])
			}
		}
		for _, c := range bm.m.constants() {
			benefit(bm.key, c)
		}
	}
	ci := claimsTarget.column("benefit_code")
	if cv.has[0][ci] {
		benefit("benefit_code (default or --set)", cv.val[0][ci])
	}

	mi := slices.Index(targets, membersTarget)
	val := func(col string) (string, bool) {
		i := membersTarget.column(col)
		return cv.val[mi][i], cv.has[mi][i]
	}
	cur := -1
	if c, ok := val("plan_currency"); ok {
		if cur = pl.CurrencyIndex(c); cur < 0 {
			problems = append(problems, fmt.Sprintf("plan_currency %s is not a currency of plan %s (%s)", c, pl.Name, strings.Join(pl.Currencies, ", ")))
		}
	}
	if m, ok := val("modules"); ok {
		hasCore := false
		for _, name := range strings.Split(m, ";") {
			mod, ok := claim.ParseModule(strings.TrimSpace(name))
			if !ok || !pl.Modules[mod].Present {
				problems = append(problems, fmt.Sprintf("modules %q: %q is not a module of plan %s", m, name, pl.Name))
			}
			hasCore = hasCore || (ok && mod == claim.Core)
		}
		if !hasCore {
			problems = append(problems, fmt.Sprintf("modules %q: core is mandatory", m))
		}
	}
	if u, ok := val("us_cover"); ok && u != "" && u != "Y" && u != "N" {
		problems = append(problems, fmt.Sprintf("us_cover %q: want Y or N", u))
	}
	for _, mod := range []claim.Module{claim.Core, claim.Outpatient} {
		md := &pl.Modules[mod]
		name := mod.String()
		if v, ok := val(name + "_deductible"); ok && v != "" && cur >= 0 && md.Deductibles != nil {
			if a, err := claim.ParseMoney(v); err != nil || !slices.Contains(md.Deductibles[cur], a) {
				problems = append(problems, fmt.Sprintf("%s_deductible %s is not one of the plan's options in %s (%s)", name, v, pl.Currencies[cur], moneyList(md.Deductibles[cur])))
			}
		}
		if v, ok := val(name + "_oop_max"); ok && v != "" && cur >= 0 && md.OOPMaximums != nil {
			if a, err := claim.ParseMoney(v); err != nil || !slices.Contains(md.OOPMaximums[cur], a) {
				problems = append(problems, fmt.Sprintf("%s_oop_max %s is not one of the plan's options in %s (%s)", name, v, pl.Currencies[cur], moneyList(md.OOPMaximums[cur])))
			}
		}
		if v, ok := val(name + "_coinsurance"); ok && v != "" {
			d, err := decimal.NewFromString(v)
			if err != nil || !slices.Contains(md.Coinsurance, d.Shift(2).IntPart()) || !d.Shift(2).Equal(d.Shift(2).Truncate(0)) {
				problems = append(problems, fmt.Sprintf("%s_coinsurance %s is not one of the plan's options (percent)", name, v))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: checked against plan %s: %s", ErrConfig, pl.Name, strings.Join(problems, "; "))
	}
	return nil
}

func moneyList(list []claim.Money) string {
	out := make([]string, len(list))
	for i, m := range list {
		out[i] = m.String()
	}
	return strings.Join(out, ", ")
}
