package smoke

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/faildirs/faildirs/internal/atomicfile"
)

// manifestName is the file recording what a folder was generated with; it is written last.
const manifestName = "smoke.json"

// upToDate reports whether dir holds a manifest equal to want (the JSON of the configuration).
func upToDate(dir string, want []byte) bool {
	have, err := os.ReadFile(filepath.Join(dir, manifestName))
	return err == nil && bytes.Equal(have, want)
}

// manifest is the JSON of a generator's configuration (with its kind), the content of smoke.json.
func manifest(kind string, cfg any) ([]byte, error) {
	raw, err := json.MarshalIndent(struct {
		Kind   string `json:"kind"`
		Config any    `json:"config"`
	}{kind, cfg}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("smoke: %s manifest: %w", kind, err)
	}
	return append(raw, '\n'), nil
}

// canvas is an RGB image being drawn.
type canvas struct{ img *image.RGBA }

func newCanvas(w, h int, bg color.RGBA) canvas {
	c := canvas{image.NewRGBA(image.Rect(0, 0, w, h))}
	c.rect(0, 0, w, h, bg)
	return c
}

// rect fills [x0, x1) × [y0, y1) with col.
func (c canvas) rect(x0, y0, x1, y1 int, col color.RGBA) {
	for y := max(y0, 0); y < min(y1, c.img.Rect.Dy()); y++ {
		for x := max(x0, 0); x < min(x1, c.img.Rect.Dx()); x++ {
			c.img.SetRGBA(x, y, col)
		}
	}
}

// ellipse fills the ellipse centred at (cx, cy) with radii rx, ry.
func (c canvas) ellipse(cx, cy, rx, ry float64, col color.RGBA) {
	b := c.img.Rect
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			dx, dy := (float64(x)+0.5-cx)/rx, (float64(y)+0.5-cy)/ry
			if dx*dx+dy*dy <= 1 {
				c.img.SetRGBA(x, y, col)
			}
		}
	}
}

// noise adds uniform noise in [-amp, amp] to every channel.
func (c canvas) noise(amp int, rng *rand.Rand) {
	p := c.img.Pix
	for i := 0; i < len(p); i += 4 {
		for k := range 3 {
			p[i+k] = uint8(min(max(int(p[i+k])+rng.IntN(2*amp+1)-amp, 0), 255))
		}
	}
}

// writeJPEG writes the canvas as a JPEG at path (atomically), creating its folder.
func (c canvas) writeJPEG(path string) error {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, c.img, &jpeg.Options{Quality: 90}); err != nil {
		return fmt.Errorf("smoke: encoding %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("smoke: %w", err)
	}
	return atomicfile.WriteBytes(path, buf.Bytes())
}

// jitter returns v moved by a uniform amount in [-amp, amp], clamped to a byte.
func jitter(v uint8, amp int, rng *rand.Rand) uint8 {
	return uint8(min(max(int(v)+rng.IntN(2*amp+1)-amp, 0), 255))
}
