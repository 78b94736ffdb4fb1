package plots

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("not a PNG: starts with %q", b[:min(len(b), 8)])
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decoding PNG: %v", err)
	}
	return img
}

// renderChart renders c as PNG, decodes it and checks its pixel size is the chart's Size.
func renderChart(t *testing.T, c *Chart) image.Image {
	t.Helper()
	b, err := c.PNG()
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, b)
	w, h := c.Size()
	if got, want := img.Bounds().Size(), (image.Point{X: pxOf(w), Y: pxOf(h)}); got != want {
		t.Fatalf("PNG size %v, want %v", got, want)
	}
	return img
}

// pixelsOf returns the rows (y) of the pixels exactly of colour col inside r.
func pixelsOf(img image.Image, r image.Rectangle, col color.Color) []int {
	want := color.NRGBAModel.Convert(col).(color.NRGBA)
	var ys []int
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA) == want {
				ys = append(ys, y)
			}
		}
	}
	return ys
}

// darkPixels counts pixels darker than mid-gray inside r (text, axes).
func darkPixels(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			g := color.GrayModel.Convert(img.At(x, y)).(color.Gray)
			if g.Y < 128 {
				n++
			}
		}
	}
	return n
}

func mean(ys []int) float64 {
	s := 0.0
	for _, y := range ys {
		s += float64(y)
	}
	return s / float64(len(ys))
}

func pxOf(l vg.Length) int { return int(math.Round(float64(l) * DPI / 72)) }

