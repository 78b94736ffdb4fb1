package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// DefaultBins is the number of histogram bins used when a caller passes bins <= 0.
const DefaultBins = 30

// DecisionHistogram draws the distribution of SVM decision values for the images the base model got right and
// for those it got wrong, overlaid on shared bins, with the decision boundary (0) as a dashed line.
//
// Each group's bars are fractions of that group (they sum to 1 per group), so a small group of errors stays
// visible next to a large group of correct images; the legend gives each group's size. Non-finite values are
// ignored. bins <= 0 means [DefaultBins].
func DecisionHistogram(title string, correct, wrong []float64, bins int) (*Chart, error) {
	if bins <= 0 {
		bins = DefaultBins
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	n := 0
	for _, vs := range [][]float64{correct, wrong} {
		for _, v := range vs {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
			n++
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("plots: histogram %q: no finite decision values", title)
	}
	if hi-lo < 1e-12 {
		lo, hi = lo-0.5, hi+0.5
	}
	width := (hi - lo) / float64(bins)
	c := NewChart(title, "SVM decision value (negative = predicted error)", "fraction of group")
	c.Plot.Add(plotter.NewGrid())
	groups := []struct {
		name string
		vals []float64
		col  color.Color
	}{
		{"correct", correct, Palette[0]},
		{"wrong", wrong, Palette[3]},
	}
	ymax := 0.0
	for _, g := range groups {
		fracs, total := binFractions(g.vals, lo, width, bins)
		h := &plotter.Histogram{Width: width, FillColor: withAlpha(g.col, 0x70)}
		h.LineStyle.Color = g.col
		h.LineStyle.Width = vg.Points(0.8)
		for i, w := range fracs {
			ymax = math.Max(ymax, w)
			h.Bins = append(h.Bins, plotter.HistogramBin{Min: lo + float64(i)*width, Max: lo + float64(i+1)*width, Weight: w})
		}
		c.Plot.Add(h)
		c.AddLegend(fmt.Sprintf("%s (n=%d)", g.name, total), h)
	}
	if lo <= 0 && hi >= 0 {
		zero, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 0, Y: ymax * 1.05}})
		if err != nil {
			return nil, fmt.Errorf("plots: histogram %q: %w", title, err)
		}
		zero.LineStyle = lineStyle(color.Black, true)
		zero.LineStyle.Width = vg.Points(1)
		c.Plot.Add(zero)
		c.AddLegend("decision boundary (0)", zero)
	}
	c.Plot.Y.Min = 0
	return c, nil
}

// binFractions bins the finite values into bins of the given width starting at lo (values past either end go
// to the end bins) and returns each bin's fraction of them (all zero when there are none) and their count.
func binFractions(vals []float64, lo, width float64, bins int) ([]float64, int) {
	fr := make([]float64, bins)
	total := 0
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		i := int(math.Floor((v - lo) / width))
		fr[min(max(i, 0), bins-1)]++
		total++
	}
	if total > 0 {
		for i := range fr {
			fr[i] /= float64(total)
		}
	}
	return fr, total
}

// withAlpha returns col with the given (non-premultiplied) alpha.
func withAlpha(col color.Color, a uint8) color.Color {
	n := color.NRGBAModel.Convert(col).(color.NRGBA)
	n.A = a
	return n
}
