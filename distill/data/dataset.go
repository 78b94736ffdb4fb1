package data

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"runtime"
	"sync"

	"github.com/faildirs/faildirs/distill/progress"
)

// Dataset is a classification dataset cut into the splits the method uses: Train (the base model learns from it),
// Val (the SVMs are fitted on it), Test (everything is evaluated on it) and optionally Pool (unlabeled candidates
// for interventions; it keeps its labels and groups for evaluation only).
type Dataset struct {
	// Name identifies the dataset and its settings, e.g. "fashion-spurious".
	Name string
	// Classes names each label: Classes[label].
	Classes []string
	// ClassIDs are stable class identifiers when they differ from the names (ImageNet wnids); nil otherwise.
	ClassIDs []string
	// Groups describes the ground-truth subgroups (Groups[g].ID == g); nil when the dataset has none.
	Groups []Group
	// AttrValues names the values of each per-example attribute in ImageSplit.Attrs, e.g. "color" → {"red", "green"}.
	AttrValues map[string][]string
	// Train, Val and Test are always set; Pool may be nil.
	Train, Val, Test, Pool *ImageSplit
	// Params records the settings the dataset was built with (for logs and result files).
	Params map[string]string
}

// Group is one ground-truth subgroup of a dataset (evaluation only: no method in faildirs sees groups).
type Group struct {
	// ID is the group's index, the value stored in ImageSplit.Groups.
	ID int `json:"id"`
	// Name describes the group in words, e.g. "T-shirt/top, green (minority)".
	Name string `json:"name"`
	// Class is the label every member of the group has.
	Class int `json:"class"`
	// Minority is true for the under-represented groups the planted failure is about.
	Minority bool `json:"minority"`
}

// ImageSplit is one part of a dataset: labelled images held either in memory (Images) or in image files read on
// demand (Files). Exactly one of Images and Files is set.
type ImageSplit struct {
	// Name is "train", "val", "test" or "pool".
	Name string
	// IDs identify each example stably across runs (e.g. "fashion-train-01234" or a file path relative to the
	// dataset root); they are the join key of predictions and embedding files.
	IDs []string
	// Labels holds each example's class index.
	Labels []int
	// Groups holds each example's ground-truth subgroup (see Dataset.Groups); nil when there are none.
	Groups []int
	// Attrs holds per-example attribute value indices (names in Dataset.AttrValues); may be nil.
	Attrs map[string][]int
	// Images holds the pixels of in-memory splits.
	Images *Images
	// Files lists the image file of each example for file-backed splits.
	Files []string
	// Decoder decodes Files (its zero value: the default pixel budget, DefaultMaxPixels).
	Decoder Decoder
}

// Len returns the number of examples.
func (s *ImageSplit) Len() int { return len(s.Labels) }

// Validate checks that every per-example slice has one entry per example and that pixels or files are present.
func (s *ImageSplit) Validate() error {
	n := len(s.Labels)
	if len(s.IDs) != n {
		return fmt.Errorf("split %q: %d IDs for %d labels", s.Name, len(s.IDs), n)
	}
	if s.Groups != nil && len(s.Groups) != n {
		return fmt.Errorf("split %q: %d groups for %d labels", s.Name, len(s.Groups), n)
	}
	for k, v := range s.Attrs {
		if len(v) != n {
			return fmt.Errorf("split %q: attribute %q has %d values for %d labels", s.Name, k, len(v), n)
		}
	}
	switch {
	case s.Images != nil && s.Files != nil:
		return fmt.Errorf("split %q: both Images and Files are set", s.Name)
	case s.Images != nil:
		if err := s.Images.Validate(); err != nil {
			return fmt.Errorf("split %q: %w", s.Name, err)
		}
		if s.Images.N != n {
			return fmt.Errorf("split %q: %d images for %d labels", s.Name, s.Images.N, n)
		}
	case s.Files != nil:
		if len(s.Files) != n {
			return fmt.Errorf("split %q: %d files for %d labels", s.Name, len(s.Files), n)
		}
	default:
		if n > 0 {
			return fmt.Errorf("split %q: neither Images nor Files is set", s.Name)
		}
	}
	return nil
}