func TestFormatOf(t *testing.T) {
	tests := []struct {
		path    string
		want    Format
		wantErr bool
	}{
		{"a/b.png", PNG, false},
		{"x.PNG", PNG, false},
		{"x.svg", SVG, false},
		{"x.pdf", "", true},
		{"noext", "", true},
	}
	for _, tc := range tests {
		got, err := FormatOf(tc.path)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("FormatOf(%q) = %q, %v; want %q, err=%v", tc.path, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestTopKPlacesCurves plants two constant curves (0.9 and 0.2) and checks that each palette colour is drawn at
// the height its value says: the 0.9 curve near the top of the plot, the 0.2 curve lower, and the legend and
// title hold text.
func TestTopKPlacesCurves(t *testing.T) {
	ks := []int{25, 50, 100}
	c, err := TopK("planted", ks,
		Curve{Name: "high curve", Y: []float64{0.9, 0.9, 0.9}},
		Curve{Name: "low curve", Y: []float64{0.2, 0.2, 0.2}},
		Constant("base rate", 0.5, len(ks)))
	if err != nil {
		t.Fatal(err)
	}
	img := renderChart(t, c)
	plotH := pxOf(c.Height)
	plotArea := image.Rect(0, 0, img.Bounds().Dx(), plotH)
	high := pixelsOf(img, plotArea, Palette[0])
	low := pixelsOf(img, plotArea, Palette[1])
	if len(high) < 50 || len(low) < 50 {
		t.Fatalf("curve pixels: high %d, low %d; want both drawn", len(high), len(low))
	}
	// y grows downwards: value 0.9 must sit well above value 0.2; with the axis spanning most of the plot
	// height, the gap between them is about 0.7 of the axis length.
	if gap := mean(low) - mean(high); gap < 0.5*float64(plotH) {
		t.Errorf("0.9 curve at mean row %.1f, 0.2 curve at %.1f: gap %.1f px, want > %.1f", mean(high), mean(low), gap, 0.5*float64(plotH))
	}
	if n := darkPixels(img, image.Rect(0, 0, img.Bounds().Dx(), 20)); n < 30 {
		t.Errorf("title strip has %d dark pixels, want text", n)
	}
	legend := image.Rect(0, plotH, img.Bounds().Dx(), img.Bounds().Dy())
	if n := darkPixels(img, legend); n < 100 {
		t.Errorf("legend strip has %d dark pixels, want text", n)
	}
	if len(pixelsOf(img, legend, Palette[0])) == 0 || len(pixelsOf(img, legend, Palette[1])) == 0 {
		t.Errorf("legend strip lacks the curves' colours")
	}
}

// TestTopKManyKs checks a curve over K = 10, 20, …, 1000 (a large class) gets a few whole-number tick labels.
func TestTopKManyKs(t *testing.T) {
	var ks []int
	var y []float64
	for k := 10; k <= 1000; k += 10 {
		ks = append(ks, k)
		y = append(y, 1-float64(k)/2000)
	}
	c, err := TopK("large class", ks, Curve{Name: "SVM", Y: y})
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, tk := range c.Plot.X.Tick.Marker.Ticks(10, 1000) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if len(labels) < 2 || strings.ContainsAny(strings.Join(labels, ""), ".e") {
		t.Errorf("x tick labels %q, want a few whole numbers", labels)
	}
	renderChart(t, c)
}

func TestChartsRender(t *testing.T) {
	ks := []int{25, 50, 100}
	nan := math.NaN()
	topk := func() (*Chart, error) {
		return TopK("top-K", ks, Curve{Name: "SVM decision value", Y: []float64{1, 0.9, nan}},
			Curve{Name: "base-model confidence", Y: []float64{0.5, 0.4, 0.3}})
	}
	hist := func() (*Chart, error) {
		return DecisionHistogram("hist", []float64{1, 2, 3, math.Inf(1)}, []float64{-1, -2, nan}, 10)
	}
	bars := func() (*Chart, error) {
		return BalancedAccuracy("balanced accuracy", []string{"T-shirt/top", "Shirt", "Bag"},
			Bars{Name: "CV split", Values: []float64{0.8, nan, 0.6}}, Bars{Name: "test split", Values: []float64{0.7, 0.5, 0.9}})
	}
	check := func() (*Chart, error) {
		return CaptionCheck("caption check", CaptionCheckData{Ks: ks, HardCaption: "a photo of a red shirt",
			EasyCaption: "a photo of a blue shirt", Hard: []float64{0.2, 0.3, 0.4}, Easy: []float64{1, 1, 0.95}, ClassAverage: 0.8})
	}
	tests := []struct {
		name  string
		build func() (*Chart, error)
		// wantSVG are strings the SVG must contain (series names, title).
		wantSVG []string
	}{
		{"topk", topk, []string{"top-K", "SVM decision value", "base-model confidence"}},
		{"histogram", hist, []string{"hist", "correct (n=3)", "wrong (n=2)", "decision boundary (0)"}},
		{"bars", bars, []string{"balanced accuracy", "CV split", "test split", "n/a", "T-shirt/top", "chance (0.5)"}},
		{"caption check", check, []string{"hard: a photo of a red shirt", "easy: a photo of a blue shirt", "class average (0.800)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.build()
			if err != nil {
				t.Fatal(err)
			}
			img := renderChart(t, c)
			if n := darkPixels(img, img.Bounds()); n < 500 {
				t.Errorf("only %d dark pixels: chart looks blank", n)
			}
			s, err := c.SVG()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(s, []byte("<?xml")) || !bytes.Contains(s, []byte("<svg")) {
				t.Fatalf("SVG output does not look like SVG: %q", s[:min(len(s), 60)])
			}
			for _, want := range tc.wantSVG {
				if !bytes.Contains(s, []byte(escapeXML(want))) {
					t.Errorf("SVG lacks %q", want)
				}
			}
		})
	}
}

func escapeXML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

func TestBinFractions(t *testing.T) {
	tests := []struct {
		name      string
		vals      []float64
		want      []float64
		wantTotal int
	}{
		{"spread", []float64{0.5, 1.5, 1.7, 2.9}, []float64{0.25, 0.5, 0.25}, 4},
		{"ends clamp", []float64{-5, 3, 10}, []float64{1.0 / 3, 0, 2.0 / 3}, 3},
		{"non-finite ignored", []float64{math.NaN(), math.Inf(-1), 0.1}, []float64{1, 0, 0}, 1},
		{"empty", nil, []float64{0, 0, 0}, 0},
	}
	for _, tc := range tests {
		got, total := binFractions(tc.vals, 0, 1, 3)
		if total != tc.wantTotal {
			t.Errorf("%s: total %d, want %d", tc.name, total, tc.wantTotal)
		}
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-12 {
				t.Errorf("%s: fractions %v, want %v", tc.name, got, tc.want)
				break
			}
		}
	}
}

func TestChartErrors(t *testing.T) {
	tests := []struct {
		name string
		err  func() error
	}{
		{"topk length mismatch", func() error { _, err := TopK("t", []int{1, 2}, Curve{Name: "a", Y: []float64{1}}); return err }},
		{"topk no curves", func() error { _, err := TopK("t", []int{1, 2}); return err }},
		{"topk bad K", func() error { _, err := TopK("t", []int{0}, Curve{Name: "a", Y: []float64{1}}); return err }},
		{"topk infinite", func() error {
			_, err := TopK("t", []int{1}, Curve{Name: "a", Y: []float64{math.Inf(1)}})
			return err
		}},
		{"histogram empty", func() error { _, err := DecisionHistogram("h", nil, []float64{math.NaN()}, 0); return err }},
		{"bars mismatch", func() error {
			_, err := BalancedAccuracy("b", []string{"a", "b"}, Bars{Name: "x", Values: []float64{1}})
			return err
		}},
		{"bars none", func() error { _, err := BalancedAccuracy("b", []string{"a"}); return err }},
		{"grid empty", func() error { _, err := NewGrid(2).Render(PNG); return err }},
		{"grid zero cols", func() error {
			c, _ := TopK("t", []int{1}, Curve{Name: "a", Y: []float64{1}})
			_, err := NewGrid(0, c).Render(PNG)
			return err
		}},
		{"bad format", func() error {
			c, _ := TopK("t", []int{1}, Curve{Name: "a", Y: []float64{1}})
			_, err := c.Render("pdf")
			return err
		}},
		{"gallery empty", func() error { _, err := NewGallery("g", 0).PNG(); return err }},
		{"gallery bad cols", func() error { _, err := NewGallery("g", -1, Item{Caption: "x"}).PNG(); return err }},
	}
	for _, tc := range tests {
		if err := tc.err(); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestGridSize(t *testing.T) {
	var charts []*Chart
	for i := 0; i < 3; i++ {
		c, err := TopK("t", []int{1, 2}, Curve{Name: "a", Y: []float64{0.5, 0.6}})
		if err != nil {
			t.Fatal(err)
		}
		charts = append(charts, c)
	}
	b, err := NewGrid(2, charts...).PNG()
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, b)
	w, h := charts[0].Size()
	if got, want := img.Bounds().Size(), (image.Point{X: pxOf(2 * w), Y: pxOf(2 * h)}); got != want {
		t.Errorf("grid of 3 charts, 2 per row: size %v, want %v", got, want)
	}
	// The empty fourth cell stays white; the third (bottom-left) is drawn.
	half := img.Bounds().Dx() / 2
	if n := darkPixels(img, image.Rect(half, pxOf(h), img.Bounds().Dx(), img.Bounds().Dy())); n != 0 {
		t.Errorf("empty cell has %d dark pixels", n)
	}
	if n := darkPixels(img, image.Rect(0, pxOf(h), half, img.Bounds().Dy())); n < 500 {
		t.Errorf("third chart cell has only %d dark pixels", n)
	}
}

func solid(w, h int, c color.Color) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, c)
		}
	}
	return img
}

