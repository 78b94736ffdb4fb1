package data

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// pngWithHeader returns a PNG of w×h pixels (colour type ct, 8 bits) whose IDAT holds the zlib stream of raw
// (possibly far less data than the header implies).
func pngWithHeader(w, h uint32, ct byte, raw []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
	chunk("IHDR", append(ihdr, 8, ct, 0, 0, 0))
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw)
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}

// TestPixelBudget holds issue 11's image bombs: a 74-byte PNG claiming 100000×100000 RGBA pixels killed
// `faildirs embed -skip-bad` (out of memory); a 875 KB gray PNG of 30000×30000 took 4.6 GB. Both are refused from
// their header, with an error naming the file, its size and the budget, before any pixel is allocated.
func TestPixelBudget(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.png")
	os.WriteFile(huge, pngWithHeader(100000, 100000, 6, make([]byte, 10)), 0o644)
	gray := filepath.Join(dir, "gray.png")
	os.WriteFile(gray, pngWithHeader(30000, 30000, 0, make([]byte, 30001*4)), 0o644) // the bomb's header, cut short
	for _, tc := range []struct {
		path, size string
	}{{huge, "100000×100000 = 10000000000 pixels"}, {gray, "30000×30000 = 900000000 pixels"}} {
		_, err := DecodeFile(tc.path)
		if !errors.Is(err, ErrTooManyPixels) || !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.size) ||
			!strings.Contains(err.Error(), "67108864") {
			t.Errorf("DecodeFile(%s): %v, want ErrTooManyPixels naming the file, %s and the budget", tc.path, err, tc.size)
		}
	}
	// A real image just over a small budget is refused; at the budget it decodes.
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 100, 50)))
	small := filepath.Join(dir, "small.png")
	os.WriteFile(small, buf.Bytes(), 0o644)
	if _, err := (Decoder{MaxPixels: 4999}).DecodeFile(small); !errors.Is(err, ErrTooManyPixels) {
		t.Errorf("100×50 with a budget of 4999: %v", err)
	}
	if img, err := (Decoder{MaxPixels: 5000}).DecodeFile(small); err != nil || img.Bounds().Dx() != 100 {
		t.Errorf("100×50 with a budget of 5000: %v", err)
	}
	// An image split decodes its files with its Decoder, and Batch reports the file.
	s := &ImageSplit{Name: "val", IDs: []string{"a"}, Labels: []int{0}, Files: []string{small}, Decoder: Decoder{MaxPixels: 10}}
	if _, err := s.Batch([]int{0}, 8, 8); !errors.Is(err, ErrTooManyPixels) || !strings.Contains(err.Error(), small) {
		t.Errorf("Batch with a budget of 10 pixels: %v", err)
	}
	if sub := s.Subset([]int{0}); sub.Decoder != s.Decoder {
		t.Errorf("Subset dropped the decoder")
	}
	// Zero-sized images are refused too (they have no pixels to resize).
	empty := filepath.Join(dir, "empty.png")
	os.WriteFile(empty, pngWithHeader(0, 5, 0, nil), 0o644)
	if _, err := DecodeFile(empty); err == nil {
		t.Errorf("a 0×5 PNG decoded")
	}
}

// FuzzDecode decodes arbitrary bytes with a 2^20-pixel budget and resizes what decodes, as the embedding and
// training paths do. Nothing may panic (a decoder panic would surface as an error saying "panicked"), and nothing
// larger than the budget may come back.
func FuzzDecode(f *testing.F) {
	var buf bytes.Buffer
	png.Encode(&buf, tinyImage())
	f.Add(buf.Bytes())
	f.Add(pngWithHeader(100000, 100000, 6, make([]byte, 10)))
	f.Add(pngWithHeader(3, 2, 2, make([]byte, 2*10)))
	if webp, err := os.ReadFile(filepath.Join("testdata", "tiny.webp")); err == nil {
		f.Add(webp)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := Decoder{MaxPixels: 1 << 20}
		img, err := d.Decode(bytes.NewReader(data))
		if err != nil {
			if strings.Contains(err.Error(), "panicked") {
				t.Fatalf("decoder panic: %v", err)
			}
			return
		}
		b := img.Bounds()
		if b.Dx() <= 0 || b.Dy() <= 0 || b.Dx()*b.Dy() > d.Budget() {
			t.Fatalf("decoded %v with a budget of %d pixels", b, d.Budget())
		}
		if r := FitRGB(img, 7, 5); r.Bounds().Dx() != 5 || r.Bounds().Dy() != 7 {
			t.Fatalf("FitRGB gave %v", r.Bounds())
		}
	})
}

// TestPixelGate: goroutines holding a gate never hold more than its budget together; a request above the budget
// is capped (it goes alone) instead of waiting for ever.
func TestPixelGate(t *testing.T) {
	g := NewPixelGate(100)
	var mu sync.Mutex
	held, peak := 0, 0
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			n := []int{10, 60, 100, 1000}[i%4]
			release := g.Acquire(n)
			mu.Lock()
			held += min(n, 100)
			peak = max(peak, held)
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			held -= min(n, 100)
			mu.Unlock()
			release()
		})
	}
	wg.Wait()
	if peak > 100 || peak == 0 {
		t.Errorf("peak %d pixels held at once with a budget of 100", peak)
	}
	var none *PixelGate
	none.Acquire(1 << 40)() // a nil gate limits nothing
}