// Label returns the label of example i.
func (s *ImageSplit) Label(i int) int { return s.Labels[i] }

// Image returns example i as an image.Image (decoded from its file for file-backed splits).
func (s *ImageSplit) Image(i int) (image.Image, error) {
	if s.Images != nil {
		return s.Images.Image(i), nil
	}
	return s.Decoder.DecodeFile(s.Files[i])
}

// Batch returns the examples at idx as RGB images of h×w pixels. In-memory images are converted to RGB and,
// when their size differs, centre-cropped and scaled; files are decoded (in parallel, sharing a [PixelGate] of the
// decoder's budget) and treated the same way.
// h = w = 0 keeps the native size of in-memory images (files need an explicit size).
func (s *ImageSplit) Batch(idx []int, h, w int) (*Images, error) {
	for _, i := range idx {
		if i < 0 || i >= s.Len() {
			return nil, fmt.Errorf("split %q: index %d out of range [0,%d)", s.Name, i, s.Len())
		}
	}
	if s.Images != nil {
		im := s.Images.Subset(idx).RGB()
		if h == 0 && w == 0 {
			return im, nil
		}
		return im.Resized(h, w), nil
	}
	if h <= 0 || w <= 0 {
		return nil, fmt.Errorf("split %q: file-backed images need a target size, got %dx%d", s.Name, h, w)
	}
	out := NewImages(len(idx), h, w, 3)
	errs := make([]error, len(idx))
	var wg sync.WaitGroup
	next := make(chan int)
	gate := NewPixelGate(s.Decoder.Budget())
	for range min(runtime.NumCPU(), max(len(idx), 1)) {
		wg.Go(func() {
			for k := range next {
				path := s.Files[idx[k]]
				px, err := s.Decoder.Pixels(path)
				if err != nil {
					errs[k] = err
					continue
				}
				release := gate.Acquire(px)
				img, err := s.Decoder.DecodeFile(path)
				if err == nil {
					putRGBA(out.Pixels(k), FitRGB(img, h, w), 3)
				}
				release()
				errs[k] = err
			}
		})
	}
	for k := range idx {
		next <- k
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("split %q: %w", s.Name, err)
	}
	return out, nil
}

// MaterializeOptions adjusts [ImageSplit.Materialize]. The zero value decodes 512 images at a time with a
// progress bar.
type MaterializeOptions struct {
	// Chunk is the number of images decoded (in parallel) at a time; 0 means 512.
	Chunk int
	// Progress receives the progress bar ("decode <split>"); nil means the progress package's default (stderr,
	// or an HTML bar in GoNB), io.Discard none.
	Progress io.Writer
}

// Materialize returns a copy of the split with every image decoded and resized to h×w RGB and held in memory
// (Files dropped; the other slices are shared with s), so training epochs do not decode files again. In-memory
// splits are converted the same way. A cancelled ctx stops it between chunks with an error wrapping ctx.Err().
func (s *ImageSplit) Materialize(ctx context.Context, h, w int, opts MaterializeOptions) (*ImageSplit, error) {
	chunk := opts.Chunk
	if chunk <= 0 {
		chunk = 512
	}
	bar := progress.New(opts.Progress, "decode "+s.Name, s.Len())
	defer bar.Done()
	out := *s // IDs, labels, groups and attributes are shared (read-only)
	out.Files = nil
	out.Images = NewImages(s.Len(), h, w, 3)
	idx := make([]int, 0, chunk)
	for start := 0; start < s.Len(); start += chunk {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("split %q: decoding stopped after %d of %d images: %w", s.Name, start, s.Len(), err)
		}
		idx = idx[:0]
		for i := start; i < min(start+chunk, s.Len()); i++ {
			idx = append(idx, i)
		}
		b, err := s.Batch(idx, h, w)
		if err != nil {
			return nil, err
		}
		copy(out.Images.Pix[start*h*w*3:], b.Pix)
		bar.Add(len(idx))
	}
	return &out, nil
}

