package data

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
)

// Images is a batch of same-sized 8-bit images held in memory, the uniform pixel container of this package.
//
// Pix holds N images one after another; image i starts at i*H*W*C and is stored row-major, height then width
// then channel (HWC, "channels last", as GoMLX's image layers and CLIP's preprocessing expect). C is 1 (gray)
// or 3 (RGB, channel order R, G, B). Values are 0..255.
type Images struct {
	N, H, W, C int
	Pix        []uint8
}

// NewImages allocates n black images of h×w pixels with c channels (1 or 3).
func NewImages(n, h, w, c int) *Images {
	return &Images{N: n, H: h, W: w, C: c, Pix: make([]uint8, n*h*w*c)}
}

// Validate checks the dimensions against the length of Pix.
func (im *Images) Validate() error {
	if im == nil {
		return fmt.Errorf("images: nil")
	}
	if im.N < 0 || im.H <= 0 || im.W <= 0 || (im.C != 1 && im.C != 3) {
		return fmt.Errorf("images: invalid dimensions N=%d H=%d W=%d C=%d (C must be 1 or 3)", im.N, im.H, im.W, im.C)
	}
	if want := im.N * im.H * im.W * im.C; len(im.Pix) != want {
		return fmt.Errorf("images: len(Pix)=%d, want N*H*W*C=%d", len(im.Pix), want)
	}
	return nil
}

// Size returns the number of bytes of one image (H*W*C).
func (im *Images) Size() int { return im.H * im.W * im.C }

// Pixels returns the HWC bytes of image i (a sub-slice of Pix, not a copy).
func (im *Images) Pixels(i int) []uint8 {
	s := im.Size()
	return im.Pix[i*s : (i+1)*s : (i+1)*s]
}

// Image returns image i as an image.Image: *image.Gray for C=1, *image.RGBA (opaque) for C=3. The result is a copy.
func (im *Images) Image(i int) image.Image {
	p := im.Pixels(i)
	if im.C == 1 {
		g := image.NewGray(image.Rect(0, 0, im.W, im.H))
		copy(g.Pix, p)
		return g
	}
	out := image.NewRGBA(image.Rect(0, 0, im.W, im.H))
	for j := 0; j < im.H*im.W; j++ {
		out.Pix[4*j], out.Pix[4*j+1], out.Pix[4*j+2], out.Pix[4*j+3] = p[3*j], p[3*j+1], p[3*j+2], 255
	}
	return out
}

// Subset returns a new Images holding copies of the images at idx, in that order.
func (im *Images) Subset(idx []int) *Images {
	out := NewImages(len(idx), im.H, im.W, im.C)
	s := im.Size()
	for k, i := range idx {
		copy(out.Pix[k*s:(k+1)*s], im.Pixels(i))
	}
	return out
}

// RGB returns the images with 3 channels: gray images get their value copied to R, G and B; RGB images are
// returned as they are (not copied).
func (im *Images) RGB() *Images {
	if im.C == 3 {
		return im
	}
	out := NewImages(im.N, im.H, im.W, 3)
	for j, v := range im.Pix {
		out.Pix[3*j], out.Pix[3*j+1], out.Pix[3*j+2] = v, v, v
	}
	return out
}

// Float32 returns the pixels scaled to [0, 1], in the same N×H×W×C order.
func (im *Images) Float32() []float32 {
	out := make([]float32, len(im.Pix))
	for j, v := range im.Pix {
		out[j] = float32(v) / 255
	}
	return out
}

// Resized returns the images scaled to h×w (bilinear) after a centre crop to the target aspect ratio.
// When the size already matches, im itself is returned.
func (im *Images) Resized(h, w int) *Images {
	if im.H == h && im.W == w {
		return im
	}
	out := NewImages(im.N, h, w, im.C)
	for i := 0; i < im.N; i++ {
		r := FitRGB(im.Image(i), h, w)
		dst := out.Pixels(i)
		putRGBA(dst, r, im.C)
	}
	return out
}

// ImagesFrom converts decoded images to an RGB Images of h×w pixels, each centre-cropped to the target aspect
// ratio and scaled bilinearly (see [FitRGB]).
func ImagesFrom(imgs []image.Image, h, w int) (*Images, error) {
	if h <= 0 || w <= 0 {
		return nil, fmt.Errorf("images: target size %dx%d must be positive", h, w)
	}
	out := NewImages(len(imgs), h, w, 3)
	for i, img := range imgs {
		if img == nil {
			return nil, fmt.Errorf("images: image %d is nil", i)
		}
		putRGBA(out.Pixels(i), FitRGB(img, h, w), 3)
	}
	return out, nil
}

