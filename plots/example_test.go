package plots_test

import (
	"fmt"
	"image"
	"image/color"
	"log"

	"github.com/faildirs/faildirs/plots"
	"gonum.org/v1/plot/vg"
)

// The surfacing chart of the paper: the share of a known subgroup among the K hardest images of each class, for
// the SVM's ranking against the base model's confidence and the subgroup's base rate. Show displays it inline in
// a GoNB notebook and writes the file elsewhere.
func ExampleTopK() {
	ks := []int{10, 25, 50, 100}
	chart, err := plots.TopK("minority share among the K hardest test images", ks,
		plots.Curve{Name: "SVM decision value", Y: []float64{1, 0.96, 0.9, 0.7}},
		plots.Curve{Name: "base-model confidence", Y: []float64{0.7, 0.6, 0.55, 0.45}},
		plots.Constant("base rate", 0.5, len(ks)))
	if err != nil {
		log.Fatal(err)
	}
	chart.Width, chart.Height = 4*vg.Inch, 2.5*vg.Inch
	if err := chart.Show("testdata/topk.png"); err != nil {
		log.Fatal(err)
	}
	w, h := chart.Size()
	fmt.Printf("%.0f × %.0f points\n", w.Points(), h.Points())
	// Output:
	// 288 × 222 points
}

// A gallery of a class's hardest and easiest images, captioned; a frame marks the base model's mistakes.
func ExampleExtremes() {
	red := solid(28, 28, color.RGBA{200, 30, 40, 255})
	blue := solid(28, 28, color.RGBA{20, 60, 210, 255})
	gallery := plots.Extremes("class Shirt",
		[]plots.Item{{Image: red, Caption: "a photo of a red shirt", Frame: color.RGBA{255, 0, 0, 255}}},
		[]plots.Item{{Image: blue, Caption: "a photo of a blue shirt"}})
	gallery.Thumb = 48
	if err := gallery.Show("testdata/gallery.png"); err != nil {
		log.Fatal(err)
	}
	w, h, err := gallery.Size()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d × %d pixels\n", w, h)
	// Output:
	// 284 × 274 pixels
}

// solid returns a w×h image of one colour.
func solid(w, h int, c color.Color) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	return img
}
