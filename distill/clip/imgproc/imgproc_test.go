package imgproc

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"testing"
)

type jtensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

type preprocessGolden struct {
	NPx   int          `json:"n_px"`
	Mean  [3]float64   `json:"mean"`
	Std   [3]float64   `json:"std"`
	Cases []goldenCase `json:"cases"`
}

type goldenCase struct {
	Name       string  `json:"name"`
	Input      jtensor `json:"input_hwc_uint8"`
	Resized    jtensor `json:"resized_hwc_uint8"`
	OpenAICrop [2]int  `json:"openai_crop_top_left"`
	HFCrop     [2]int  `json:"hf_crop_top_left"`
	PixelsOAI  jtensor `json:"pixel_values_openai"`
	PixelsHF   jtensor `json:"pixel_values_hf_derived"`
}

func rgbFrom(t jtensor) *RGB {
	h, w := t.Shape[0], t.Shape[1]
	img := NewRGB(w, h)
	for i, v := range t.Data {
		img.Pix[i] = uint8(v)
	}
	return img
}

// TestPreprocessGolden checks resize bytes (exact: Pillow's fixed-point bicubic is reproduced), crop offsets
// (exact) and normalised values (1e-5) against torchvision/Pillow outputs.
func TestPreprocessGolden(t *testing.T) {
	raw, err := os.ReadFile("testdata/preprocess_golden.json")
	if err != nil {
		t.Fatalf("preprocess golden: %v", err)
	}
	var g preprocessGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	for ch := range 3 {
		if float32(g.Mean[ch]) != CLIPMean[ch] || float32(g.Std[ch]) != CLIPStd[ch] {
			t.Errorf("channel %d: mean/std %v/%v, golden %v/%v", ch, CLIPMean[ch], CLIPStd[ch], g.Mean[ch], g.Std[ch])
		}
	}
	if len(g.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			in := rgbFrom(c.Input)
			w, h := ShortSideSize(in.W, in.H, g.NPx)
			if h != c.Resized.Shape[0] || w != c.Resized.Shape[1] {
				t.Fatalf("resized to %dx%d, want %dx%d", w, h, c.Resized.Shape[1], c.Resized.Shape[0])
			}
			resized := ResizeBicubic(in, w, h)
			maxDiff := 0
			for i, v := range c.Resized.Data {
				maxDiff = max(maxDiff, absInt(int(resized.Pix[i])-int(v)))
			}
			if maxDiff != 0 {
				t.Errorf("resized bytes differ from Pillow by up to %d levels", maxDiff)
			}
			for _, rc := range []struct {
				rule CropRule
				want [2]int
				px   jtensor
			}{{CropOpenAI, c.OpenAICrop, c.PixelsOAI}, {CropHF, c.HFCrop, c.PixelsHF}} {
				top, left := CropOffsets(w, h, g.NPx, rc.rule)
				if top != rc.want[0] || left != rc.want[1] {
					t.Errorf("%s crop at (%d,%d), want (%d,%d)", rc.rule, top, left, rc.want[0], rc.want[1])
				}
				cfg := CLIPConfig(g.NPx)
				cfg.Crop = rc.rule
				dst := make([]float32, 3*g.NPx*g.NPx)
				rgb, err := cfg.PrepareRGB(in)
				if err != nil {
					t.Fatal(err)
				}
				if err := cfg.Normalize(rgb, dst); err != nil {
					t.Fatal(err)
				}
				maxErr := 0.0
				for i, v := range rc.px.Data {
					maxErr = math.Max(maxErr, math.Abs(float64(dst[i])-v))
				}
				t.Logf("%s crop (%d,%d): resized bytes max diff %d levels, pixel values max |Δ| %.2g", rc.rule, top, left, maxDiff, maxErr)
				if maxErr > 1e-5 {
					t.Errorf("%s pixel values differ by %.3g (> 1e-5)", rc.rule, maxErr)
				}
			}
		})
	}
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestToRGBConversions checks grey, alpha, CMYK and paletted inputs become the RGB Pillow's convert("RGB") gives.
func TestToRGBConversions(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 2, 1))
	gray.Pix = []uint8{10, 200}
	nrgba := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	nrgba.Pix = []uint8{100, 150, 200, 0} // fully transparent: colour kept, alpha dropped
	cmyk := image.NewCMYK(image.Rect(0, 0, 1, 1))
	cmyk.Pix = []uint8{0, 128, 255, 64}
	pal := image.NewPaletted(image.Rect(0, 0, 1, 1), color.Palette{color.NRGBA{1, 2, 3, 255}, color.NRGBA{7, 8, 9, 255}})
	pal.Pix = []uint8{1}
	tests := []struct {
		name string
		img  image.Image
		want []uint8
	}{
		{"gray", gray, []uint8{10, 10, 10, 200, 200, 200}},
		{"nrgba transparent", nrgba, []uint8{100, 150, 200}},
		// Pillow: 255-k = 191; c=0 → 191; m=128 → 191 - muldiv255(128,191) = 191-96 = 95; y=255 → 0.
		{"cmyk", cmyk, []uint8{191, 95, 0}},
		{"paletted", pal, []uint8{7, 8, 9}},
	}
	for _, tc := range tests {
		got := ToRGB(tc.img).Pix
		if !bytes.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestDecodeErrors checks a truncated JPEG and a non-image are errors naming the file.
func TestPNGThroughThePipeline(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var buf bytes.Buffer
	must(t, png.Encode(&buf, img))
	dec, err := png.Decode(&buf)
	must(t, err)
	cfg := CLIPConfig(32)
	dst := make([]float32, 3*32*32)
	must(t, cfg.Pixels(dec, dst))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
