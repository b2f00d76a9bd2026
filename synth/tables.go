package synth

import (
	"sort"

	"claimsbatch/claim"
	"claimsbatch/plan"
)

// horizon is the last service date the generator produces: the "extract date"
// of the synthetic book. Received dates run up to 60 days past it, and the FX
// file covers fxFirst..fxLast so every generated date has a rate.
var (
	horizon = claim.FromCivil(2025, 12, 31)
	fxFirst = claim.FromCivil(2020, 1, 1)
	fxLast  = claim.FromCivil(2026, 12, 31)
)

// currencyInfo is a currency the generator bills in, with a fixed reference
// value in micro-USD used to scale amounts and to seed the FX random walk.
type currencyInfo struct {
	code     string
	usdMicro int64 // value of one unit in millionths of a USD
	daily    bool  // FX rates published daily (else weekly)
	whole    bool  // amounts usually have no cents (JPY)
}

// baseCurrencies lists every currency that appears on valid claim rows. The
// FX file has a rate for each of them against each plan currency.
var baseCurrencies = []currencyInfo{
	{"USD", 1_000_000, true, false},
	{"EUR", 1_080_000, true, false},
	{"GBP", 1_270_000, true, false},
	{"CHF", 1_130_000, true, false},
	{"SGD", 740_000, false, false},
	{"AED", 272_300, false, false},
	{"THB", 28_500, false, false},
	{"HKD", 128_000, false, false},
	{"JPY", 6_800, false, true},
	{"CAD", 730_000, false, false},
	{"AUD", 660_000, false, false},
}

// noRateCurrencies are valid ISO codes the FX file deliberately has no rate
// for (the NO_FX_RATE bad rows).
var noRateCurrencies = []string{"BRL", "ZAR", "INR"}

// countryInfo is a country of residence or treatment and the currency its
// providers bill in.
type countryInfo struct {
	code     string
	currency string
	weight   int // how often it is somebody's residence
}

var countries = []countryInfo{
	{"US", "USD", 14}, {"CA", "CAD", 3}, {"GB", "GBP", 12}, {"IE", "EUR", 3},
	{"FR", "EUR", 10}, {"DE", "EUR", 8}, {"ES", "EUR", 7}, {"IT", "EUR", 5},
	{"NL", "EUR", 4}, {"BE", "EUR", 3}, {"PT", "EUR", 4}, {"CH", "CHF", 5},
	{"AE", "AED", 6}, {"SG", "SGD", 5}, {"HK", "HKD", 4}, {"TH", "THB", 4},
	{"JP", "JPY", 2}, {"AU", "AUD", 3},
}

var countryUS = func() uint8 {
	for i, c := range countries {
		if c.code == "US" {
			return uint8(i)
		}
	}
	panic("synth: US missing from the country table")
}()

// Diagnosis codes (ICD-10), grouped by the kind of care they go with.
var diagnoses = []string{
	// 0-5 cancer
	"C50.9", "C34.90", "C18.9", "C61", "C43.9", "C91.10",
	// 6-9 mental health
	"F32.1", "F41.1", "F33.2", "F20.9",
	// 10-11 kidney
	"N18.6", "N18.5",
	// 12 pandemic
	"U07.1",
	// 13-18 musculoskeletal and injury
	"M54.5", "S72.001A", "M17.11", "S82.201A", "M75.100", "I63.9",
	// 19-28 general inpatient
	"J18.9", "K35.80", "I21.4", "K80.20", "N39.0", "A09", "I50.9", "J44.1", "S06.0X0A", "K56.60",
	// 29-38 outpatient
	"J06.9", "E11.9", "I10", "Z00.00", "R51.9", "J45.909", "L30.9", "H10.9", "K21.9", "E78.5",
	// 39-41 dental
	"K02.9", "K08.89", "S02.5XXA",
	// 42-43 preventive
	"Z23", "Z12.4",
}

type diagPool struct{ from, to int } // half-open range in diagnoses

var (
	poolCancer   = diagPool{0, 6}
	poolMental   = diagPool{6, 10}
	poolKidney   = diagPool{10, 12}
	poolPandemic = diagPool{12, 13}
	poolMusculo  = diagPool{13, 19}
	poolInpat    = diagPool{13, 29}
	poolOutpat   = diagPool{29, 39}
	poolDental   = diagPool{39, 42}
	poolPrevent  = diagPool{42, 44}
)

// chronicConditions are the diagnoses a member may carry through many claims,
// so that the per-condition cap accumulates.
var chronicConditions = []int16{0, 1, 2, 3, 6, 7, 10, 30, 31, 13, 34}

