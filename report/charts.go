package report

import (
	"strconv"
	"unicode/utf8"

	"claimsbatch/claim"
)

// The charts are SVG drawn from Go: the geometry is computed here and the
// template only writes it out. Sizes are CSS pixels at the chart's natural
// width; the page scales a chart down (never up) when its box is narrower.

// hbar is one bar of a horizontal bar chart.
type hbar struct {
	Label   string // the text left of the bar (cut to fit)
	Title   string // the full label and figures, as a tooltip
	Value   string // the text right of the bar
	Y       int    // top of the row
	TextY   int    // baseline of the row's texts
	Width   string // bar length
	ValueX  string // where the value text starts
	Class   string // CSS class of the bar
	Tooltip string
}

// hchart is a horizontal bar chart.
type hchart struct {
	Caption string // what the chart shows, above it
	Width   int
	Height  int
	LabelX  int // right edge of the labels
	BarX    int // left edge of the bars
	Bars    []hbar
	Note    string // under the chart, e.g. what "other" holds
	Empty   string // shown instead of the chart when there are no bars
}

// Chart layout constants, in px.
const (
	rowHeight  = 26
	barHeight  = 16
	labelPad   = 8
	fontSize   = 12 // of the labels and values (the stylesheet's svg text)
	chartPadY  = 6
	labelChars = 28
)

// textWidth estimates the width in px of s at fontSize, on the wide side:
// per-character widths of DejaVu Sans (the widest of the fonts the page
// asks for), so a label measured here fits in any of them.
func textWidth(s string) float64 {
	em := 0.0
	for _, c := range s {
		switch {
		case c >= 'A' && c <= 'Z':
			em += 0.72
		case c >= '0' && c <= '9':
			em += 0.64
		case c == '_':
			em += 0.50
		case c == ' ', c == '-', c == '.', c == ',':
			em += 0.36
		case c == 'i', c == 'l', c == 'j', c == 't', c == 'f', c == 'r':
			em += 0.36
		case c == 'm', c == 'w':
			em += 0.92
		default:
			em += 0.62
		}
	}
	return em * fontSize
}

// barItem is one bar before layout.
type barItem struct {
	label   string
	amount  claim.Money // decides the length
	value   string      // printed right of the bar
	tooltip string
	class   string
}

// newHChart lays bars out in a chart of the given width whose labels are at
// most labelChars characters.
func newHChart(caption string, width int, items []barItem) hchart {
	c := hchart{Caption: caption, Width: width}
	if len(items) == 0 {
		c.Empty = "nothing to show"
		return c
	}
	longest := 0.0
	for _, it := range items {
		longest = max(longest, textWidth(cut(it.label, labelChars)))
	}
	c.LabelX = int(longest+0.5) + labelPad
	c.BarX = c.LabelX + labelPad
	valueRoom := 0.0 // right of the longest bar, for its figure
	for _, it := range items {
		valueRoom = max(valueRoom, textWidth(it.value)+6+4)
	}
	room := width - c.BarX - int(valueRoom+0.5)
	var top claim.Money
	for _, it := range items {
		top = max(top, it.amount)
	}
	for i, it := range items {
		w := 0.0
		if top > 0 && it.amount > 0 {
			w = float64(room) * float64(it.amount) / float64(top)
			w = max(w, 1) // a paid bar never vanishes
		}
		y := chartPadY + i*rowHeight
		c.Bars = append(c.Bars, hbar{
			Label:   cut(it.label, labelChars),
			Tooltip: it.tooltip,
			Value:   it.value,
			Y:       y + (rowHeight-barHeight)/2,
			TextY:   y + rowHeight/2 + 4,
			Width:   px(w),
			ValueX:  px(float64(c.BarX) + w + 6),
			Class:   it.class,
		})
	}
	c.Height = 2*chartPadY + len(items)*rowHeight
	return c
}

// cut shortens s to n characters with an ellipsis.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func px(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// vbar is one column of the turnaround histogram.
type vbar struct {
	X, Y, Width, Height string
	Label               string // under the column
	LabelX              string
	Count               string // above the column
	CountY              string
	Class               string
	Tooltip             string
}

// vchart is the turnaround histogram.
type vchart struct {
	Width, Height int
	PlotTop       int
	Baseline      int // y of the axis
	LabelY        int // baseline of the day labels
	AxisTitleY    int
	AxisMid       int
	Bars          []vbar
	TargetX       string // the dashed line between within and over
	TargetLabel   string
	TargetLabelX  string
	TargetLabelY  int
}

// newHistogram draws counts by business days, the days up to target in
// the "within" colour.
func newHistogram(counts []int64, target int) vchart {
	const (
		width, height = 640, 230
		left, right   = 16, 16
		top, bottom   = 34, 46
		gap           = 4
	)
	c := vchart{Width: width, Height: height, PlotTop: top, Baseline: height - bottom,
		LabelY: height - bottom + 16, AxisTitleY: height - 8, AxisMid: width / 2}
	n := len(counts)
	if n == 0 {
		return c
	}
	var most int64
	for _, v := range counts {
		most = max(most, v)
	}
	step := float64(width-left-right) / float64(n)
	plotH := float64(c.Baseline - top - 14) // room for the counts above the columns
	for i, v := range counts {
		h := 0.0
		if most > 0 {
			h = plotH * float64(v) / float64(most)
		}
		if v > 0 {
			h = max(h, 1)
		}
		x := float64(left) + float64(i)*step
		label := strconv.Itoa(i)
		if i == n-1 && n > 1 {
			label += "+"
		}
		class := "within"
		if i > target {
			class = "over"
		}
		count := formatCount(v)
		if v == 0 {
			count = "" // an empty day needs no figure
		}
		c.Bars = append(c.Bars, vbar{
			X: px(x + gap/2), Y: px(float64(c.Baseline) - h), Width: px(step - gap), Height: px(h),
			Label: label, LabelX: px(x + step/2), Count: count, CountY: px(float64(c.Baseline) - h - 4), Class: class,
			Tooltip: label + " business days: " + formatCount(v) + " lines",
		})
	}
	if target+1 < n {
		x := float64(left) + float64(target+1)*step
		c.TargetX = px(x)
		c.TargetLabel = strconv.Itoa(target) + " business days"
		c.TargetLabelX = px(x + 6)
		c.TargetLabelY = top - 14
	}
	return c
}