// TestGalleryLayout checks that each picture lands in its cell with its own colour, frames and captions are drawn
// where expected, and a nil picture leaves a gray placeholder.
func TestGalleryLayout(t *testing.T) {
	red := color.RGBA{200, 30, 40, 255}
	blue := color.RGBA{20, 60, 210, 255}
	green := color.RGBA{30, 170, 60, 255}
	frame := color.RGBA{255, 0, 0, 255}
	g := Extremes("class Shirt",
		[]Item{{Image: solid(28, 28, red), Caption: "hard one", Frame: frame}, {Image: solid(28, 14, blue), Caption: "wide"}},
		[]Item{{Image: solid(100, 100, green), Caption: "easy"}, {Caption: "missing"}})
	b, err := g.PNG()
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, b)
	wantW, wantH, err := g.Size()
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds().Size(); got != (image.Point{X: wantW, Y: wantH}) {
		t.Fatalf("PNG size %v, want %dx%d", got, wantW, wantH)
	}
	l, err := g.layout()
	if err != nil {
		t.Fatal(err)
	}
	if l.cols != 2 {
		t.Fatalf("Extremes of 2+2 items has %d columns, want 2", l.cols)
	}
	top := galleryMarginPx + l.titleH + l.headH // first section's first row
	cell := func(sectionRow, col int) image.Point {
		y := top + sectionRow*l.cellH
		if sectionRow > 0 {
			y += sectionGapPx + l.headH // the second section starts after a gap and its heading
		}
		return image.Point{X: galleryMarginPx + col*l.cellW + cellPadPx, Y: y + cellPadPx}
	}
	at := func(p image.Point, dx, dy int) color.NRGBA {
		return color.NRGBAModel.Convert(img.At(p.X+dx, p.Y+dy)).(color.NRGBA)
	}
	nrgba := func(c color.Color) color.NRGBA { return color.NRGBAModel.Convert(c).(color.NRGBA) }
	T := l.thumb
	checks := []struct {
		name   string
		p      image.Point
		dx, dy int
		want   color.Color
	}{
		{"red square centre", cell(0, 0), T / 2, T / 2, red},
		{"red square corner (28x28 enlarged 3x to 84x84, centred)", cell(0, 0), (T - 84) / 2, (T - 84) / 2, red},
		{"outside the frame", cell(0, 0), (T-84)/2 - 5, T / 2, color.White},
		{"frame just left of the red square", cell(0, 0), (T-84)/2 - 2, T / 2, frame},
		{"wide blue centre", cell(0, 1), T / 2, T / 2, blue},
		{"above the wide picture (letterbox)", cell(0, 1), T / 2, 5, color.White},
		{"green downscaled centre", cell(1, 0), T / 2, T / 2, green},
		{"placeholder", cell(1, 1), T / 2, T / 2, color.Gray{Y: galleryPlaceholderRG}},
	}
	for _, c := range checks {
		if got := at(c.p, c.dx, c.dy); got != nrgba(c.want) {
			t.Errorf("%s at %v+(%d,%d): got %v, want %v", c.name, c.p, c.dx, c.dy, got, nrgba(c.want))
		}
	}
	// Captions: text under each picture.
	for _, p := range []image.Point{cell(0, 0), cell(0, 1), cell(1, 0), cell(1, 1)} {
		r := image.Rect(p.X, p.Y+T+captionGapPx, p.X+T, p.Y+T+captionGapPx+l.capLineH)
		if n := darkPixels(img, r); n < 10 {
			t.Errorf("caption under cell at %v: %d dark pixels, want text", p, n)
		}
	}
	svg, err := g.SVG()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"class Shirt", "hard one", "easy", "missing", "most negative decision values (hard)"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if n := bytes.Count(svg, []byte("<image")); n != 3 {
		t.Errorf("SVG has %d embedded images, want 3", n)
	}
}