// profile is how the generator draws lines of one benefit. Amounts are in USD
// cents and converted to the billing currency.
type profile struct {
	weight   int32 // relative frequency among eligible benefits
	lo, hi   int64 // billed range, USD cents (per night when perNight)
	perNight bool
	stay     bool // has a service_end_date (1-20 nights)
	units    int32
	pool     diagPool
	items    []string // item codes to draw from (required when the benefit is limited per item)
}

var knownProfiles = map[string]profile{
	"HOSPITAL_ACCOMMODATION":     {weight: 20, lo: 60000, hi: 250000, perNight: true, stay: true, pool: poolInpat},
	"INTENSIVE_CARE":             {weight: 3, lo: 200000, hi: 600000, perNight: true, stay: true, pool: poolInpat},
	"SURGEON_ANAESTHETIST":       {weight: 12, lo: 80000, hi: 2500000, pool: poolInpat},
	"SPECIALIST_INPATIENT":       {weight: 12, lo: 15000, hi: 150000, pool: poolInpat},
	"KIDNEY_DIALYSIS":            {weight: 4, lo: 30000, hi: 90000, pool: poolKidney},
	"PATHOLOGY_RADIOLOGY":        {weight: 12, lo: 8000, hi: 200000, pool: poolInpat},
	"ADVANCED_IMAGING":           {weight: 10, lo: 40000, hi: 350000, pool: poolInpat},
	"PHYSIOTHERAPY":              {weight: 4, lo: 6000, hi: 25000, pool: poolMusculo},
	"REHABILITATION":             {weight: 4, lo: 15000, hi: 60000, perNight: true, stay: true, pool: poolMusculo},
	"MENTAL_HEALTH_INPATIENT":    {weight: 3, lo: 40000, hi: 120000, perNight: true, stay: true, pool: poolMental},
	"MENTAL_HEALTH_OUTPATIENT":   {weight: 12, lo: 10000, hi: 30000, pool: poolMental},
	"CANCER_TREATMENT":           {weight: 5, lo: 100000, hi: 3000000, pool: poolCancer},
	"CANCER_DEVICE":              {weight: 3, lo: 4000, hi: 60000, pool: poolCancer, items: []string{"WIG", "BRA"}},
	"PALLIATIVE_CARE":            {weight: 2, lo: 20000, hi: 80000, perNight: true, stay: true, pool: poolCancer},
	"PROSTHESIS_INTERNAL":        {weight: 2, lo: 300000, hi: 3000000, pool: poolMusculo},
	"PROSTHESIS_EXTERNAL":        {weight: 2, lo: 50000, hi: 800000, pool: poolMusculo},
	"LOCAL_AMBULANCE":            {weight: 5, lo: 20000, hi: 250000, pool: poolInpat},
	"EMERGENCY_DENTAL_INPATIENT": {weight: 2, lo: 30000, hi: 300000, pool: poolDental},
	"MEDICAL_EVACUATION":         {weight: 1, lo: 500000, hi: 8000000, pool: poolInpat},
	"REPATRIATION":               {weight: 1, lo: 500000, hi: 12000000, pool: poolInpat},
	"MORTAL_REMAINS":             {weight: 1, lo: 300000, hi: 3000000, pool: poolInpat},
	"PANDEMIC_CASH":              {weight: 3, lo: 0, hi: 300000, stay: true, pool: poolPandemic},

	"OP_CONSULTATION":            {weight: 200, lo: 5000, hi: 40000, pool: poolOutpat},
	"OP_TELEHEALTH":              {weight: 50, lo: 3000, hi: 15000, pool: poolOutpat},
	"OP_PATHOLOGY_RADIOLOGY":     {weight: 80, lo: 3000, hi: 80000, pool: poolOutpat},
	"OP_PHYSIOTHERAPY":           {weight: 40, lo: 5000, hi: 20000, pool: poolMusculo},
	"OP_OSTEOPATHY_CHIROPRACTIC": {weight: 20, lo: 5000, hi: 15000, pool: poolMusculo},
	"OP_ACUPUNCTURE_TCM":         {weight: 10, lo: 4000, hi: 15000, pool: poolMusculo},
	"OP_PRESCRIPTION_DRUGS":      {weight: 150, lo: 1000, hi: 40000, units: 3, pool: poolOutpat},
	"OP_DME_RENTAL":              {weight: 10, lo: 5000, hi: 120000, pool: poolMusculo},
	"OP_ADULT_VACCINES":          {weight: 20, lo: 3000, hi: 25000, pool: poolPrevent},
	"OP_ACCIDENT_DENTAL":         {weight: 10, lo: 10000, hi: 150000, pool: poolDental},
	"OP_CHILD_WELLNESS":          {weight: 60, lo: 8000, hi: 40000, pool: poolPrevent},
	"OP_CHILD_VACCINES":          {weight: 60, lo: 3000, hi: 30000, pool: poolPrevent},
	"OP_CHILD_EYE_HEARING":       {weight: 40, lo: 5000, hi: 25000, pool: poolPrevent},
	"OP_ADULT_PHYSICAL":          {weight: 20, lo: 10000, hi: 50000, pool: poolPrevent},
	"OP_SCREEN_CERVICAL":         {weight: 8, lo: 8000, hi: 40000, pool: poolPrevent},
	"OP_SCREEN_PROSTATE":         {weight: 8, lo: 8000, hi: 40000, pool: poolPrevent},
	"OP_SCREEN_BREAST":           {weight: 8, lo: 10000, hi: 60000, pool: poolPrevent},
	"OP_SCREEN_BOWEL":            {weight: 6, lo: 10000, hi: 60000, pool: poolPrevent},
	"OP_SCREEN_SKIN":             {weight: 6, lo: 8000, hi: 30000, pool: poolPrevent},
	"OP_SCREEN_LUNG":             {weight: 4, lo: 15000, hi: 60000, pool: poolPrevent},
	"OP_BONE_DENSITY":            {weight: 4, lo: 10000, hi: 40000, pool: poolPrevent},

	"DENTAL_PREVENTIVE": {weight: 50, lo: 5000, hi: 30000, pool: poolDental},
	"DENTAL_ROUTINE":    {weight: 50, lo: 8000, hi: 100000, pool: poolDental},
	"DENTAL_MAJOR":      {weight: 20, lo: 30000, hi: 200000, pool: poolDental},
}