// Subset returns a new split with the examples at idx, in that order (pixels and attribute slices are copied).
func (s *ImageSplit) Subset(idx []int) *ImageSplit {
	out := &ImageSplit{Name: s.Name, IDs: make([]string, len(idx)), Labels: make([]int, len(idx)), Decoder: s.Decoder}
	if s.Groups != nil {
		out.Groups = make([]int, len(idx))
	}
	if s.Attrs != nil {
		out.Attrs = make(map[string][]int, len(s.Attrs))
		for k := range s.Attrs {
			out.Attrs[k] = make([]int, len(idx))
		}
	}
	if s.Files != nil {
		out.Files = make([]string, len(idx))
	}
	for k, i := range idx {
		out.IDs[k], out.Labels[k] = s.IDs[i], s.Labels[i]
		if s.Groups != nil {
			out.Groups[k] = s.Groups[i]
		}
		for a, v := range s.Attrs {
			out.Attrs[a][k] = v[i]
		}
		if s.Files != nil {
			out.Files[k] = s.Files[i]
		}
	}
	if s.Images != nil {
		out.Images = s.Images.Subset(idx)
	}
	return out
}

// GroupCounts returns how many examples of the split fall in each of n groups (nil when the split has no groups).
func (s *ImageSplit) GroupCounts(n int) []int {
	if s.Groups == nil {
		return nil
	}
	c := make([]int, n)
	for _, g := range s.Groups {
		if g >= 0 && g < n {
			c[g]++
		}
	}
	return c
}

// Splits returns the dataset's non-nil splits in the order train, val, test, pool.
func (d *Dataset) Splits() []*ImageSplit {
	var out []*ImageSplit
	for _, s := range []*ImageSplit{d.Train, d.Val, d.Test, d.Pool} {
		if s != nil {
			out = append(out, s)
		}
	}
	return out
}

// Split returns the split with the given name ("train", "val", "test", "pool"), or nil.
func (d *Dataset) Split(name string) *ImageSplit {
	for _, s := range d.Splits() {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Minority returns the ids of the minority groups.
func (d *Dataset) Minority() []int {
	var out []int
	for _, g := range d.Groups {
		if g.Minority {
			out = append(out, g.ID)
		}
	}
	return out
}

// GroupName returns the name of group g, or "group g" when the dataset does not describe it.
func (d *Dataset) GroupName(g int) string {
	if g >= 0 && g < len(d.Groups) {
		return d.Groups[g].Name
	}
	return fmt.Sprintf("group %d", g)
}

// Validate checks every split and that labels, groups and attributes are within the described ranges.
func (d *Dataset) Validate() error {
	if d.Train == nil || d.Val == nil || d.Test == nil {
		return fmt.Errorf("dataset %q: train, val and test splits are required", d.Name)
	}
	for i, g := range d.Groups {
		if g.ID != i {
			return fmt.Errorf("dataset %q: Groups[%d].ID = %d, want %d", d.Name, i, g.ID, i)
		}
	}
	for _, s := range d.Splits() {
		if err := s.Validate(); err != nil {
			return fmt.Errorf("dataset %q: %w", d.Name, err)
		}
		for i, l := range s.Labels {
			if l < 0 || l >= len(d.Classes) {
				return fmt.Errorf("dataset %q: split %q example %d (%s): label %d outside [0,%d)", d.Name, s.Name, i, s.IDs[i], l, len(d.Classes))
			}
		}
		for i, g := range s.Groups {
			if g < 0 || g >= len(d.Groups) {
				return fmt.Errorf("dataset %q: split %q example %d (%s): group %d outside [0,%d)", d.Name, s.Name, i, s.IDs[i], g, len(d.Groups))
			}
			if d.Groups[g].Class != s.Labels[i] {
				return fmt.Errorf("dataset %q: split %q example %d (%s): group %d belongs to class %d, label is %d", d.Name, s.Name, i, s.IDs[i], g, d.Groups[g].Class, s.Labels[i])
			}
		}
		for a, v := range s.Attrs {
			names := d.AttrValues[a]
			for i, x := range v {
				if x < 0 || x >= len(names) {
					return fmt.Errorf("dataset %q: split %q example %d: attribute %q value %d outside [0,%d)", d.Name, s.Name, i, a, x, len(names))
				}
			}
		}
	}
	return nil
}
