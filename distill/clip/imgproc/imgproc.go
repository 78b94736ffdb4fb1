// Package imgproc is CLIP's image preprocessing: decode, convert to RGB, resize the shorter side to the model's
// size with Pillow's bicubic filter, centre-crop, scale to [0, 1] and normalise with CLIP's mean and std into a
// CHW float32 array.
//
// The resize reproduces Pillow's fixed-point, antialiased bicubic (a = −0.5; support widened by the scale factor
// when downsampling; a horizontal pass rounded to uint8, then a vertical pass), so resized bytes equal Pillow's
// and the pixel values equal torchvision's to float32 rounding. Conversions to RGB follow Pillow's
// Image.convert("RGB"): grey is replicated, alpha is dropped (not composited), CMYK uses (255−C)(255−K)/255.
// Images come decoded (package data's DecodeFile reads files); Go's JPEG decoder upsamples chroma without
// libjpeg's "fancy upsampling", so chroma-subsampled JPEGs can differ from Pillow's pixels by a few levels.
//
// The centre crop offset follows OpenAI/torchvision by default (round((excess)/2), half to even); [CropHF] gives
// HF's slow CLIPImageProcessor rule (excess/2 rounded down). They differ when the excess is 3, 7, 11, ….
//
//	cfg := imgproc.CLIPConfig(224)
//	pixels := make([]float32, 3*224*224)
//	err := cfg.Pixels(img, pixels) // CHW, normalised: the model's input
package imgproc

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

// CropRule selects how the centre-crop offset is rounded.
type CropRule int

const (
	// CropOpenAI is torchvision's CenterCrop: offset = round(excess/2), half to even (OpenAI's preprocessing).
	CropOpenAI CropRule = iota
	// CropHF is HF's slow CLIPImageProcessor: offset = excess/2 rounded down.
	CropHF
)

// String names the rule.
func (r CropRule) String() string {
	if r == CropHF {
		return "hf"
	}
	return "openai"
}

// CLIP's normalisation constants (per RGB channel), as float32 like torchvision applies them.
var (
	CLIPMean = [3]float32{0.48145466, 0.4578275, 0.40821073}
	CLIPStd  = [3]float32{0.26862954, 0.26130258, 0.27577711}
)

// Config describes the preprocessing.
type Config struct {
	// Size is the output side (the model's image_size).
	Size int
	// Mean and Std normalise each channel after scaling to [0, 1].
	Mean, Std [3]float32
	// Crop is the centre-crop rounding rule.
	Crop CropRule
}

// CLIPConfig returns OpenAI's preprocessing for a model of the given image size.
func CLIPConfig(size int) Config {
	return Config{Size: size, Mean: CLIPMean, Std: CLIPStd, Crop: CropOpenAI}
}

// String describes the preprocessing (used in cache fingerprints).
func (c Config) String() string {
	return fmt.Sprintf("resize-short=%d bicubic-pillow crop=%s mean=%v std=%v chw-rgb", c.Size, c.Crop, c.Mean, c.Std)
}

// RGB is an 8-bit RGB image stored row-major, interleaved (HWC).
type RGB struct {
	// W and H are the width and height.
	W, H int
	// Pix holds H·W·3 bytes.
	Pix []uint8
}

// NewRGB allocates a black w×h image.
func NewRGB(w, h int) *RGB { return &RGB{W: w, H: h, Pix: make([]uint8, w*h*3)} }