func TestWrapText(t *testing.T) {
	l, err := NewGallery("", 1, Item{Caption: "x"}).layout()
	if err != nil {
		t.Fatal(err)
	}
	sty, width := l.capSty, l.captionWidth
	tests := []struct {
		name      string
		txt       string
		maxLines  int
		wantLines int
		wantEll   bool
	}{
		{"short", "a red shirt", 2, 1, false},
		{"wraps", "a photo of a red shirt on a black background", 3, 3, false},
		{"truncated", "a photo of a red shirt on a black background with many more words to say", 2, 2, true},
		{"newline", "d=-1.2\nlabel Shirt", 2, 2, false},
		{"long word", strings.Repeat("x", 80), 5, 5, false},
		{"zero lines", "abc", 0, 0, false},
	}
	for _, tc := range tests {
		got := wrapText(tc.txt, sty, width, tc.maxLines)
		if len(got) != tc.wantLines {
			t.Errorf("%s: %d lines %q, want %d", tc.name, len(got), got, tc.wantLines)
			continue
		}
		for _, line := range got {
			if sty.Width(line) > width {
				t.Errorf("%s: line %q is %v wide, limit %v", tc.name, line, sty.Width(line), width)
			}
		}
		if len(got) > 0 && strings.HasSuffix(got[len(got)-1], ellipsis) != tc.wantEll {
			t.Errorf("%s: last line %q, ellipsis wanted: %v", tc.name, got[len(got)-1], tc.wantEll)
		}
		if !tc.wantEll && tc.maxLines > 0 {
			joined := strings.Join(strings.Fields(strings.Join(got, "")), "")
			if joined != strings.Join(strings.Fields(tc.txt), "") {
				t.Errorf("%s: text lost: %q from %q", tc.name, got, tc.txt)
			}
		}
	}
}

