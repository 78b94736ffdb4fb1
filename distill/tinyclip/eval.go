package tinyclip

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/faildirs/faildirs/distill/caption"
	"github.com/faildirs/faildirs/distill/clip"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/matrix"
	"github.com/faildirs/faildirs/distill/progress"
)

// EvalOptions configures [Evaluate].
type EvalOptions struct {
	// Seed draws the test images' tints (independently of training's draws). Zero is a valid seed.
	Seed uint64
	// Images limits the evaluation to a seeded random subset of the test images; 0 means all 10,000.
	Images int
	// Untinted is the fraction of test images left gray, as in [Options] (default 0.1, negative none).
	Untinted float64
	// BatchSize is the number of images per forward pass. Default 250.
	BatchSize int
	// Progress receives the progress bar; nil means the progress package's default (stderr, or an HTML bar in
	// GoNB), io.Discard none.
	Progress io.Writer
}

// Quality is a tiny CLIP's zero-shot quality on tinted Fashion-MNIST test images.
type Quality struct {
	// Images is the number of test images evaluated.
	Images int `json:"images"`
	// ItemAccuracy is the share of images whose nearest item prompt ([ItemPrompt], 10 classes) is their item.
	ItemAccuracy float64 `json:"item_accuracy"`
	// ColourAccuracy is the share of images whose nearest colour prompt ([ColourPrompt] over [Colours]) is their
	// tint (untinted images count as white, which they equal pixel for pixel).
	ColourAccuracy float64 `json:"colour_accuracy"`
	// Items and ItemPerClass give the item accuracy per Fashion-MNIST class.
	Items        []string  `json:"items"`
	ItemPerClass []float64 `json:"item_accuracy_per_class"`
	// Colours and ColourPerColour give the colour accuracy per tint.
	Colours         []string  `json:"colours"`
	ColourPerColour []float64 `json:"colour_accuracy_per_colour"`
	// Seconds is the evaluation wall time.
	Seconds float64 `json:"seconds"`
}

// String summarises the quality on one line.
func (q *Quality) String() string {
	return fmt.Sprintf("zero-shot on %d tinted Fashion-MNIST test images: item accuracy %.4f (10 classes), colour accuracy %.4f (%d colours)",
		q.Images, q.ItemAccuracy, q.ColourAccuracy, len(q.Colours))
}

// TextEmbeddings returns the L2-normalised embeddings of texts, one row per text, from m's text tower in one
// batch; rows are cut after the batch's last EOS (which, attention being causal, changes nothing).
func TextEmbeddings(m *clip.Model, texts []string) (matrix.Dense, error) {
	if m.Tokenizer == nil {
		return matrix.Dense{}, fmt.Errorf("tinyclip: the model has no tokenizer")
	}
	ctxLen := m.Config.Text.MaxPositionEmbeddings
	length := 1
	enc := make([][]int32, len(texts))
	for i, t := range texts {
		enc[i] = m.Tokenizer.Truncate(m.Tokenizer.Encode(t), ctxLen)
		length = max(length, len(enc[i]))
	}
	ids := make([]int32, len(texts)*length)
	for i, e := range enc {
		row := ids[i*length : (i+1)*length]
		copy(row, e)
		for j := len(e); j < length; j++ {
			row[j] = m.Tokenizer.PadID
		}
	}
	eos := clip.PoolPositions(m.Config.Text, ids, len(texts), length)
	_, emb, err := m.TextFeaturesTensor(ids, len(texts), length, eos)
	if err != nil {
		return matrix.Dense{}, fmt.Errorf("tinyclip: text embeddings: %w", err)
	}
	out, err := matrix.New(len(texts), m.Dim(), emb)
	if err != nil {
		return matrix.Dense{}, fmt.Errorf("tinyclip: text embeddings: %w", err)
	}
	out.NormalizeRows()
	return out, nil
}

// argmaxDot returns the index of the row of table with the largest dot product with v.
func argmaxDot(v []float32, table matrix.Dense) int {
	best, bestV := 0, math.Inf(-1)
	for r := range table.Rows {
		var s float64
		for j, x := range table.Row(r) {
			s += float64(x) * float64(v[j])
		}
		if s > bestV {
			best, bestV = r, s
		}
	}
	return best
}