// ToRGB converts any image to 8-bit RGB the way Pillow's convert("RGB") does (see the package doc).
func ToRGB(img image.Image) *RGB {
	b := img.Bounds()
	out := NewRGB(b.Dx(), b.Dy())
	p := out.Pix
	switch src := img.(type) {
	case *image.NRGBA:
		for y := range out.H {
			row := src.Pix[(y)*src.Stride:]
			for x := range out.W {
				copy(p[(y*out.W+x)*3:(y*out.W+x)*3+3], row[x*4:x*4+3])
			}
		}
		return out
	case *image.RGBA:
		// Premultiplied: un-premultiply like NRGBAModel (exact for opaque pixels).
		for y := range out.H {
			for x := range out.W {
				c := color.NRGBAModel.Convert(src.RGBAAt(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				i := (y*out.W + x) * 3
				p[i], p[i+1], p[i+2] = c.R, c.G, c.B
			}
		}
		return out
	case *image.Gray:
		for y := range out.H {
			row := src.Pix[y*src.Stride:]
			for x := range out.W {
				v := row[x]
				i := (y*out.W + x) * 3
				p[i], p[i+1], p[i+2] = v, v, v
			}
		}
		return out
	case *image.CMYK:
		for y := range out.H {
			row := src.Pix[y*src.Stride:]
			for x := range out.W {
				c, m, ye, k := int(row[x*4]), int(row[x*4+1]), int(row[x*4+2]), int(row[x*4+3])
				i := (y*out.W + x) * 3
				p[i], p[i+1], p[i+2] = cmykChannel(c, k), cmykChannel(m, k), cmykChannel(ye, k)
			}
		}
		return out
	}
	for y := range out.H {
		for x := range out.W {
			c := img.At(b.Min.X+x, b.Min.Y+y)
			var r, g, bl uint8
			switch cc := c.(type) {
			case color.Gray:
				r, g, bl = cc.Y, cc.Y, cc.Y
			case color.Gray16:
				v := uint8(cc.Y >> 8)
				r, g, bl = v, v, v
			case color.CMYK:
				r, g, bl = cmykChannel(int(cc.C), int(cc.K)), cmykChannel(int(cc.M), int(cc.K)), cmykChannel(int(cc.Y), int(cc.K))
			case color.YCbCr:
				r, g, bl = color.YCbCrToRGB(cc.Y, cc.Cb, cc.Cr)
			default:
				n := color.NRGBAModel.Convert(c).(color.NRGBA)
				r, g, bl = n.R, n.G, n.B
			}
			i := (y*out.W + x) * 3
			p[i], p[i+1], p[i+2] = r, g, bl
		}
	}
	return out
}

// cmykChannel is Pillow's cmyk2rgb for one channel: (255−v)·(255−k)/255, rounded like MULDIV255.
func cmykChannel(v, k int) uint8 {
	nk := 255 - k
	t := v*nk + 128
	return uint8(nk - ((t>>8)+t)>>8)
}

// bicubic is Pillow's bicubic kernel (a = −0.5).
func bicubic(x float64) float64 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return ((a+2)*x-(a+3))*x*x + 1
	}
	if x < 2 {
		return (((x-5)*x+8)*x - 4) * a
	}
	return 0
}

const precisionBits = 32 - 8 - 2

// coeffs returns Pillow's fixed-point resampling coefficients for resizing inSize to outSize: for each output
// index, the first input index, the count, and ksize integer weights.
func coeffs(inSize, outSize int) (bounds []int, kk []int32, ksize int) {
	return coeffsRange(inSize, outSize, 0, outSize)
}

// coeffsRange is coeffs for the output indices lo ≤ xx < hi only (entry xx−lo), the same values at a cost bounded
// by hi − lo.
func coeffsRange(inSize, outSize, lo, hi int) (bounds []int, kk []int32, ksize int) {
	scale := float64(inSize) / float64(outSize)
	filterscale := max(scale, 1.0)
	support := 2.0 * filterscale
	ksize = int(math.Ceil(support))*2 + 1
	bounds = make([]int, (hi-lo)*2)
	kk = make([]int32, (hi-lo)*ksize)
	k := make([]float64, ksize)
	for xx := lo; xx < hi; xx++ {
		o := xx - lo
		center := (float64(xx) + 0.5) * scale
		ww := 0.0
		ss := 1.0 / filterscale
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		for x := range ksize {
			k[x] = 0
		}
		for x := range xmax {
			w := bicubic((float64(x+xmin) - center + 0.5) * ss)
			k[x] = w
			ww += w
		}
		for x := range xmax {
			if ww != 0 {
				k[x] /= ww
			}
		}
		for x := range ksize {
			v := k[x] * (1 << precisionBits)
			if k[x] < 0 {
				kk[o*ksize+x] = int32(-0.5 + v)
			} else {
				kk[o*ksize+x] = int32(0.5 + v)
			}
		}
		bounds[2*o], bounds[2*o+1] = xmin, xmax
	}
	return bounds, kk, ksize
}

