package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Points is one named set of 2-D points of a scatter chart.
type Points struct {
	// Name labels the set in the legend.
	Name string
	// X and Y hold the coordinates, one pair per point.
	X, Y []float64
	// Color overrides the palette colour when not nil.
	Color color.Color
}

// Segment is a straight line from (X0, Y0) to (X1, Y1) drawn over a scatter chart: a direction, a decision
// boundary.
type Segment struct {
	Name           string
	X0, Y0, X1, Y1 float64
	// Color is the line's colour (black when nil); Dashed draws it dashed; Width is in points (default 1.5).
	Color  color.Color
	Dashed bool
	Width  float64
}

// Scatter draws point sets (palette colours in order unless given) and segments. With equal, one unit is as long on
// x as on y, so directions and angles look as they are; otherwise each axis spans its own data. Every coordinate
// must be finite.
func Scatter(title, xLabel, yLabel string, equal bool, sets []Points, segments ...Segment) (*Chart, error) {
	if len(sets) == 0 {
		return nil, fmt.Errorf("plots: scatter chart %q: no point sets", title)
	}
	c := NewChart(title, xLabel, yLabel)
	c.Plot.Add(plotter.NewGrid())
	lo, hi := [2]float64{math.Inf(1), math.Inf(1)}, [2]float64{math.Inf(-1), math.Inf(-1)}
	grow := func(x, y float64) {
		lo[0], hi[0] = min(lo[0], x), max(hi[0], x)
		lo[1], hi[1] = min(lo[1], y), max(hi[1], y)
	}
	for i, s := range sets {
		if len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("plots: scatter chart %q: set %q has %d x and %d y values", title, s.Name, len(s.X), len(s.Y))
		}
		pts := make(plotter.XYs, len(s.X))
		for j := range s.X {
			if !finite(s.X[j]) || !finite(s.Y[j]) {
				return nil, fmt.Errorf("plots: scatter chart %q: set %q point %d is (%v, %v)", title, s.Name, j, s.X[j], s.Y[j])
			}
			pts[j] = plotter.XY{X: s.X[j], Y: s.Y[j]}
			grow(s.X[j], s.Y[j])
		}
		col := s.Color
		if col == nil {
			col = paletteColor(i)
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, fmt.Errorf("plots: scatter chart %q: set %q: %w", title, s.Name, err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(1.8), Shape: draw.CircleGlyph{}}
		c.Plot.Add(sc)
		c.AddLegend(fmt.Sprintf("%s (n=%d)", s.Name, len(pts)), sc)
	}
	for _, sg := range segments {
		for _, v := range []float64{sg.X0, sg.Y0, sg.X1, sg.Y1} {
			if !finite(v) {
				return nil, fmt.Errorf("plots: scatter chart %q: segment %q has a non-finite end", title, sg.Name)
			}
		}
		l, err := plotter.NewLine(plotter.XYs{{X: sg.X0, Y: sg.Y0}, {X: sg.X1, Y: sg.Y1}})
		if err != nil {
			return nil, fmt.Errorf("plots: scatter chart %q: segment %q: %w", title, sg.Name, err)
		}
		col := sg.Color
		if col == nil {
			col = color.Black
		}
		l.LineStyle = lineStyle(col, sg.Dashed)
		if sg.Width > 0 {
			l.LineStyle.Width = vg.Points(sg.Width)
		} else {
			l.LineStyle.Width = vg.Points(1.5)
		}
		c.Plot.Add(l)
		c.AddLegend(sg.Name, l)
		grow(sg.X0, sg.Y0)
		grow(sg.X1, sg.Y1)
	}
	if !equal {
		return c, nil
	}
	// Equal units: widen the narrower range to the aspect ratio of the plot area (estimated as in kTicks).
	w, h := float64(max(c.Width*0.75, c.Width-vg.Points(60))), float64(c.Height-vg.Points(60))
	dx, dy := hi[0]-lo[0], hi[1]-lo[1]
	if dx <= 0 {
		dx = 1
	}
	if dy <= 0 {
		dy = 1
	}
	if dx/w > dy/h {
		dy = dx / w * h
	} else {
		dx = dy / h * w
	}
	cx, cy := (lo[0]+hi[0])/2, (lo[1]+hi[1])/2
	c.Plot.X.Min, c.Plot.X.Max = cx-0.55*dx, cx+0.55*dx
	c.Plot.Y.Min, c.Plot.Y.Max = cy-0.55*dy, cy+0.55*dy
	return c, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
