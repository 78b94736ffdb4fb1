package data

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // register GIF
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	_ "golang.org/x/image/bmp"  // register BMP
	_ "golang.org/x/image/tiff" // register TIFF
	_ "golang.org/x/image/webp" // register WebP
)

// imageExtensions lists the extensions of every format DecodeFile reads (a decoder is registered for each).
var imageExtensions = []string{".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp"}

// ImageExtensions returns the file extensions faildirs reads as images, lower case with the dot: JPEG (.jpg,
// .jpeg), PNG, GIF, BMP, TIFF (.tif, .tiff) and WebP. Image folders, ImageNet and `faildirs embed` collect files
// by this list, and [DecodeFile] decodes every format in it.
func ImageExtensions() []string { return slices.Clone(imageExtensions) }

// IsImageFile reports whether name has one of [ImageExtensions] (any case) and is not a hidden file (a name
// starting with ".", such as macOS "._photo.jpg" metadata files).
func IsImageFile(name string) bool {
	base := filepath.Base(name)
	return slices.Contains(imageExtensions, strings.ToLower(filepath.Ext(base))) && !strings.HasPrefix(base, ".")
}

// DefaultMaxPixels is the pixel budget of the zero [Decoder]: 2^26 = 67,108,864 pixels (8192×8192; Pillow, which
// CLIP's reference preprocessing uses, warns from 89,478,485). Decoding an image at the budget peaks at about 1.5 GB
// of process memory (measured: an 8192×8192 16-bit RGBA PNG, 8 bytes per pixel decoded, its RGB copy, and the
// garbage collector's headroom); the parallel decoders of faildirs share a [PixelGate] of the same budget, so that
// stays the peak whatever the number of workers.
const DefaultMaxPixels = 1 << 26

// ErrTooManyPixels is wrapped by the errors of images larger than the pixel budget.
var ErrTooManyPixels = errors.New("image exceeds the pixel budget")

// Decoder decodes image files in any format of [ImageExtensions] within a pixel budget: the width and height are
// read from the file's header first (image.DecodeConfig) and an image over the budget, or without pixels, is
// refused before any pixel is decoded. A tiny file cannot make it allocate more than the budget: a 74-byte PNG
// claiming 100000×100000 pixels, or a 875 KB PNG that inflates to 30000×30000, is an error naming the file and its
// size. The zero value uses [DefaultMaxPixels].
type Decoder struct {
	// MaxPixels bounds width × height (0: DefaultMaxPixels). Raise it for very large photographs; the peak memory
	// of decoding grows with it (about 1.5 GB at the default, see DefaultMaxPixels).
	MaxPixels int
}

// Budget returns the effective pixel budget.
func (d Decoder) Budget() int {
	if d.MaxPixels > 0 {
		return d.MaxPixels
	}
	return DefaultMaxPixels
}

// Pixels returns width × height of the image file at path from its header alone (no pixel is decoded), for
// callers that budget memory before decoding ([PixelGate]).
func (d Decoder) Pixels(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("image %s: %w", path, err)
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(bufio.NewReader(f))
	if err != nil {
		return 0, fmt.Errorf("image %s: cannot decode %s header: %w", path, format, err)
	}
	return cfg.Width * cfg.Height, nil
}

// PixelGate bounds the pixels that goroutines decoding images in parallel hold at once: each takes its image's
// pixels (at most the gate's budget) before decoding and gives them back when done with the full-size image. Small
// images pass side by side; images near the budget go one at a time, so peak memory follows the budget, not the
// number of workers. A nil *PixelGate does not limit anything.
type PixelGate struct {
	mu     sync.Mutex
	cond   *sync.Cond
	free   int64
	budget int64
}

// NewPixelGate returns a gate of budget pixels (at least 1).
func NewPixelGate(budget int) *PixelGate {
	g := &PixelGate{free: int64(max(budget, 1)), budget: int64(max(budget, 1))}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// Acquire waits until n pixels (capped at the budget) are free, takes them and returns the function that gives
// them back.
func (g *PixelGate) Acquire(n int) (release func()) {
	if g == nil {
		return func() {}
	}
	take := min(max(int64(n), 1), g.budget)
	g.mu.Lock()
	for g.free < take {
		g.cond.Wait()
	}
	g.free -= take
	g.mu.Unlock()
	return func() {
		g.mu.Lock()
		g.free += take
		g.mu.Unlock()
		g.cond.Broadcast()
	}
}

// DecodeFile decodes one image file with the zero [Decoder] (the default pixel budget); errors name the file.
func DecodeFile(path string) (image.Image, error) { return Decoder{}.DecodeFile(path) }

// DecodeFile opens and decodes one image file (the format is found from the content, not the extension); errors
// name the file.
func (d Decoder) DecodeFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", path, err)
	}
	defer f.Close()
	img, err := d.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", path, err)
	}
	return img, nil
}

// Decode decodes one image from r: its header first, checked against the budget, then (from the start again) its
// pixels.
func (d Decoder) Decode(r io.ReadSeeker) (img image.Image, err error) {
	start, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	cfg, format, err := image.DecodeConfig(bufio.NewReader(r))
	if err != nil {
		if format != "" {
			return nil, fmt.Errorf("cannot decode %s header: %w", format, err)
		}
		return nil, fmt.Errorf("cannot decode: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%s header gives %d×%d: the image has no pixels", format, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > int64(d.Budget()) {
		return nil, fmt.Errorf("%s of %d×%d = %d pixels: %w of %d pixels (raise it with the -max-pixels flag or Decoder.MaxPixels)",
			format, cfg.Width, cfg.Height, px, ErrTooManyPixels, d.Budget())
	}
	if _, err := r.Seek(start, io.SeekStart); err != nil {
		return nil, err
	}
	defer func() { // a decoder bug must not take the process down
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("decoding %s panicked: %v", format, p)
		}
	}()
	img, _, err = image.Decode(bufio.NewReader(r))
	if err != nil {
		return nil, fmt.Errorf("cannot decode %s: %w", format, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, fmt.Errorf("%s decodes to %d×%d, its header says %d×%d", format, b.Dx(), b.Dy(), cfg.Width, cfg.Height)
	}
	return img, nil
}
