package data

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// tinyImage is the 4×3 picture of testdata/tiny.webp: pixel (x, y) = (60x, 80y, 200), opaque.
func tinyImage() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 4, 3))
	for y := range 3 {
		for x := range 4 {
			img.Set(x, y, color.NRGBA{uint8(60 * x), uint8(80 * y), 200, 255})
		}
	}
	return img
}

// TestDecodeEveryListedFormat writes the tiny picture in every format of ImageExtensions (encoded here, WebP from
// testdata since Go has no WebP encoder) and decodes it with DecodeFile.
func TestDecodeEveryListedFormat(t *testing.T) {
	src := tinyImage()
	webp, err := os.ReadFile(filepath.Join("testdata", "tiny.webp")) // cwebp -lossless -exact of the same picture
	if err != nil {
		t.Fatal(err)
	}
	encoders := map[string]func(io.Writer) error{
		".png":  func(w io.Writer) error { return png.Encode(w, src) },
		".jpg":  func(w io.Writer) error { return jpeg.Encode(w, src, &jpeg.Options{Quality: 100}) },
		".jpeg": func(w io.Writer) error { return jpeg.Encode(w, src, &jpeg.Options{Quality: 100}) },
		".gif":  func(w io.Writer) error { return gif.Encode(w, src, nil) },
		".bmp":  func(w io.Writer) error { return bmp.Encode(w, src) },
		".tif":  func(w io.Writer) error { return tiff.Encode(w, src, nil) },
		".tiff": func(w io.Writer) error { return tiff.Encode(w, src, nil) },
		".webp": func(w io.Writer) error { _, err := w.Write(webp); return err },
	}
	// Lossless formats must give the pixels back exactly; JPEG (chroma subsampled on a 4×3 picture of sharp
	// colour steps) and GIF (a palette) close on average.
	tolerance := map[string]float64{".jpg": 24, ".jpeg": 24, ".gif": 16}
	dir := t.TempDir()
	for _, ext := range ImageExtensions() {
		t.Run(ext, func(t *testing.T) {
			enc, ok := encoders[ext]
			if !ok {
				t.Fatalf("no test encoder for listed extension %s", ext)
			}
			var buf bytes.Buffer
			if err := enc(&buf); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "tiny"+strings.ToUpper(ext)) // extensions match in any case
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			if !IsImageFile(path) {
				t.Errorf("IsImageFile(%s) = false", path)
			}
			img, err := DecodeFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if img.Bounds().Dx() != 4 || img.Bounds().Dy() != 3 {
				t.Fatalf("decoded %v, want 4×3", img.Bounds())
			}
			var sum float64
			for y := range 3 {
				for x := range 4 {
					got := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
					want := src.NRGBAAt(x, y)
					for _, d := range []int{int(got.R) - int(want.R), int(got.G) - int(want.G), int(got.B) - int(want.B)} {
						sum += float64(max(d, -d))
					}
				}
			}
			if mean := sum / (4 * 3 * 3); mean > tolerance[ext] {
				t.Errorf("decoded values differ from the picture by %.1f levels on average, want ≤ %g", mean, tolerance[ext])
			}
		})
	}
}

func TestIsImageFile(t *testing.T) {
	for name, want := range map[string]bool{
		"a.jpg": true, "dir/B.JPEG": true, "c.webp": true, "d.Tif": true, "e.bmp": true,
		"notes.txt": false, "archive.jpg.gz": false, "._a.jpg": false, ".hidden.png": false, "noext": false,
	} {
		if got := IsImageFile(name); got != want {
			t.Errorf("IsImageFile(%q) = %v, want %v", name, got, want)
		}
	}
	exts := ImageExtensions()
	exts[0] = ".exe"
	if slices.Contains(ImageExtensions(), ".exe") {
		t.Error("ImageExtensions returns the package's own slice")
	}
}

func TestDecodeFileErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, tinyImage(), nil); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{"truncated.jpg": buf.Bytes()[:buf.Len()/2], "notes.png": []byte("not an image")}
	for name, b := range cases {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeFile(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("DecodeFile(%s): error %v must name the file", name, err)
		}
	}
	if _, err := DecodeFile(filepath.Join(dir, "missing.png")); err == nil || !strings.Contains(err.Error(), "missing.png") {
		t.Errorf("missing file: error %v", err)
	}
}
