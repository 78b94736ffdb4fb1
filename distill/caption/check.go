package caption

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
)

// DefaultCheckKs are the numbers of nearest images the caption check reports by default.
var DefaultCheckKs = []int{10, 25, 50, 100}

// Check is the caption check of one class.
type Check struct {
	// Class is the class's name.
	Class string `json:"class"`
	// Hard and Easy are the captions checked.
	Hard string `json:"hard"`
	Easy string `json:"easy"`
	// Ks are the numbers of nearest images; a K above the number of images N is reported as N.
	Ks []int `json:"ks"`
	// HardAccuracy and EasyAccuracy hold, for each K, the base model's accuracy on the K test images nearest to
	// the hard and the easy caption.
	HardAccuracy []float64 `json:"hard_accuracy"`
	EasyAccuracy []float64 `json:"easy_accuracy"`
	// ClassAccuracy is the base model's accuracy on all N images of the class.
	ClassAccuracy float64 `json:"class_accuracy"`
	// N is the number of images of the class.
	N int `json:"n"`
}

// At returns the hard- and easy-caption accuracies at K = k, if k is one of Ks.
func (c *Check) At(k int) (hard, easy float64, ok bool) {
	i := slices.Index(c.Ks, k)
	if i < 0 {
		return 0, 0, false
	}
	return c.HardAccuracy[i], c.EasyAccuracy[i], true
}

// CheckCaptions runs the caption check for one class: images are the class's test-image embeddings (from the same
// CLIP as emb's text embeddings), correct says whether the base model classified each correctly, and hard and easy
// are the captions to check (usually the class's top hard and easy captions from [Score]). ks nil means
// [DefaultCheckKs].
func CheckCaptions(ctx context.Context, emb TextEmbedder, className string, images [][]float32, correct []bool, hard, easy string, ks []int) (*Check, error) {
	if ks == nil {
		ks = DefaultCheckKs
	}
	if emb == nil {
		return nil, fmt.Errorf("caption: caption check of %q needs a text embedder", className)
	}
	vecs, err := emb.EmbedTexts(ctx, []string{hard, easy})
	if err != nil {
		return nil, fmt.Errorf("caption: caption check of %q: embedding captions: %w", className, err)
	}
	if len(vecs) != 2 {
		return nil, fmt.Errorf("caption: caption check of %q: text embedder returned %d vectors for 2 texts", className, len(vecs))
	}
	ha, err := NearestAccuracy(images, correct, vecs[0], ks)
	if err != nil {
		return nil, fmt.Errorf("caption: caption check of %q, hard caption %q: %w", className, hard, err)
	}
	ea, err := NearestAccuracy(images, correct, vecs[1], ks)
	if err != nil {
		return nil, fmt.Errorf("caption: caption check of %q, easy caption %q: %w", className, easy, err)
	}
	n := 0
	for _, c := range correct {
		if c {
			n++
		}
	}
	return &Check{Class: className, Hard: hard, Easy: easy, Ks: slices.Clone(ks), HardAccuracy: ha, EasyAccuracy: ea,
		ClassAccuracy: float64(n) / float64(len(correct)), N: len(correct)}, nil
}

// Nearest returns the indices of images sorted by decreasing cosine similarity to text (ties: lower index first).
// An all-zero image vector has similarity 0. The text vector must be non-zero and every vector finite.
func Nearest(images [][]float32, text []float32) ([]int, error) {
	tn := norm(text)
	if tn == 0 || math.IsNaN(tn) || math.IsInf(tn, 0) {
		return nil, fmt.Errorf("text embedding has norm %v", tn)
	}
	sims := make([]float64, len(images))
	for i, v := range images {
		if len(v) != len(text) {
			return nil, fmt.Errorf("image %d embedding has length %d, text embedding %d", i, len(v), len(text))
		}
		vn := norm(v)
		if math.IsNaN(vn) || math.IsInf(vn, 0) {
			return nil, fmt.Errorf("image %d embedding is not finite", i)
		}
		if vn == 0 {
			continue
		}
		dot := 0.0
		for j := range v {
			dot += float64(v[j]) * float64(text[j])
		}
		sims[i] = dot / (vn * tn)
	}
	idx := make([]int, len(images))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(sims[b], sims[a]) })
	return idx, nil
}

// NearestAccuracy returns, for each K in ks, the fraction of correct among the K images nearest to text (K above
// the number of images counts all of them).
func NearestAccuracy(images [][]float32, correct []bool, text []float32, ks []int) ([]float64, error) {
	if len(images) == 0 {
		return nil, fmt.Errorf("no images")
	}
	if len(correct) != len(images) {
		return nil, fmt.Errorf("%d correctness flags for %d images", len(correct), len(images))
	}
	order, err := Nearest(images, text)
	if err != nil {
		return nil, err
	}
	// prefix[k] = number correct among the k nearest.
	prefix := make([]int, len(order)+1)
	for i, j := range order {
		prefix[i+1] = prefix[i]
		if correct[j] {
			prefix[i+1]++
		}
	}
	out := make([]float64, len(ks))
	for i, k := range ks {
		if k <= 0 {
			return nil, fmt.Errorf("K = %d, want > 0", k)
		}
		k = min(k, len(order))
		out[i] = float64(prefix[k]) / float64(k)
	}
	return out, nil
}

func norm(v []float32) float64 {
	s := 0.0
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// Rows views a row-major N×dim matrix (as in distill.Split.Latents) as N rows, without copying.
func Rows(flat []float32, dim int) ([][]float32, error) {
	if dim <= 0 || len(flat)%dim != 0 {
		return nil, fmt.Errorf("caption: %d values do not form rows of %d", len(flat), dim)
	}
	out := make([][]float32, len(flat)/dim)
	for i := range out {
		out[i] = flat[i*dim : (i+1)*dim : (i+1)*dim]
	}
	return out, nil
}
