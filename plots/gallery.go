package plots

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"

	xdraw "golang.org/x/image/draw"
	stdfont "golang.org/x/image/font"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Gallery defaults.
const (
	DefaultGalleryCols   = 8
	DefaultThumb         = 96 // pixels
	DefaultCaptionLines  = 2
	maxGalleryCols       = 64
	maxThumb             = 1024
	galleryMarginPx      = 10
	cellPadPx            = 6
	captionGapPx         = 3
	frameWidthPx         = 3
	sectionGapPx         = 6
	ellipsis             = "…"
	galleryCaptionSize   = vg.Length(8)
	galleryHeadingSize   = vg.Length(11)
	galleryTitleSize     = vg.Length(14)
	galleryPlaceholderRG = 0xdd
)

// Item is one picture of a gallery with the text shown under it.
type Item struct {
	// Image is drawn scaled to fit the gallery's thumbnail square, keeping its aspect ratio, centred: enlarged
	// by a whole factor with nearest-neighbour sampling when it is at most half the square (a 28x28 image
	// becomes 84x84 in a 96-pixel square, every pixel a crisp 3x3 block), reduced with Catmull-Rom. A nil Image
	// draws an empty gray square.
	Image image.Image
	// Caption is drawn under the picture, centred, wrapped at word boundaries to the cell width and cut with "…"
	// after the gallery's CaptionLines lines. "\n" forces a line break.
	Caption string
	// Frame, when not nil, draws a coloured frame just around the picture (e.g. red where the base model was
	// wrong).
	Frame color.Color
}

// Section is a titled run of items, starting on a new row.
type Section struct {
	// Heading is drawn above the section's items (may be empty).
	Heading string
	// Items are laid out left to right, Cols per row.
	Items []Item
}

// Gallery is a grid of images with a caption under each, an optional title and optional section headings.
// Its zero values pick the defaults ([DefaultGalleryCols], [DefaultThumb], [DefaultCaptionLines]).
type Gallery struct {
	// Title is drawn on top (may be empty).
	Title string
	// Sections are drawn one under the other.
	Sections []Section
	// Cols is the number of pictures per row.
	Cols int
	// Thumb is the side, in pixels of the PNG output, of the square each picture is fitted into.
	Thumb int
	// CaptionLines is the number of caption lines reserved under each picture.
	CaptionLines int
}

// NewGallery returns a one-section gallery of the items with cols pictures per row (0 for the default).
func NewGallery(title string, cols int, items ...Item) *Gallery {
	return &Gallery{Title: title, Cols: cols, Sections: []Section{{Items: items}}}
}

// Extremes returns the gallery of one class's most negative (hard, predicted failures) and most positive (easy)
// images by SVM decision value, one section each, as many columns as the longer list (at most
// [DefaultGalleryCols]; more items wrap to further rows).
func Extremes(title string, hard, easy []Item) *Gallery {
	cols := min(max(len(hard), len(easy), 1), DefaultGalleryCols)
	return &Gallery{
		Title: title,
		Cols:  cols,
		Sections: []Section{
			{Heading: "most negative decision values (hard)", Items: hard},
			{Heading: "most positive decision values (easy)", Items: easy},
		},
	}
}

// galleryLayout holds a gallery's resolved settings and measured text sizes, in pixels of the PNG output.
type galleryLayout struct {
	cols, thumb, lines        int
	cellW, cellH              int
	titleH, headH, capLineH   int
	width, height             int
	titleSty, headSty, capSty draw.TextStyle
	captionWidth              vg.Length
}

// px converts pixels of the PNG output to points.
func px(p float64) vg.Length { return vg.Length(p * 72 / DPI) }

// toPx converts points to whole pixels, rounding up.
func toPx(l vg.Length) int { return int(math.Ceil(float64(l) * DPI / 72)) }

func textStyle(size vg.Length, bold bool) draw.TextStyle {
	f := sans(size)
	if bold {
		f.Weight = stdfont.WeightBold
	}
	return draw.TextStyle{Color: color.Black, Font: f, XAlign: draw.XCenter, YAlign: draw.YTop, Handler: plot.DefaultTextHandler}
}