func TestSaveAndShow(t *testing.T) {
	c, err := TopK("t", []int{1, 2}, Curve{Name: "a", Y: []float64{0.5, 0.6}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"sub/chart.png", "chart.svg"} {
		path := filepath.Join(dir, name)
		if err := c.Save(path); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".png") {
			decodePNG(t, b)
		} else if !bytes.Contains(b, []byte("<svg")) {
			t.Errorf("%s is not SVG", name)
		}
	}
	if err := c.Save(filepath.Join(dir, "chart.pdf")); err == nil {
		t.Error("saving .pdf: no error")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}

	defer func(d func([]byte), n func() bool) { display, inNotebook = d, n }(display, inNotebook)
	var shown [][]byte
	display = func(b []byte) { shown = append(shown, b) }

	inNotebook = func() bool { return false }
	if err := Show(c, ""); err == nil {
		t.Error("Show outside a notebook with no path: no error")
	}
	out := filepath.Join(dir, "shown.png")
	if err := Show(c, out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(out); err != nil || len(shown) != 0 {
		t.Errorf("outside a notebook Show must write %s (stat err %v) and display nothing (%d displays)", out, err, len(shown))
	}

	inNotebook = func() bool { return true }
	notWritten := filepath.Join(dir, "not-written.png")
	if err := c.Show(notWritten); err != nil {
		t.Fatal(err)
	}
	if len(shown) != 1 {
		t.Fatalf("in a notebook Show displayed %d times, want 1", len(shown))
	}
	decodePNG(t, shown[0])
	if _, err := os.Stat(notWritten); err == nil {
		t.Error("in a notebook Show wrote a file")
	}
}

func TestFitImage(t *testing.T) {
	tests := []struct {
		name       string
		w, h       int
		wantW      int
		wantH      int
		wantX      int
		wantY      int
		wantNilImg bool
	}{
		{"28x28 enlarged 3x", 28, 28, 84, 84, 6, 6, false},
		{"28x14 enlarged 3x", 28, 14, 84, 42, 6, 27, false},
		{"60x60 enlarged 1.6x", 60, 60, 96, 96, 0, 0, false},
		{"96x96 copied", 96, 96, 96, 96, 0, 0, false},
		{"300x100 reduced", 300, 100, 96, 32, 0, 32, false},
		{"empty", 0, 0, 0, 0, 0, 0, true},
	}
	for _, tc := range tests {
		var img image.Image = image.NewRGBA(image.Rect(0, 0, tc.w, tc.h))
		f := fitImage(img, 96)
		if (f.img == nil) != tc.wantNilImg || f.w != tc.wantW || f.h != tc.wantH || f.x != tc.wantX || f.y != tc.wantY {
			t.Errorf("%s: got %dx%d at (%d,%d) nil=%v; want %dx%d at (%d,%d)", tc.name, f.w, f.h, f.x, f.y, f.img == nil,
				tc.wantW, tc.wantH, tc.wantX, tc.wantY)
		}
	}
	// Whole-factor enlargement keeps every source pixel as a uniform 3x3 block.
	src := image.NewGray(image.Rect(0, 0, 28, 28))
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 7)
	}
	f := fitImage(src, 96)
	for y := 0; y < 84; y++ {
		for x := 0; x < 84; x++ {
			want := color.RGBAModel.Convert(src.At(x/3, y/3))
			if got := f.img.At(x, y); got != want {
				t.Fatalf("pixel (%d,%d) = %v, want source pixel (%d,%d) = %v", x, y, got, x/3, y/3, want)
			}
		}
	}
	if f := fitImage(nil, 96); f.img != nil {
		t.Error("nil image gave a picture")
	}
}