// benefitProfile returns the profile of benefit b: the known one for the Close
// Care codes, else a default from its module, so that an altered plan with new
// codes still gets sensible lines.
func benefitProfile(p *plan.Plan, b *plan.Benefit) profile {
	pr, ok := knownProfiles[b.Code]
	if !ok {
		switch b.Module {
		case claim.Core:
			pr = profile{weight: 10, lo: 20000, hi: 1000000, pool: poolInpat}
		case claim.Outpatient:
			pr = profile{weight: 20, lo: 5000, hi: 40000, pool: poolOutpat}
		default:
			pr = profile{weight: 30, lo: 5000, hi: 150000, pool: poolDental}
		}
		if b.Days > 0 || b.IsCash() {
			pr.stay = true
		}
	}
	if b.LimitPerItem && len(pr.items) == 0 {
		pr.items = []string{"WIG", "BRA"}
	}
	return pr
}

// dayLimited reports whether units of b count days or nights (SPEC 3.1).
func dayLimited(p *plan.Plan, b *plan.Benefit) bool {
	if b.Days > 0 || b.IsCash() {
		return true
	}
	return b.Group >= 0 && p.Groups[b.Group].Days > 0
}

// pickTable draws a benefit id by integer weight.
type pickTable struct {
	cum []int32 // cumulative weights
	ids []int16
}

func (t *pickTable) add(id int, w int32) {
	if w <= 0 {
		return
	}
	total := int32(0)
	if n := len(t.cum); n > 0 {
		total = t.cum[n-1]
	}
	t.cum = append(t.cum, total+w)
	t.ids = append(t.ids, int16(id))
}

func (t *pickTable) empty() bool { return len(t.cum) == 0 }

func (t *pickTable) pick(r uint32) int16 {
	total := uint32(t.cum[len(t.cum)-1])
	x := int32(uint64(r) * uint64(total) >> 32)
	i := sort.Search(len(t.cum), func(i int) bool { return t.cum[i] > x })
	return t.ids[i]
}

// ageBounds returns the ages at which some benefit's age rule changes, so that
// members can be put in age buckets with one benefit table per bucket.
func ageBounds(p *plan.Plan) []int {
	var bounds []int
	addBound := func(a int) {
		for _, b := range bounds {
			if b == a {
				return
			}
		}
		bounds = append(bounds, a)
	}
	for i := range p.Benefits {
		b := &p.Benefits[i]
		if b.MinAge >= 0 {
			addBound(b.MinAge)
		}
		if b.MaxAge >= 0 {
			addBound(b.MaxAge + 1)
		}
	}
	sort.Ints(bounds)
	return bounds
}

func ageOK(b *plan.Benefit, age int) bool {
	return (b.MinAge < 0 || age >= b.MinAge) && (b.MaxAge < 0 || age <= b.MaxAge)
}