func (g *Gallery) layout() (*galleryLayout, error) {
	l := &galleryLayout{cols: g.Cols, thumb: g.Thumb, lines: g.CaptionLines}
	if l.cols == 0 {
		l.cols = DefaultGalleryCols
	}
	if l.thumb == 0 {
		l.thumb = DefaultThumb
	}
	if l.lines == 0 {
		l.lines = DefaultCaptionLines
	}
	if l.cols < 1 || l.cols > maxGalleryCols {
		return nil, fmt.Errorf("plots: gallery %q: Cols = %d, want 1..%d", g.Title, l.cols, maxGalleryCols)
	}
	if l.thumb < 8 || l.thumb > maxThumb {
		return nil, fmt.Errorf("plots: gallery %q: Thumb = %d pixels, want 8..%d", g.Title, l.thumb, maxThumb)
	}
	if l.lines < 0 {
		return nil, fmt.Errorf("plots: gallery %q: CaptionLines = %d, want >= 0", g.Title, l.lines)
	}
	n := 0
	for _, s := range g.Sections {
		n += len(s.Items)
	}
	if n == 0 {
		return nil, fmt.Errorf("plots: gallery %q has no items", g.Title)
	}
	l.titleSty = textStyle(galleryTitleSize, true)
	l.headSty = textStyle(galleryHeadingSize, true)
	l.headSty.XAlign = draw.XLeft
	l.capSty = textStyle(galleryCaptionSize, false)
	l.capLineH = toPx(font.Length(l.capSty.FontExtents().Height))
	l.cellW = l.thumb + 2*cellPadPx
	l.captionWidth = px(float64(l.cellW - 2))
	l.cellH = l.thumb + cellPadPx
	if l.lines > 0 {
		l.cellH += captionGapPx + l.lines*l.capLineH
	}
	l.cellH += cellPadPx
	if g.Title != "" {
		l.titleH = toPx(l.titleSty.FontExtents().Height) + 6
	}
	l.headH = toPx(l.headSty.FontExtents().Height) + 4
	// The gallery is wide enough for its columns, its title and its headings.
	content := l.cols * l.cellW
	if g.Title != "" {
		content = max(content, toPx(l.titleSty.Width(g.Title)))
	}
	for _, s := range g.Sections {
		if s.Heading != "" {
			content = max(content, toPx(l.headSty.Width(s.Heading))+cellPadPx)
		}
	}
	l.width = 2*galleryMarginPx + content
	l.height = 2*galleryMarginPx + l.titleH
	for i, s := range g.Sections {
		if i > 0 {
			l.height += sectionGapPx
		}
		if s.Heading != "" {
			l.height += l.headH
		}
		rows := max((len(s.Items)+l.cols-1)/l.cols, 1)
		l.height += rows * l.cellH
	}
	return l, nil
}

// Size returns the size of the rendered PNG in pixels.
func (g *Gallery) Size() (width, height int, err error) {
	l, err := g.layout()
	if err != nil {
		return 0, 0, err
	}
	return l.width, l.height, nil
}

// Render draws the gallery as PNG or SVG (pictures are embedded in the SVG as PNG data).
func (g *Gallery) Render(format Format) ([]byte, error) {
	l, err := g.layout()
	if err != nil {
		return nil, err
	}
	H := float64(l.height)
	return render(format, px(float64(l.width)), px(H), func(dc draw.Canvas) {
		// at converts a top-left-origin pixel point to canvas coordinates.
		at := func(x, y float64) vg.Point { return vg.Point{X: dc.Min.X + px(x), Y: dc.Min.Y + px(H-y)} }
		y := galleryMarginPx
		if g.Title != "" {
			dc.FillText(l.titleSty, at(float64(l.width)/2, float64(y)), g.Title)
			y += l.titleH
		}
		for si, s := range g.Sections {
			if si > 0 {
				y += sectionGapPx
			}
			if s.Heading != "" {
				dc.FillText(l.headSty, at(galleryMarginPx+cellPadPx, float64(y)), s.Heading)
				y += l.headH
			}
			rows := max((len(s.Items)+l.cols-1)/l.cols, 1)
			for i, it := range s.Items {
				r, c := i/l.cols, i%l.cols
				cx := galleryMarginPx + c*l.cellW + cellPadPx
				cy := y + r*l.cellH + cellPadPx
				p := fitImage(it.Image, l.thumb)
				box := func(x0, y0, x1, y1 float64) []vg.Point {
					return []vg.Point{at(x0, y1), at(x1, y1), at(x1, y0), at(x0, y0)}
				}
				// pic is the picture's rectangle in pixels: the fitted image, or the whole square for a placeholder.
				pic := image.Rect(cx, cy, cx+l.thumb, cy+l.thumb)
				if p.img == nil {
					dc.FillPolygon(color.Gray{Y: galleryPlaceholderRG}, box(float64(cx), float64(cy), float64(cx+l.thumb), float64(cy+l.thumb)))
				} else {
					pic = image.Rect(cx+p.x, cy+p.y, cx+p.x+p.w, cy+p.y+p.h)
					dc.DrawImage(vg.Rectangle{Min: at(float64(pic.Min.X), float64(pic.Max.Y)), Max: at(float64(pic.Max.X), float64(pic.Min.Y))}, p.img)
				}
				if it.Frame != nil {
					half := float64(frameWidthPx) / 2
					ls := draw.LineStyle{Color: it.Frame, Width: px(frameWidthPx)}
					x0, y0 := float64(pic.Min.X)-half, float64(pic.Min.Y)-half
					x1, y1 := float64(pic.Max.X)+half, float64(pic.Max.Y)+half
					dc.StrokeLines(ls, []vg.Point{at(x0, y0), at(x1, y0), at(x1, y1), at(x0, y1), at(x0, y0)})
				}
				if l.lines > 0 && it.Caption != "" {
					ty := float64(cy + l.thumb + captionGapPx)
					for k, line := range wrapText(it.Caption, l.capSty, l.captionWidth, l.lines) {
						dc.FillText(l.capSty, at(float64(cx+l.thumb/2), ty+float64(k*l.capLineH)), line)
					}
				}
			}
			y += rows * l.cellH
		}
	})
}