func clip8(v int64) uint8 {
	if v >= 1<<precisionBits<<8 {
		return 255
	}
	if v <= 0 {
		return 0
	}
	return uint8(v >> precisionBits)
}

// ResizeBicubic resizes src to w×h exactly as Pillow's Image.resize((w, h), BICUBIC) does for an RGB image.
func ResizeBicubic(src *RGB, w, h int) *RGB {
	if w == src.W && h == src.H {
		return &RGB{W: w, H: h, Pix: append([]uint8(nil), src.Pix...)}
	}
	boundsV, kkV, ksizeV := coeffs(src.H, h)
	cur := src
	if w != src.W {
		// Horizontal pass over only the rows the vertical pass reads.
		first := boundsV[0]
		last := boundsV[2*h-2] + boundsV[2*h-1]
		if h == src.H {
			first, last = 0, src.H
		}
		boundsH, kkH, ksizeH := coeffs(src.W, w)
		tmp := NewRGB(w, last-first)
		horizontalPass(tmp, src, first, boundsH, kkH, ksizeH)
		for i := range h {
			boundsV[2*i] -= first
		}
		cur = tmp
	}
	if h == src.H {
		return cur
	}
	out := NewRGB(w, h)
	verticalPass(out, cur, 0, boundsV, kkV, ksizeV)
	return out
}

// horizontalPass resamples rows rowLo … rowLo+dst.H of src along x into dst (dst.W columns): output column xx is the
// sum of the bounds[2xx+1] source pixels from bounds[2xx] weighted by kk[xx·ksize:], in Pillow's fixed point.
func horizontalPass(dst, src *RGB, rowLo int, bounds []int, kk []int32, ksize int) {
	for y := range dst.H {
		in := src.Pix[(y+rowLo)*src.W*3:]
		out := dst.Pix[y*dst.W*3:]
		for xx := range dst.W {
			xmin, n := bounds[2*xx], bounds[2*xx+1]
			k := kk[xx*ksize:]
			var s0, s1, s2 int64 = 1 << (precisionBits - 1), 1 << (precisionBits - 1), 1 << (precisionBits - 1)
			for x := range n {
				kv := int64(k[x])
				px := in[(x+xmin)*3:]
				s0 += int64(px[0]) * kv
				s1 += int64(px[1]) * kv
				s2 += int64(px[2]) * kv
			}
			out[xx*3], out[xx*3+1], out[xx*3+2] = clip8(s0), clip8(s1), clip8(s2)
		}
	}
}

// verticalPass resamples src along y into dst (same width): output row yy sums the bounds[2yy+1] rows of src from
// bounds[2yy] − rowLo, weighted by kk[yy·ksize:].
func verticalPass(dst, src *RGB, rowLo int, bounds []int, kk []int32, ksize int) {
	w := dst.W
	for yy := range dst.H {
		ymin, n := bounds[2*yy]-rowLo, bounds[2*yy+1]
		k := kk[yy*ksize:]
		row := dst.Pix[yy*w*3:]
		for xx := range w * 3 {
			var s int64 = 1 << (precisionBits - 1)
			for y := range n {
				s += int64(src.Pix[(y+ymin)*w*3+xx]) * int64(k[y])
			}
			row[xx] = clip8(s)
		}
	}
}