// TestTopKTicksNeverOverlap checks the K axis labels of a top-K chart: K = 5 and 10 on an axis up to 1000 would
// print "510"; the largest K is always labelled and no two labels overlap.
func TestTopKTicksNeverOverlap(t *testing.T) {
	for _, ks := range [][]int{{5, 10, 20, 50, 100, 1000}, {10, 20, 50, 100}, {5, 10, 25, 50}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}} {
		c, err := TopK("t", ks, Curve{Name: "a", Y: make([]float64, len(ks))})
		if err != nil {
			t.Fatal(err)
		}
		m := c.Plot.X.Tick.Marker.(spacedTicks)
		lo, hi := float64(ks[0]), float64(ks[len(ks)-1])
		ticks := m.Ticks(lo, hi)
		if len(ticks) != len(ks) || ticks[len(ticks)-1].Label != strconv.Itoa(ks[len(ks)-1]) {
			t.Fatalf("ks %v: ticks %+v, want one per K and the largest labelled", ks, ticks)
		}
		// The rendered data area is at least as wide as the marker assumes.
		area := max(m.width*0.75, m.width-vg.Points(60))
		prev := -1
		labelled := 0
		for i, tk := range ticks {
			if tk.Label == "" {
				continue
			}
			labelled++
			if prev >= 0 {
				a, b := ticks[prev], tk
				dist := area * vg.Length((b.Value-a.Value)/(hi-lo))
				if need := m.style.Width(a.Label)/2 + m.style.Width(b.Label)/2; dist < need {
					t.Errorf("ks %v: labels %q and %q overlap (%.1f apart, need %.1f)", ks, a.Label, b.Label, dist, need)
				}
			}
			prev = i
		}
		if len(ks) <= 4 && labelled != len(ks) {
			t.Errorf("ks %v: only %d labelled, want all of few well-spread K", ks, labelled)
		}
		if ks[0] == 5 && ks[len(ks)-1] == 1000 && ticks[0].Label != "" && ticks[1].Label != "" {
			t.Errorf("ks %v: 5 and 10 both labelled", ks)
		}
	}
}

func TestScatter(t *testing.T) {
	c, err := Scatter("s", "x", "y", true, []Points{{Name: "a", X: []float64{0, 10}, Y: []float64{0, 1}}, {Name: "b", X: []float64{5}, Y: []float64{0.5}}},
		Segment{Name: "direction", X0: 0, Y0: 0, X1: 1, Y1: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Equal units: the y range is widened to match the wider x range in plot-area units.
	xr, yr := c.Plot.X.Max-c.Plot.X.Min, c.Plot.Y.Max-c.Plot.Y.Min
	w, h := float64(max(c.Width*0.75, c.Width-vg.Points(60))), float64(c.Height-vg.Points(60))
	if math.Abs(xr/w-yr/h) > 1e-9*xr || xr < 10 {
		t.Errorf("x range %v, y range %v: units differ (plot area %v×%v)", xr, yr, w, h)
	}
	if c.Plot.X.Min > 0 || c.Plot.X.Max < 10 || c.Plot.Y.Min > 0 || c.Plot.Y.Max < 1 {
		t.Errorf("axes [%v, %v]×[%v, %v] do not hold the data", c.Plot.X.Min, c.Plot.X.Max, c.Plot.Y.Min, c.Plot.Y.Max)
	}
	if _, err := c.PNG(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]Points{nil, {{Name: "a", X: []float64{1}, Y: nil}}, {{Name: "a", X: []float64{math.NaN()}, Y: []float64{1}}}} {
		if _, err := Scatter("bad", "x", "y", true, bad); err == nil {
			t.Errorf("sets %+v: no error", bad)
		}
	}
}
