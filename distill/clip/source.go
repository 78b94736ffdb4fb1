package clip

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"os"

	"github.com/faildirs/faildirs/distill/clip/imgproc"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
)

// ImageSource is an indexed collection of images to embed.
type ImageSource interface {
	// Len returns the number of images.
	Len() int
	// Name returns a human-readable name of image i (a path, or "image[i]"), used in errors and reports.
	Name(i int) string
	// ID returns a string identifying image i's content, for the embedding cache fingerprint (a path with size and
	// modification time, or a content hash).
	ID(i int) (string, error)
	// RGB decodes image i into 8-bit RGB.
	RGB(i int) (*imgproc.RGB, error)
}

// Files returns an ImageSource over image files in any format of data.ImageExtensions, decoded by the zero
// data.Decoder (the default pixel budget, data.DefaultMaxPixels). A file's identity in the cache fingerprint is its
// path, size and modification time.
func Files(paths []string) ImageSource { return FilesWith(paths, data.Decoder{}) }

// FilesWith is [Files] decoding with dec (for instance a larger pixel budget); images over its budget fail like
// unreadable ones (EmbedOptions.SkipBad skips them).
func FilesWith(paths []string, dec data.Decoder) ImageSource {
	return fileSource{paths: paths, dec: dec}
}

type fileSource struct {
	paths []string
	dec   data.Decoder
}

func (f fileSource) Len() int          { return len(f.paths) }
func (f fileSource) Name(i int) string { return f.paths[i] }

func (f fileSource) ID(i int) (string, error) {
	fi, err := os.Stat(f.paths[i])
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s|%d|%d", f.paths[i], fi.Size(), fi.ModTime().UnixNano()), nil
}

// pixels and pixelBudget make fileSource a budgetedSource: its decoders share a data.PixelGate.
func (f fileSource) pixels(i int) (int, error) { return f.dec.Pixels(f.paths[i]) }
func (f fileSource) pixelBudget() int          { return f.dec.Budget() }

// budgetedSource is a source whose images' pixel counts are known from their headers before decoding; the workers
// of EmbedImages then share a data.PixelGate of its budget, so concurrent decodes of large images do not add up.
type budgetedSource interface {
	pixels(i int) (int, error)
	pixelBudget() int
}

func (f fileSource) RGB(i int) (*imgproc.RGB, error) {
	img, err := f.dec.DecodeFile(f.paths[i])
	if err != nil {
		return nil, err
	}
	return imgproc.ToRGB(img), nil
}

// Images returns an ImageSource over decoded images; an image's identity is a hash of its RGB pixels.
func Images(images []image.Image) ImageSource { return imageSource(images) }

type imageSource []image.Image

func (s imageSource) Len() int          { return len(s) }
func (s imageSource) Name(i int) string { return fmt.Sprintf("image[%d]", i) }

func (s imageSource) ID(i int) (string, error) {
	rgb, err := s.RGB(i)
	if err != nil {
		return "", err
	}
	return rgbHash(rgb), nil
}

func (s imageSource) RGB(i int) (*imgproc.RGB, error) {
	if s[i] == nil {
		return nil, fmt.Errorf("image[%d] is nil", i)
	}
	return imgproc.ToRGB(s[i]), nil
}

func rgbHash(rgb *imgproc.RGB) string {
	h := sha256.New()
	fmt.Fprintf(h, "%dx%d|", rgb.W, rgb.H)
	h.Write(rgb.Pix)
	return hex.EncodeToString(h.Sum(nil))
}

// Uint8HWC returns an ImageSource over n images stored contiguously as uint8 [n, h, w, c] (row-major), with c = 1
// (grey), 3 (RGB) or 4 (RGBA, alpha dropped); e.g. a Fashion-MNIST array with c = 1. An image's identity is a
// hash of its bytes.
func Uint8HWC(data []uint8, n, h, w, c int) (ImageSource, error) {
	if n < 0 || h <= 0 || w <= 0 || (c != 1 && c != 3 && c != 4) {
		return nil, fmt.Errorf("clip: Uint8HWC shape [%d, %d, %d, %d] is invalid (c must be 1, 3 or 4)", n, h, w, c)
	}
	if len(data) != n*h*w*c {
		return nil, fmt.Errorf("clip: Uint8HWC has %d bytes, shape [%d, %d, %d, %d] needs %d", len(data), n, h, w, c, n*h*w*c)
	}
	return &uint8Source{data: data, n: n, h: h, w: w, c: c}, nil
}

type uint8Source struct {
	data       []uint8
	n, h, w, c int
}

func (s *uint8Source) Len() int          { return s.n }
func (s *uint8Source) Name(i int) string { return fmt.Sprintf("image[%d]", i) }

func (s *uint8Source) ID(i int) (string, error) {
	sz := s.h * s.w * s.c
	h := sha256.New()
	fmt.Fprintf(h, "%dx%dx%d|", s.h, s.w, s.c)
	h.Write(s.data[i*sz : (i+1)*sz])
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (s *uint8Source) RGB(i int) (*imgproc.RGB, error) {
	sz := s.h * s.w * s.c
	src := s.data[i*sz : (i+1)*sz]
	out := imgproc.NewRGB(s.w, s.h)
	for p := range s.h * s.w {
		switch s.c {
		case 1:
			v := src[p]
			out.Pix[3*p], out.Pix[3*p+1], out.Pix[3*p+2] = v, v, v
		default:
			copy(out.Pix[3*p:3*p+3], src[p*s.c:p*s.c+3])
		}
	}
	return out, nil
}

// Uint8Tensor returns an ImageSource over a GoMLX uint8 tensor shaped [n, h, w, c] (see [Uint8HWC]).
func Uint8Tensor(t *tensors.Tensor) (ImageSource, error) {
	if t.DType() != dtypes.Uint8 || t.Rank() != 4 {
		return nil, fmt.Errorf("clip: Uint8Tensor wants a uint8 tensor [n, h, w, c], got %s", t.Shape())
	}
	data, err := tensors.CopyFlatData[uint8](t)
	if err != nil {
		return nil, fmt.Errorf("clip: Uint8Tensor: %w", err)
	}
	d := t.Shape().Dimensions
	return Uint8HWC(data, d[0], d[1], d[2], d[3])
}
