package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Bars is one named series of a grouped bar chart: one value per category.
type Bars struct {
	// Name labels the series in the legend (e.g. "CV" or "test").
	Name string
	// Values holds one value per category; NaN means "not available" and is drawn as a small "n/a".
	Values []float64
}

// BalancedAccuracy draws per-class SVM balanced accuracy as grouped bars (one group per class, one bar per
// series, e.g. cross-validation and test), on a [0, 1] axis with chance level 0.5 as a dashed line. Classes with
// no failure signal have no SVM: pass NaN for them and they show "n/a".
func BalancedAccuracy(title string, classes []string, series ...Bars) (*Chart, error) {
	c, err := GroupedBars(title, "class", "balanced accuracy", classes, series...)
	if err != nil {
		return nil, err
	}
	chance, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: 0.5}, {X: float64(len(classes)) - 0.5, Y: 0.5}})
	if err != nil {
		return nil, fmt.Errorf("plots: bar chart %q: %w", title, err)
	}
	chance.LineStyle = lineStyle(color.Black, true)
	chance.LineStyle.Width = vg.Points(1)
	c.Plot.Add(chance)
	c.AddLegend("chance (0.5)", chance)
	unitY(c)
	return c, nil
}

// GroupedBars draws one group of bars per category, one bar per series, in palette colours. Values must be finite
// or NaN (drawn as "n/a"); the y axis starts at 0 unless a value is negative.
func GroupedBars(title, xLabel, yLabel string, categories []string, series ...Bars) (*Chart, error) {
	if len(categories) == 0 {
		return nil, fmt.Errorf("plots: bar chart %q: no categories", title)
	}
	if len(series) == 0 {
		return nil, fmt.Errorf("plots: bar chart %q: no series", title)
	}
	for i, s := range series {
		if len(s.Values) != len(categories) {
			return nil, fmt.Errorf("plots: bar chart %q: series %d (%q) has %d values for %d categories",
				title, i, s.Name, len(s.Values), len(categories))
		}
		for j, v := range s.Values {
			if math.IsInf(v, 0) {
				return nil, fmt.Errorf("plots: bar chart %q: series %q value %d (%s) is %v", title, s.Name, j, categories[j], v)
			}
		}
	}
	c := NewChart(title, xLabel, yLabel)
	c.Plot.Add(plotter.NewGrid())
	groupWidth := 0.8
	bw := groupWidth / float64(len(series))
	for i, s := range series {
		b := &barSeries{values: s.Values, offset: -groupWidth/2 + bw*float64(i), width: bw, color: paletteColor(i)}
		c.Plot.Add(b)
		c.AddLegend(s.Name, b)
	}
	c.Plot.NominalX(categories...)
	c.Plot.X.Min, c.Plot.X.Max = -0.5, float64(len(categories))-0.5
	long := 0
	for _, name := range categories {
		long = max(long, len(name))
	}
	if len(categories) > 6 || long*len(categories) > 60 {
		c.Plot.X.Tick.Label.Rotation = math.Pi / 4
		c.Plot.X.Tick.Label.XAlign = draw.XRight
		c.Plot.X.Tick.Label.YAlign = draw.YTop
	}
	return c, nil
}

// barSeries draws bars in data units: bar j spans [j+offset, j+offset+width] on the x axis.
type barSeries struct {
	values        []float64
	offset, width float64
	color         color.Color
}

// Plot implements plot.Plotter.
func (b *barSeries) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	na := draw.TextStyle{Color: Gray, Font: sans(7), XAlign: draw.XCenter, YAlign: draw.YBottom, Handler: plot.DefaultTextHandler}
	for j, v := range b.values {
		x0, x1 := trX(float64(j)+b.offset), trX(float64(j)+b.offset+b.width)
		if math.IsNaN(v) {
			c.FillText(na, vg.Point{X: (x0 + x1) / 2, Y: trY(0) + vg.Points(2)}, "n/a")
			continue
		}
		y0, y1 := trY(0), trY(v)
		pts := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
		c.FillPolygon(b.color, c.ClipPolygonXY(pts))
	}
}

// DataRange implements plot.DataRanger.
func (b *barSeries) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = -0.5, float64(len(b.values))-0.5
	for _, v := range b.values {
		if !math.IsNaN(v) {
			ymin, ymax = math.Min(ymin, v), math.Max(ymax, v)
		}
	}
	return xmin, xmax, ymin, ymax
}

// Thumbnail implements plot.Thumbnailer.
func (b *barSeries) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}}
	c.FillPolygon(b.color, c.ClipPolygonXY(pts))
}
