package plots_test

import (
	"bytes"
	"flag"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden images in testdata from the examples' output")

// exampleImages are the files the examples write (compared with their _golden twins).
var exampleImages = []string{"topk.png", "gallery.png"}

// TestMain removes the examples' images after a passing run (examples run after the tests and write them
// again); after a failure they stay for a look.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		for _, name := range exampleImages {
			_ = os.Remove(filepath.Join("testdata", name))
		}
	}
	os.Exit(code)
}

// TestExamplesMatchGolden runs the examples, which write testdata/<name>.png, and compares each image with
// testdata/<name>_golden.png pixel by pixel (rendering is pure Go with embedded fonts, so it is deterministic).
// Run with -update to rewrite the goldens after an intended change, and look at them.
func TestExamplesMatchGolden(t *testing.T) {
	for _, tc := range []struct {
		name    string
		example func()
	}{{exampleImages[0], ExampleTopK}, {exampleImages[1], ExampleExtremes}} {
		t.Run(tc.name, func(t *testing.T) {
			tc.example()
			path := filepath.Join("testdata", tc.name)
			golden := strings.TrimSuffix(path, ".png") + "_golden.png"
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("the example did not write %s: %v", path, err)
			}
			if *update {
				if err := os.Rename(path, golden); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := pixelDiff(t, got, want); diff != 0 {
				t.Fatalf("%d pixels of %s differ from %s", diff, path, golden)
			}
		})
	}
}

// pixelDiff decodes two PNGs and counts the pixels that differ (failing on different sizes).
func pixelDiff(t *testing.T, a, b []byte) int {
	t.Helper()
	ia, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	ib, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if ia.Bounds() != ib.Bounds() {
		t.Fatalf("size %v, golden %v", ia.Bounds(), ib.Bounds())
	}
	diff := 0
	for y := ia.Bounds().Min.Y; y < ia.Bounds().Max.Y; y++ {
		for x := ia.Bounds().Min.X; x < ia.Bounds().Max.X; x++ {
			if color.NRGBAModel.Convert(ia.At(x, y)) != color.NRGBAModel.Convert(ib.At(x, y)) {
				diff++
			}
		}
	}
	return diff
}
