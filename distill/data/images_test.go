package data

import (
	"image"
	"image/color"
	"math"
	"testing"
)

func TestImagesRoundTrip(t *testing.T) {
	im := NewImages(2, 2, 3, 3)
	for i := range im.Pix {
		im.Pix[i] = uint8(i)
	}
	if err := im.Validate(); err != nil {
		t.Fatal(err)
	}
	rgba := im.Image(1).(*image.RGBA)
	if got, want := rgba.RGBAAt(2, 1), (color.RGBA{18 + 15, 18 + 16, 18 + 17, 255}); got != want {
		t.Errorf("pixel (x=2,y=1) of image 1 = %v, want %v", got, want)
	}
	sub := im.Subset([]int{1, 1, 0})
	if sub.N != 3 || sub.Pixels(0)[0] != 18 || sub.Pixels(2)[0] != 0 {
		t.Errorf("Subset: N=%d first bytes %d %d", sub.N, sub.Pixels(0)[0], sub.Pixels(2)[0])
	}
	g := &Images{N: 1, H: 1, W: 2, C: 1, Pix: []uint8{10, 255}}
	rgb := g.RGB()
	if rgb.C != 3 || rgb.Pix[3] != 255 || rgb.Pix[4] != 255 || rgb.Pix[0] != 10 {
		t.Errorf("RGB of gray = %v", rgb.Pix)
	}
	if f := g.Float32(); f[1] != 1 || math.Abs(float64(f[0])-10.0/255) > 1e-7 {
		t.Errorf("Float32 = %v", f)
	}
	bad := &Images{N: 1, H: 2, W: 2, C: 3, Pix: make([]uint8, 5)}
	if bad.Validate() == nil {
		t.Error("Validate accepted a short Pix")
	}
	if (&Images{N: 1, H: 1, W: 1, C: 2, Pix: make([]uint8, 2)}).Validate() == nil {
		t.Error("Validate accepted C=2")
	}
}

func TestFitRGB(t *testing.T) {
	// A 4×2 (w×h) image: left half red, right half blue. A 2×2 target crops the centre 2×2 (one red, one blue
	// column) and needs no scaling.
	src := image.NewRGBA(image.Rect(0, 0, 4, 2))
	for y := range 2 {
		for x := range 4 {
			c := color.RGBA{255, 0, 0, 255}
			if x >= 2 {
				c = color.RGBA{0, 0, 255, 255}
			}
			src.SetRGBA(x, y, c)
		}
	}
	out := FitRGB(src, 2, 2)
	if got := out.RGBAAt(0, 0); got != (color.RGBA{255, 0, 0, 255}) {
		t.Errorf("left pixel %v, want red", got)
	}
	if got := out.RGBAAt(1, 1); got != (color.RGBA{0, 0, 255, 255}) {
		t.Errorf("right pixel %v, want blue", got)
	}
	// Downscaling a uniform image keeps it uniform; upscaling too.
	uni := image.NewUniform(color.RGBA{40, 80, 120, 255})
	big := image.NewRGBA(image.Rect(0, 0, 37, 23))
	for y := range 23 {
		for x := range 37 {
			big.Set(x, y, uni)
		}
	}
	for _, sz := range [][2]int{{5, 7}, {64, 64}, {1, 1}} {
		r := FitRGB(big, sz[0], sz[1])
		if r.Rect.Dx() != sz[1] || r.Rect.Dy() != sz[0] {
			t.Fatalf("size %v: got %v", sz, r.Rect)
		}
		for i := 0; i < len(r.Pix); i += 4 {
			if r.Pix[i] != 40 || r.Pix[i+1] != 80 || r.Pix[i+2] != 120 || r.Pix[i+3] != 255 {
				t.Fatalf("size %v: pixel %d = %v, want uniform (40,80,120)", sz, i/4, r.Pix[i:i+4])
			}
		}
	}
	// Halving a 1-pixel checkerboard averages it to mid-gray (antialiasing), not to one of the two values.
	cb := image.NewGray(image.Rect(0, 0, 8, 8))
	for y := range 8 {
		for x := range 8 {
			if (x+y)%2 == 0 {
				cb.Pix[y*8+x] = 255
			}
		}
	}
	r := FitRGB(cb, 4, 4)
	for y := 1; y < 3; y++ {
		for x := 1; x < 3; x++ {
			if v := r.RGBAAt(x, y).R; v < 110 || v > 145 {
				t.Errorf("checkerboard halved: pixel (%d,%d) = %d, want about 128", x, y, v)
			}
		}
	}
}

func TestResampleWeightsSumToOne(t *testing.T) {
	for _, nm := range [][2]int{{10, 3}, {3, 10}, {178, 64}, {7, 7}, {1, 5}} {
		for o, ts := range resampleWeights(nm[0], nm[1]) {
			var s float64
			for _, tp := range ts {
				if tp.i < 0 || tp.i >= nm[0] {
					t.Fatalf("%v: output %d taps source %d", nm, o, tp.i)
				}
				s += float64(tp.w)
			}
			if math.Abs(s-1) > 1e-5 {
				t.Fatalf("%v: output %d weights sum to %v", nm, o, s)
			}
		}
	}
}

func TestTintGray(t *testing.T) {
	dst := make([]uint8, 6)
	TintGray(dst, []uint8{0, 255}, color.RGBA{230, 25, 25, 255})
	want := []uint8{0, 0, 0, 230, 25, 25}
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("TintGray = %v, want %v", dst, want)
		}
	}
	if _, err := ParseColor("Chartreuse"); err == nil {
		t.Error("ParseColor accepted an unknown colour")
	}
	if c, err := ParseColor(" Green "); err != nil || c != Palette["green"] {
		t.Errorf("ParseColor(green) = %v, %v", c, err)
	}
}