// putRGBA writes an RGBA image into c-channel HWC bytes (c=1 takes the red channel, used only for gray sources).
func putRGBA(dst []uint8, r *image.RGBA, c int) {
	n := r.Rect.Dx() * r.Rect.Dy()
	for j := 0; j < n; j++ {
		if c == 1 {
			dst[j] = r.Pix[4*j]
		} else {
			dst[3*j], dst[3*j+1], dst[3*j+2] = r.Pix[4*j], r.Pix[4*j+1], r.Pix[4*j+2]
		}
	}
}

// FitRGB returns img as an opaque h×w RGBA image: the largest centred region with the target aspect ratio is
// cropped out and resampled with an antialiased bilinear (triangle) filter whose support widens when shrinking,
// as PIL's BILINEAR does; no resampling happens when the crop already has the size. Transparent pixels are
// composed over black.
func FitRGB(img image.Image, h, w int) *image.RGBA {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	// Crop: keep the full width when the source is relatively taller, else the full height.
	cw, ch := sw, sh
	if sw*h > sh*w {
		cw = (sh*w + h/2) / h
	} else {
		ch = (sw*h + w/2) / w
	}
	cw, ch = max(cw, 1), max(ch, 1)
	x0 := b.Min.X + (sw-cw)/2
	y0 := b.Min.Y + (sh-ch)/2
	src := image.NewRGBA(image.Rect(0, 0, cw, ch))
	draw.Draw(src, src.Rect, image.NewUniform(color.Black), image.Point{}, draw.Src)
	draw.Draw(src, src.Rect, img, image.Point{X: x0, Y: y0}, draw.Over)
	if cw == w && ch == h {
		return src
	}
	// Separable resampling: rows first (cw → w), then columns (ch → h), in float32 RGB.
	tmp := make([]float32, ch*w*3)
	wx := resampleWeights(cw, w)
	for y := range ch {
		row := src.Pix[y*src.Stride:]
		for x, ws := range wx {
			var r, g, bl float32
			for _, t := range ws {
				p := row[4*t.i:]
				r += t.w * float32(p[0])
				g += t.w * float32(p[1])
				bl += t.w * float32(p[2])
			}
			o := (y*w + x) * 3
			tmp[o], tmp[o+1], tmp[o+2] = r, g, bl
		}
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	wy := resampleWeights(ch, h)
	for y, ws := range wy {
		for x := range w {
			var r, g, bl float32
			for _, t := range ws {
				o := (t.i*w + x) * 3
				r += t.w * tmp[o]
				g += t.w * tmp[o+1]
				bl += t.w * tmp[o+2]
			}
			p := out.Pix[y*out.Stride+4*x:]
			p[0], p[1], p[2], p[3] = clamp8(r), clamp8(g), clamp8(bl), 255
		}
	}
	return out
}

type tap struct {
	i int
	w float32
}

// resampleWeights returns, for each of the m output positions, the source taps of a triangle filter mapping n
// input samples to m outputs (support scaled by n/m when shrinking), with weights summing to 1.
func resampleWeights(n, m int) [][]tap {
	scale := float64(n) / float64(m)
	support := max(scale, 1)
	out := make([][]tap, m)
	for o := range m {
		center := (float64(o) + 0.5) * scale
		lo := max(int(math.Floor(center-support)), 0)
		hi := min(int(math.Ceil(center+support)), n-1)
		var ts []tap
		var sum float64
		for i := lo; i <= hi; i++ {
			wt := 1 - math.Abs((float64(i)+0.5-center)/support)
			if wt <= 0 {
				continue
			}
			ts = append(ts, tap{i, float32(wt)})
			sum += wt
		}
		if sum == 0 { // cannot happen for n, m >= 1, but keep the pixel defined
			ts, sum = []tap{{min(int(center), n-1), 1}}, 1
		}
		for k := range ts {
			ts[k].w = float32(float64(ts[k].w) / sum)
		}
		out[o] = ts
	}
	return out
}

func clamp8(v float32) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}
