package intervene

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/faildirs/faildirs/plots"
)

// Chart draws one kind of comparison ("pool" or "reweight"): per method (and budget) a group of bars, one per
// metric, at the mean over seeds with ±1 std error bars. The worst-group bars (without groups: the main metric's)
// are drawn in full colour with a dark outline, the other metrics paler. The y axis starts a little below the
// lowest bar so that differences of a few points stay visible.
func (r *Result) Chart(kind string) (*plots.Chart, error) {
	rows := r.Rows(kind)
	if rows == nil {
		return nil, fmt.Errorf("intervene: no %s methods in this run", kind)
	}
	cats := make([]string, len(rows))
	for i, row := range rows {
		cats[i] = row.Label()
	}
	title := "pool selection: test accuracy after retraining"
	if kind == KindReweight {
		title = "reweighting: test accuracy after retraining"
	}
	title += fmt.Sprintf(" (mean ± std, %d seeds)", len(r.Seeds))
	c := plots.NewChart(title, "method", "test accuracy")
	c.Plot.Add(plotter.NewGrid())
	highlight := r.highlighted()
	group := 0.8
	bw := group / float64(len(r.Metrics))
	lo := 1.0
	for s, m := range r.Metrics {
		b := &meanBars{offset: -group/2 + bw*float64(s), width: bw, color: plots.Palette[s%len(plots.Palette)]}
		if m == highlight {
			b.outline = true
		} else {
			b.color = pale(b.color)
		}
		for _, row := range rows {
			st := row.Stats[m]
			b.mean = append(b.mean, st.Mean)
			b.std = append(b.std, st.Std)
			lo = math.Min(lo, st.Mean-st.Std)
		}
		c.Plot.Add(b)
		name := MetricTitle(m)
		if m == highlight {
			name += " (highlighted)"
		}
		c.AddLegend(name, b)
	}
	c.Plot.NominalX(cats...)
	c.Plot.X.Min, c.Plot.X.Max = -0.5, float64(len(cats))-0.5
	// A floor below the lowest bar (minus its std), so differences of a few points stay visible.
	c.Plot.Y.Min = math.Max(0, math.Floor((lo-0.05)*10)/10)
	c.Plot.Y.Max = 1
	if len(cats) > 5 {
		c.Plot.X.Tick.Label.Rotation = math.Pi / 6
		c.Plot.X.Tick.Label.XAlign = draw.XRight
		c.Plot.X.Tick.Label.YAlign = draw.YTop
	}
	return c, nil
}

// highlighted is the metric the charts highlight: the worst group when the data has groups, else the main metric.
func (r *Result) highlighted() string {
	for _, m := range r.Metrics {
		if m == MetricWorstGroup {
			return m
		}
	}
	return r.MainMetric()
}

func pale(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	mix := func(v uint32) uint8 { return uint8((float64(v>>8) + 2*255) / 3) }
	return color.NRGBA{R: mix(r), G: mix(g), B: mix(b), A: 255}
}

// meanBars draws bar j at [j+offset, j+offset+width] from the axis floor to mean[j], with a ±std[j] error bar.
type meanBars struct {
	mean, std     []float64
	offset, width float64
	color         color.Color
	outline       bool
}

// Plot implements plot.Plotter.
func (b *meanBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	floor := p.Y.Min
	dark := draw.LineStyle{Color: color.Black, Width: vg.Points(1)}
	for j, m := range b.mean {
		x0, x1 := trX(float64(j)+b.offset), trX(float64(j)+b.offset+b.width)
		y0, y1 := trY(floor), trY(math.Max(m, floor))
		pts := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
		c.FillPolygon(b.color, c.ClipPolygonXY(pts))
		if b.outline {
			c.StrokeLines(dark, c.ClipLinesXY(append(pts, pts[0]))...)
		}
		if s := b.std[j]; s > 0 {
			xm := (x0 + x1) / 2
			lo, hi := trY(math.Max(m-s, floor)), trY(math.Min(m+s, p.Y.Max))
			cap := (x1 - x0) / 4
			c.StrokeLines(dark, c.ClipLinesXY([]vg.Point{{X: xm, Y: lo}, {X: xm, Y: hi}},
				[]vg.Point{{X: xm - cap, Y: lo}, {X: xm + cap, Y: lo}}, []vg.Point{{X: xm - cap, Y: hi}, {X: xm + cap, Y: hi}})...)
		}
	}
}

// DataRange implements plot.DataRanger.
func (b *meanBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = -0.5, float64(len(b.mean))-0.5
	ymin, ymax = 1, 0
	for j, m := range b.mean {
		ymin, ymax = math.Min(ymin, m-b.std[j]), math.Max(ymax, m+b.std[j])
	}
	return xmin, xmax, ymin, ymax
}

// Thumbnail implements plot.Thumbnailer.
func (b *meanBars) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}}
	c.FillPolygon(b.color, c.ClipPolygonXY(pts))
	if b.outline {
		c.StrokeLines(draw.LineStyle{Color: color.Black, Width: vg.Points(1)}, c.ClipLinesXY(append(pts, pts[0]))...)
	}
}
