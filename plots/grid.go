package plots

import (
	"fmt"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Grid lays several charts out in rows of Cols charts (e.g. one top-K chart per class), each in a cell as large as
// the largest chart.
type Grid struct {
	// Cols is the number of charts per row (at least 1).
	Cols int
	// Charts are drawn row by row.
	Charts []*Chart
}

// NewGrid returns a grid of the charts with cols charts per row.
func NewGrid(cols int, charts ...*Chart) *Grid { return &Grid{Cols: cols, Charts: charts} }

// Render draws the grid as PNG or SVG.
func (g *Grid) Render(format Format) ([]byte, error) {
	if g.Cols < 1 {
		return nil, fmt.Errorf("plots: grid with %d columns, want at least 1", g.Cols)
	}
	if len(g.Charts) == 0 {
		return nil, fmt.Errorf("plots: grid without charts")
	}
	var cw, ch vg.Length
	for i, c := range g.Charts {
		if c == nil {
			return nil, fmt.Errorf("plots: grid chart %d is nil", i)
		}
		w, h := c.Size()
		cw, ch = max(cw, w), max(ch, h)
	}
	cols := min(g.Cols, len(g.Charts))
	rows := (len(g.Charts) + cols - 1) / cols
	return render(format, cw*vg.Length(cols), ch*vg.Length(rows), func(dc draw.Canvas) {
		for i, c := range g.Charts {
			r, col := i/cols, i%cols
			cell := dc
			cell.Min.X = dc.Min.X + cw*vg.Length(col)
			cell.Max.X = cell.Min.X + cw
			cell.Max.Y = dc.Max.Y - ch*vg.Length(r)
			cell.Min.Y = cell.Max.Y - ch
			c.drawOn(cell)
		}
	})
}

// PNG renders the grid as PNG.
func (g *Grid) PNG() ([]byte, error) { return g.Render(PNG) }

// SVG renders the grid as SVG.
func (g *Grid) SVG() ([]byte, error) { return g.Render(SVG) }

// Save writes the grid to path (.png or .svg) atomically.
func (g *Grid) Save(path string) error { return Save(g, path) }

// Show displays the grid inline under GoNB, or saves it to path elsewhere (see [Show]).
func (g *Grid) Show(path string) error { return Show(g, path) }