// PNG renders the gallery as PNG.
func (g *Gallery) PNG() ([]byte, error) { return g.Render(PNG) }

// SVG renders the gallery as SVG.
func (g *Gallery) SVG() ([]byte, error) { return g.Render(SVG) }

// Save writes the gallery to path (.png or .svg) atomically.
func (g *Gallery) Save(path string) error { return Save(g, path) }

// Show displays the gallery inline under GoNB, or saves it to path elsewhere (see [Show]).
func (g *Gallery) Show(path string) error { return Show(g, path) }

// fitted is a picture scaled to fit a thumbnail square, with its offset inside the square.
type fitted struct {
	img        *image.RGBA
	x, y, w, h int
}

// fitImage scales img to fit a side x side square keeping its aspect ratio, centred.
func fitImage(img image.Image, side int) fitted {
	if img == nil {
		return fitted{}
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return fitted{}
	}
	s := math.Min(float64(side)/float64(b.Dx()), float64(side)/float64(b.Dy()))
	if s >= 2 {
		s = math.Floor(s) // whole-pixel enlargement: every source pixel becomes an equal square
	}
	w := max(1, int(math.Round(float64(b.Dx())*s)))
	h := max(1, int(math.Round(float64(b.Dy())*s)))
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	var scaler xdraw.Scaler = xdraw.CatmullRom
	switch {
	case w == b.Dx() && h == b.Dy():
		xdraw.Copy(dst, image.Point{}, img, b, xdraw.Src, nil)
		return fitted{img: dst, x: (side - w) / 2, y: (side - h) / 2, w: w, h: h}
	case s >= 1:
		scaler = xdraw.NearestNeighbor
	}
	scaler.Scale(dst, dst.Bounds(), img, b, xdraw.Src, nil)
	return fitted{img: dst, x: (side - w) / 2, y: (side - h) / 2, w: w, h: h}
}

// wrapText breaks txt into at most maxLines lines no wider than width, at spaces (and at "\n"). Words wider than
// a line are cut; text that does not fit ends with "…".
func wrapText(txt string, sty draw.TextStyle, width vg.Length, maxLines int) []string {
	if maxLines <= 0 {
		return nil
	}
	fits := func(s string) bool { return sty.Width(s) <= width }
	var lines []string
	truncated := false
	for _, para := range strings.Split(txt, "\n") {
		words := strings.Fields(para)
		cur := ""
		for _, w := range words {
			cand := w
			if cur != "" {
				cand = cur + " " + w
			}
			if fits(cand) {
				cur = cand
				continue
			}
			if cur != "" {
				lines = append(lines, cur)
			}
			cur = w
			for !fits(cur) && len([]rune(cur)) > 1 { // a single word wider than the line: cut it
				rs := []rune(cur)
				k := len(rs) - 1
				for k > 1 && !fits(string(rs[:k])) {
					k--
				}
				lines = append(lines, string(rs[:k]))
				cur = string(rs[k:])
			}
		}
		lines = append(lines, cur)
	}
	if len(lines) > maxLines {
		lines = lines[:maxLines]
		truncated = true
	}
	if truncated {
		last := lines[maxLines-1]
		for last != "" && !fits(last+ellipsis) {
			rs := []rune(last)
			last = strings.TrimRight(string(rs[:len(rs)-1]), " ")
		}
		lines[maxLines-1] = last + ellipsis
	}
	return lines
}
