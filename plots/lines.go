package plots

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Curve is one named series y(x) of a line chart; its x values come from the chart (e.g. the K values).
type Curve struct {
	// Name labels the curve in the legend.
	Name string
	// Y holds one value per x; NaN marks a missing point (it is skipped, the line joins its neighbours).
	Y []float64
	// Dashed draws the curve as a dashed line without point markers (for reference levels such as a base rate).
	Dashed bool
	// Color overrides the palette colour when not nil.
	Color color.Color
}

// Constant returns a dashed gray curve with the same value at n points: a reference level such as the base rate
// of a subgroup or a class's average accuracy.
func Constant(name string, value float64, n int) Curve {
	y := make([]float64, n)
	for i := range y {
		y[i] = value
	}
	return Curve{Name: name, Y: y, Dashed: true, Color: Gray}
}

// maxMarkers is the largest number of x values whose points get markers; longer curves (a top-K curve at every
// tenth K of a large class) are drawn as plain lines.
const maxMarkers = 40

// Lines draws curves over shared x values. Solid curves get palette colours in order, and point markers when there
// are at most 40 x values.
func Lines(title, xLabel, yLabel string, xs []float64, curves ...Curve) (*Chart, error) {
	if len(xs) == 0 {
		return nil, fmt.Errorf("plots: line chart %q: no x values", title)
	}
	for i, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("plots: line chart %q: x[%d] = %v is not finite", title, i, x)
		}
	}
	if len(curves) == 0 {
		return nil, fmt.Errorf("plots: line chart %q: no curves", title)
	}
	c := NewChart(title, xLabel, yLabel)
	c.Plot.Add(plotter.NewGrid())
	solid := 0
	for i, cv := range curves {
		if len(cv.Y) != len(xs) {
			return nil, fmt.Errorf("plots: line chart %q: curve %d (%q) has %d values for %d x values",
				title, i, cv.Name, len(cv.Y), len(xs))
		}
		pts := make(plotter.XYs, 0, len(xs))
		for j, y := range cv.Y {
			if math.IsNaN(y) {
				continue
			}
			if math.IsInf(y, 0) {
				return nil, fmt.Errorf("plots: line chart %q: curve %q value %d is %v", title, cv.Name, j, y)
			}
			pts = append(pts, plotter.XY{X: xs[j], Y: y})
		}
		col := cv.Color
		if col == nil {
			col = paletteColor(solid)
		}
		if !cv.Dashed {
			solid++
		}
		if len(pts) == 0 {
			// Nothing to draw, but keep the legend entry so the reader sees the series is missing.
			l := &plotter.Line{LineStyle: lineStyle(col, cv.Dashed)}
			c.AddLegend(cv.Name+" (no data)", l)
			continue
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("plots: line chart %q: curve %q: %w", title, cv.Name, err)
		}
		line.LineStyle = lineStyle(col, cv.Dashed)
		c.Plot.Add(line)
		if cv.Dashed || len(xs) > maxMarkers {
			c.AddLegend(cv.Name, line)
			continue
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, fmt.Errorf("plots: line chart %q: curve %q: %w", title, cv.Name, err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
		c.Plot.Add(sc)
		c.AddLegend(cv.Name, line, sc)
	}
	return c, nil
}

func lineStyle(col color.Color, dashed bool) draw.LineStyle {
	ls := draw.LineStyle{Color: col, Width: vg.Points(1.5)}
	if dashed {
		ls.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	return ls
}

// intsToFloats converts K values to x coordinates, checking they are positive.
func intsToFloats(what string, ks []int) ([]float64, error) {
	xs := make([]float64, len(ks))
	for i, k := range ks {
		if k <= 0 {
			return nil, fmt.Errorf("plots: %s: K[%d] = %d, want > 0", what, i, k)
		}
		xs[i] = float64(k)
	}
	return xs, nil
}

// unitY fixes the y axis to [0, 1] (fractions and accuracies) with a tick every 0.1, labelled every 0.2.
func unitY(c *Chart) {
	c.Plot.Y.Min, c.Plot.Y.Max = 0, 1
	var ticks []plot.Tick
	for i := 0; i <= 10; i++ {
		t := plot.Tick{Value: float64(i) / 10}
		if i%2 == 0 {
			t.Label = strconv.FormatFloat(t.Value, 'f', 1, 64)
		}
		ticks = append(ticks, t)
	}
	c.Plot.Y.Tick.Marker = plot.ConstantTicks(ticks)
}

// kTicks puts the x axis ticks at the K values when there are few of them, else gonum's default ticks labelled as
// whole numbers. K values too close to be labelled side by side (5 and 10 on an axis up to 1000) keep their tick
// mark without a label, so labels never overlap.
func kTicks(c *Chart, ks []int) {
	if len(ks) > 12 {
		c.Plot.X.Tick.Marker = integerTicks{}
		return
	}
	c.Plot.X.Tick.Marker = spacedTicks{ks: ks, style: c.Plot.X.Tick.Label, width: c.Width}
}

// spacedTicks marks every K and labels those whose labels fit without overlapping, the largest K always.
type spacedTicks struct {
	ks    []int
	style text.Style
	// width is the chart's width; the data area is narrower (axis labels), so positions are estimated
	// conservatively from it.
	width vg.Length
}

// Ticks returns one tick per K, labelled as [spacedTicks] describes.
func (s spacedTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := make([]plot.Tick, len(s.ks))
	for i, k := range s.ks {
		ticks[i] = plot.Tick{Value: float64(k), Label: strconv.Itoa(k)}
	}
	slices.SortFunc(ticks, func(a, b plot.Tick) int { return cmp.Compare(a.Value, b.Value) })
	if len(ticks) < 2 || !(hi > lo) {
		return ticks
	}
	// The data area: the chart minus the y axis (its label and tick labels), at most 75% of the width.
	area := max(s.width*0.75, s.width-vg.Points(60))
	gap := s.style.Width("0")
	pos := func(t plot.Tick) vg.Length { return area * vg.Length((t.Value-lo)/(hi-lo)) }
	half := func(t plot.Tick) vg.Length { return s.style.Width(t.Label) / 2 }
	overlaps := func(a, b plot.Tick) bool { return pos(b)-pos(a) < half(a)+half(b)+gap }
	last := len(ticks) - 1
	kept := -1
	for i := range ticks {
		if kept >= 0 && overlaps(ticks[kept], ticks[i]) {
			ticks[i].Label = ""
			continue
		}
		kept = i
	}
	// The largest K keeps its label; labels that collide with it give way.
	if ticks[last].Label == "" {
		ticks[last].Label = strconv.Itoa(int(ticks[last].Value))
		for i := last - 1; i >= 0; i-- {
			if ticks[i].Label != "" && overlaps(ticks[i], ticks[last]) {
				ticks[i].Label = ""
			}
		}
	}
	return ticks
}

// TopK charts, for one class, the fraction of the K top-ranked images that belong to a subgroup (usually the
// minority group) as a function of K, one curve per ranking: e.g. "SVM decision value", "base-model confidence",
// and Constant("base rate", ...). The y axis is fixed to [0, 1].
func TopK(title string, ks []int, curves ...Curve) (*Chart, error) {
	xs, err := intsToFloats("top-K chart "+fmt.Sprintf("%q", title), ks)
	if err != nil {
		return nil, err
	}
	c, err := Lines(title, "K (images ranked hardest first)", "fraction of top-K in subgroup", xs, curves...)
	if err != nil {
		return nil, err
	}
	unitY(c)
	kTicks(c, ks)
	return c, nil
}

// CaptionCheckData is what a caption-check chart shows for one class: the base model's accuracy on the K test
// images nearest to the hard caption and to the easy caption, for several K, and the class's average accuracy.
type CaptionCheckData struct {
	// Ks are the numbers of nearest images.
	Ks []int
	// HardCaption and EasyCaption are the captions' texts, shown in the legend.
	HardCaption, EasyCaption string
	// Hard and Easy hold the accuracy of the K nearest images for each K.
	Hard, Easy []float64
	// ClassAverage is the base model's accuracy on all of the class's test images.
	ClassAverage float64
}

// CaptionCheck charts the caption check of one class: accuracy of the K nearest images for the hard caption
// (red), the easy caption (green) and the class average (dashed gray), as a function of K. If the hard caption
// describes a real failure mode, its curve lies below the class average.
func CaptionCheck(title string, d CaptionCheckData) (*Chart, error) {
	xs, err := intsToFloats(fmt.Sprintf("caption-check chart %q", title), d.Ks)
	if err != nil {
		return nil, err
	}
	c, err := Lines(title, "K (nearest images to the caption)", "base-model accuracy of the K nearest", xs,
		Curve{Name: "hard: " + d.HardCaption, Y: d.Hard, Color: Palette[3]},
		Curve{Name: "easy: " + d.EasyCaption, Y: d.Easy, Color: Palette[2]},
		Constant(fmt.Sprintf("class average (%.3f)", d.ClassAverage), d.ClassAverage, len(xs)),
	)
	if err != nil {
		return nil, err
	}
	unitY(c)
	kTicks(c, d.Ks)
	return c, nil
}

// integerTicks are gonum's default ticks with whole-number labels (K values), "250" rather than "250.00".
type integerTicks struct{}

// Ticks returns plot.DefaultTicks' ticks between lo and hi, relabelled.
func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(math.Round(ticks[i].Value), 'f', 0, 64)
		}
	}
	return ticks
}
