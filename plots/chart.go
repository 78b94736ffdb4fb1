package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Default chart size: the plot area; the legend is drawn in a strip below it and adds to the height.
const (
	DefaultWidth  = 6 * vg.Inch
	DefaultHeight = 3.6 * vg.Inch
)

// Palette holds the colours given to curves and bar series in order (the "Tableau 10" colours).
var Palette = []color.Color{
	rgb(0x1f77b4), rgb(0xff7f0e), rgb(0x2ca02c), rgb(0xd62728), rgb(0x9467bd),
	rgb(0x8c564b), rgb(0xe377c2), rgb(0x7f7f7f), rgb(0xbcbd22), rgb(0x17becf),
}

// Gray is the colour of reference lines (base rate, class average, chance level).
var Gray = rgb(0x7f7f7f)

func rgb(v uint32) color.Color {
	return color.NRGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 255}
}

// paletteColor returns the i-th palette colour, cycling.
func paletteColor(i int) color.Color { return Palette[i%len(Palette)] }

// Chart is one gonum/plot chart with its legend drawn in a strip below the plot area, so long legend entries
// (captions) never hide the data.
//
// Plot is exposed for customisation (axis ranges, labels) before rendering.
type Chart struct {
	// Plot is the underlying gonum plot; its own legend is not used.
	Plot *plot.Plot
	// Width and Height are the size of the plot area (title and axes included, legend strip excluded).
	Width, Height vg.Length

	legend plot.Legend
	nLeg   int
}

// NewChart returns an empty chart with the package's fonts and default size. The chart constructors of this
// package use it; use it directly to draw something else in the same style.
func NewChart(title, xLabel, yLabel string) *Chart {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = sans(12)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(10)
		a.Tick.Label.Font = sans(9)
	}
	leg := plot.NewLegend()
	leg.TextStyle.Font = sans(9)
	leg.Top, leg.Left = true, true
	leg.Padding = vg.Points(2)
	return &Chart{Plot: p, Width: DefaultWidth, Height: DefaultHeight, legend: leg}
}

// AddLegend adds an entry to the legend strip under the chart.
func (c *Chart) AddLegend(name string, thumbs ...plot.Thumbnailer) {
	c.legend.Add(name, thumbs...)
	c.nLeg++
}

// sans returns the embedded Liberation Sans font at the given size in points.
func sans(size vg.Length) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
}

const legendMargin = vg.Length(6)

// legendHeight is the height of the strip under the plot area holding the legend.
func (c *Chart) legendHeight() vg.Length {
	if c.nLeg == 0 {
		return 0
	}
	enth := c.legend.TextStyle.Rectangle("Mg").Max.Y
	return vg.Length(c.nLeg)*(enth+c.legend.Padding) + 2*legendMargin
}

// Size returns the full size of the rendered chart: the plot area plus the legend strip.
func (c *Chart) Size() (w, h vg.Length) { return c.Width, c.Height + c.legendHeight() }

// drawOn draws the chart (plot area on top, legend strip below) into dc.
func (c *Chart) drawOn(dc draw.Canvas) {
	lh := c.legendHeight()
	c.Plot.Draw(draw.Crop(dc, 0, 0, lh, 0))
	if c.nLeg == 0 {
		return
	}
	lc := dc
	lc.Min.X += legendMargin * 2
	lc.Max.X -= legendMargin
	lc.Max.Y = dc.Min.Y + lh - legendMargin
	lc.Min.Y = dc.Min.Y + legendMargin
	leg := c.legend
	leg.Draw(lc)
}

// Render draws the chart as PNG or SVG.
func (c *Chart) Render(format Format) ([]byte, error) {
	w, h := c.Size()
	return render(format, w, h, func(dc draw.Canvas) { c.drawOn(dc) })
}

// PNG renders the chart as PNG.
func (c *Chart) PNG() ([]byte, error) { return c.Render(PNG) }

// SVG renders the chart as SVG.
func (c *Chart) SVG() ([]byte, error) { return c.Render(SVG) }

// Save writes the chart to path (.png or .svg) atomically.
func (c *Chart) Save(path string) error { return Save(c, path) }

// Show displays the chart inline under GoNB, or saves it to path elsewhere (see [Show]).
func (c *Chart) Show(path string) error { return Show(c, path) }

// render creates a canvas of the format and size, lets drawFn draw on it and returns the encoded bytes.
// gonum/plot panics on some invalid inputs deep in its drawing code; such panics become errors here.
func render(format Format, w, h vg.Length, drawFn func(draw.Canvas)) (out []byte, err error) {
	if err := checkFormat(format); err != nil {
		return nil, err
	}
	if !(w > 0 && h > 0) || math.IsInf(float64(w), 0) || math.IsInf(float64(h), 0) {
		return nil, fmt.Errorf("plots: invalid figure size %vx%v points", w, h)
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("plots: drawing failed: %v", r)
		}
	}()
	var buf bytes.Buffer
	switch format {
	case PNG:
		cv := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))
		drawFn(draw.New(cv))
		if _, err := (vgimg.PngCanvas{Canvas: cv}).WriteTo(&buf); err != nil {
			return nil, fmt.Errorf("plots: encoding PNG: %w", err)
		}
	case SVG:
		cv := vgsvg.New(w, h)
		drawFn(draw.New(cv))
		if _, err := cv.WriteTo(&buf); err != nil {
			return nil, fmt.Errorf("plots: encoding SVG: %w", err)
		}
	}
	return buf.Bytes(), nil
}