// Evaluate measures m's zero-shot item and colour accuracy on Fashion-MNIST test images tinted like the training
// images (a seeded palette colour each, some left gray). Each image is classified by its nearest prompt embedding
// (cosine similarity): the ten [ItemPrompt]s for the item, the [ColourPrompt]s of [Colours] for the tint.
func Evaluate(ctx context.Context, m *clip.Model, f *data.Fashion, opts EvalOptions) (*Quality, error) {
	start := time.Now()
	if f == nil || f.TestImages == nil || f.TestImages.N == 0 {
		return nil, fmt.Errorf("tinyclip: no Fashion-MNIST test images")
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 250
	}
	if opts.Untinted == 0 {
		opts.Untinted = 0.1
	}
	if opts.Untinted < 0 {
		opts.Untinted = 0
	}
	if opts.Untinted > 1 {
		return nil, fmt.Errorf("tinyclip: untinted fraction %g must be at most 1", opts.Untinted)
	}
	d := m.Dim()
	colours := Colours()
	itemPrompts := make([]string, len(caption.FashionNouns))
	for i := range itemPrompts {
		itemPrompts[i] = ItemPrompt(i)
	}
	colourPrompts := make([]string, len(colours))
	for i, c := range colours {
		colourPrompts[i] = ColourPrompt(c)
	}
	itemEmb, err := TextEmbeddings(m, itemPrompts)
	if err != nil {
		return nil, err
	}
	colourEmb, err := TextEmbeddings(m, colourPrompts)
	if err != nil {
		return nil, err
	}

	idx := make([]int, f.TestImages.N)
	for i := range idx {
		idx[i] = i
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x7c11_e7a1))
	if opts.Images > 0 && opts.Images < len(idx) {
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		idx = idx[:opts.Images]
	}
	smp, err := newSampler(f.TestImages, f.TestLabels, opts.Untinted, m.Preprocess, rng)
	if err != nil {
		return nil, err
	}
	bs := min(opts.BatchSize, len(idx))
	px := 3 * m.Preprocess.Size * m.Preprocess.Size
	if m.Preprocess.Size != m.Config.Vision.ImageSize {
		return nil, fmt.Errorf("tinyclip: preprocessing size %d differs from the model's image size %d", m.Preprocess.Size, m.Config.Vision.ImageSize)
	}
	q := &Quality{Images: len(idx), Items: caption.FashionItems, Colours: colours,
		ItemPerClass: make([]float64, len(itemPrompts)), ColourPerColour: make([]float64, len(colours))}
	itemN := make([]int, len(itemPrompts))
	colourN := make([]int, len(colours))
	var itemOK, colourOK int
	pixels := make([]float32, bs*px)
	concepts := make([]Concept, bs)
	bar := progress.New(opts.Progress, "evaluate tiny CLIP", len(idx))
	defer bar.Done()
	for lo := 0; lo < len(idx); lo += bs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("tinyclip: evaluation interrupted: %w", err)
		}
		hi := min(lo+bs, len(idx))
		for k := range bs { // the last batch is padded with its first image, so one executable serves all
			i := idx[min(lo+k, hi-1)]
			if lo+k >= hi {
				copy(pixels[k*px:(k+1)*px], pixels[:px])
				continue
			}
			c, tinted := smp.concept(i)
			concepts[k] = c
			if err := smp.pixels(i, c, tinted, pixels[k*px:(k+1)*px]); err != nil {
				return nil, err
			}
		}
		_, flat, err := m.ImageFeaturesTensor(pixels, bs)
		if err != nil {
			return nil, fmt.Errorf("tinyclip: image embeddings: %w", err)
		}
		emb, err := matrix.New(bs, d, flat)
		if err != nil {
			return nil, fmt.Errorf("tinyclip: image embeddings: %w", err)
		}
		emb.NormalizeRows()
		for k := range hi - lo {
			v := emb.Row(k)
			c := concepts[k]
			itemN[c.Item]++
			colourN[c.Colour]++
			if argmaxDot(v, itemEmb) == c.Item {
				itemOK++
				q.ItemPerClass[c.Item]++
			}
			if argmaxDot(v, colourEmb) == c.Colour {
				colourOK++
				q.ColourPerColour[c.Colour]++
			}
		}
		bar.Add(hi - lo)
	}
	for i, n := range itemN {
		q.ItemPerClass[i] /= float64(max(n, 1))
	}
	for i, n := range colourN {
		q.ColourPerColour[i] /= float64(max(n, 1))
	}
	q.ItemAccuracy = float64(itemOK) / float64(len(idx))
	q.ColourAccuracy = float64(colourOK) / float64(len(idx))
	q.Seconds = time.Since(start).Seconds()
	return q, nil
}
