package imgproc

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestResizeCropMatchesResizeThenCrop: computing only the crop gives the bytes of the full resize followed by the
// crop, for upscaling, downscaling, unchanged axes and thin images.
func TestResizeCropMatchesResizeThenCrop(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ sw, sh, size int }{
		{40, 30, 16}, {30, 40, 16}, {16, 50, 16}, {50, 16, 16}, {7, 9, 24}, {3, 200, 12}, {200, 3, 12}, {16, 16, 16}, {1, 40, 8},
	} {
		src := NewRGB(tc.sw, tc.sh)
		for i := range src.Pix {
			src.Pix[i] = uint8(rng.IntN(256))
		}
		w, h := ShortSideSize(tc.sw, tc.sh, tc.size)
		for _, rule := range []CropRule{CropOpenAI, CropHF} {
			top, left := CropOffsets(w, h, tc.size, rule)
			want := Crop(ResizeBicubic(src, w, h), top, left, tc.size)
			got := ResizeCropBicubic(src, w, h, top, left, tc.size)
			if got.W != want.W || got.H != want.H || !bytes.Equal(got.Pix, want.Pix) {
				t.Errorf("%dx%d → %dx%d, crop %d at (%d,%d): differs from resize-then-crop", tc.sw, tc.sh, w, h, tc.size, top, left)
			}
		}
	}
}

// TestThinImageIsCheap holds issue 11's 1×40000 PNG: CLIP's short-side resize made it 224×8,960,000 before the
// centre crop, 7.3 GB and 50 s; now only the crop is computed.
func TestThinImageIsCheap(t *testing.T) {
	for _, dims := range [][2]int{{1, 40000}, {40000, 1}} {
		src := NewRGB(dims[0], dims[1])
		for i := range src.Pix {
			src.Pix[i] = uint8(i)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		out, err := CLIPConfig(224).PrepareRGB(src)
		runtime.ReadMemStats(&after)
		if err != nil || out.W != 224 || out.H != 224 {
			t.Fatalf("%dx%d: %v", dims[0], dims[1], err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
			t.Errorf("%dx%d: preprocessing allocated %s, want under 8 MB", dims[0], dims[1], fmt.Sprintf("%.1f MB", float64(alloc)/(1<<20)))
		}
	}
}