// ResizeCropBicubic returns the size×size region at (top, left) of ResizeBicubic(src, w, h) — the same bytes —
// computing only that region: its cost is bounded by the region and the source rows it reads, whatever the aspect
// ratio of src (a 1×40000 image resized to 224×8960000 and cropped costs a 224×224 image, not 6 GB).
func ResizeCropBicubic(src *RGB, w, h, top, left, size int) *RGB {
	rowLo, rowHi := top, top+size // rows of src (and of the horizontal pass) the output needs
	var boundsV []int
	var kkV []int32
	var ksizeV int
	if h != src.H {
		boundsV, kkV, ksizeV = coeffsRange(src.H, h, top, top+size)
		rowLo, rowHi = boundsV[0], boundsV[2*size-2]+boundsV[2*size-1]
	}
	mid := NewRGB(size, rowHi-rowLo) // columns left … left+size of the horizontal pass
	if w != src.W {
		boundsH, kkH, ksizeH := coeffsRange(src.W, w, left, left+size)
		horizontalPass(mid, src, rowLo, boundsH, kkH, ksizeH)
	} else {
		for y := range rowHi - rowLo {
			copy(mid.Pix[y*size*3:(y+1)*size*3], src.Pix[((y+rowLo)*src.W+left)*3:])
		}
	}
	if h == src.H {
		return mid
	}
	out := NewRGB(size, size)
	verticalPass(out, mid, rowLo, boundsV, kkV, ksizeV)
	return out
}

// ShortSideSize returns the size after resizing the shorter side to size, keeping the aspect ratio with the long
// side rounded down (torchvision's and HF's rule).
func ShortSideSize(w, h, size int) (int, int) {
	if w <= h {
		return size, int(float64(size) * float64(h) / float64(w))
	}
	return int(float64(size) * float64(w) / float64(h)), size
}

// CropOffsets returns the top-left corner of a centred size×size crop of a w×h image under rule.
func CropOffsets(w, h, size int, rule CropRule) (top, left int) {
	off := func(excess int) int {
		if rule == CropHF {
			return excess / 2
		}
		return int(math.RoundToEven(float64(excess) / 2))
	}
	return off(h - size), off(w - size)
}

// Crop returns the size×size region of src at (top, left).
func Crop(src *RGB, top, left, size int) *RGB {
	out := NewRGB(size, size)
	for y := range size {
		copy(out.Pix[y*size*3:(y+1)*size*3], src.Pix[((y+top)*src.W+left)*3:])
	}
	return out
}

// Prepare resizes and centre-crops img to Config.Size × Config.Size RGB bytes.
func (c Config) Prepare(img image.Image) (*RGB, error) {
	return c.PrepareRGB(ToRGB(img))
}

// PrepareRGB resizes and centre-crops an RGB image ([ResizeCropBicubic]: only the crop is computed).
func (c Config) PrepareRGB(rgb *RGB) (*RGB, error) {
	if rgb.W <= 0 || rgb.H <= 0 {
		return nil, fmt.Errorf("image has no pixels (%dx%d)", rgb.W, rgb.H)
	}
	w, h := ShortSideSize(rgb.W, rgb.H, c.Size)
	if w < c.Size || h < c.Size { // a 1-pixel-wide input can round the long side below size
		return nil, fmt.Errorf("image %dx%d is too thin to resize to %d", rgb.W, rgb.H, c.Size)
	}
	top, left := CropOffsets(w, h, c.Size, c.Crop)
	return ResizeCropBicubic(rgb, w, h, top, left, c.Size), nil
}

// Normalize writes the CHW float32 values (byte/255 − mean)/std of a Size×Size RGB image into dst
// (len 3·Size·Size), computed in float32 as torchvision does.
func (c Config) Normalize(rgb *RGB, dst []float32) error {
	n := c.Size * c.Size
	if rgb.W != c.Size || rgb.H != c.Size || len(dst) != 3*n {
		return fmt.Errorf("normalize: image %dx%d into %d values, want %dx%d into %d", rgb.W, rgb.H, len(dst), c.Size, c.Size, 3*n)
	}
	for ch := range 3 {
		mean, std := c.Mean[ch], c.Std[ch]
		out := dst[ch*n : (ch+1)*n]
		for i := range n {
			v := float32(rgb.Pix[i*3+ch]) / 255
			out[i] = (v - mean) / std
		}
	}
	return nil
}

// Pixels runs the whole preprocessing of img into dst (len 3·Size·Size, CHW).
func (c Config) Pixels(img image.Image, dst []float32) error {
	rgb, err := c.Prepare(img)
	if err != nil {
		return err
	}
	return c.Normalize(rgb, dst)
}
