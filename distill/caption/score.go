package caption

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/faildirs/faildirs/distill/matrix"
	"github.com/faildirs/faildirs/distill/progress"
)

// TextEmbedder embeds texts in the image–text latent space (CLIP's text tower, after its projection): one row per
// text, in order. clip.TextEncoder implements it for any CLIP.
type TextEmbedder interface {
	EmbedTexts(ctx context.Context, texts []string) (matrix.Dense, error)
}

// Scorer returns the decision values of class's SVM for raw latent vectors (one per row); it applies the model's
// own pre-processing (whitening with the train statistics, L2 normalisation). distill.FailureModel implements it.
// A class without a failure direction (no failure signal) must return an error.
type Scorer interface {
	DecisionFor(class int, vecs matrix.Dense) ([]float32, error)
}

// Scored is a caption with its decision value and score.
type Scored struct {
	Caption
	// Decision is the SVM decision value of the caption's own text embedding (informative).
	Decision float32 `json:"decision"`
	// Score is the SVM decision value of the difference between the caption's and the reference caption's text
	// embeddings, through the model's pre-processing: decision(pre(t_caption − t_reference)), as the reference
	// code computes it. Low = the caption moves the text towards the failure side of the SVM.
	Score float32 `json:"score"`
}

// Ranking is the scored vocabulary of one class, hardest caption first.
type Ranking struct {
	// Class is the model's class index and Name its name.
	Class int    `json:"class"`
	Name  string `json:"name"`
	// Reference is the reference caption and ReferenceDecision its decision value.
	Reference         string  `json:"reference"`
	ReferenceDecision float32 `json:"reference_decision"`
	// Captions are sorted by ascending score (ties: in vocabulary order).
	Captions []Scored `json:"captions"`
}

// Hard returns the k lowest-scoring captions, hardest first (fewer if there are fewer).
func (r *Ranking) Hard(k int) []Scored {
	k = min(max(k, 0), len(r.Captions))
	return slices.Clone(r.Captions[:k])
}

// Easy returns the k highest-scoring captions, easiest first (fewer if there are fewer).
func (r *Ranking) Easy(k int) []Scored {
	k = min(max(k, 0), len(r.Captions))
	out := slices.Clone(r.Captions[len(r.Captions)-k:])
	slices.Reverse(out)
	return out
}

// Score embeds the class's reference caption and captions and ranks the captions by score (see the package doc).
func Score(ctx context.Context, emb TextEmbedder, sc Scorer, class int, c Class) (*Ranking, error) {
	rs, err := scoreClasses(ctx, emb, sc, []int{class}, []Class{c}, io.Discard)
	if err != nil {
		return nil, err
	}
	return rs[0], nil
}

// ScoreOptions adjusts [ScoreAll]. The zero value scores every class with a progress bar.
type ScoreOptions struct {
	// Classes lists the classes to score, Vocabulary.Classes[i] being the model's class i; nil means all.
	Classes []int
	// Progress receives the progress bar of the caption embedding; nil means the progress package's default
	// (stderr, or an HTML bar in GoNB), io.Discard none.
	Progress io.Writer
}

// ScoreAll scores the classes of the vocabulary listed in opts.Classes and returns their rankings in that order.
// Leave out classes without a failure direction (no failure signal): the scorer fails on them. Texts shared by
// several classes (CelebA's classes share all their captions) are embedded once.
func ScoreAll(ctx context.Context, emb TextEmbedder, sc Scorer, v Vocabulary, opts ScoreOptions) ([]*Ranking, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	which := opts.Classes
	if which == nil {
		which = make([]int, len(v.Classes))
		for i := range which {
			which[i] = i
		}
	}
	classes := make([]Class, len(which))
	for i, c := range which {
		if c < 0 || c >= len(v.Classes) {
			return nil, fmt.Errorf("caption: class %d out of range: vocabulary %q has %d classes", c, v.Name, len(v.Classes))
		}
		classes[i] = v.Classes[c]
	}
	return scoreClasses(ctx, emb, sc, which, classes, opts.Progress)
}

// embedBatch is the number of texts per EmbedTexts call in ScoreAll, so progress shows and memory stays bounded.
const embedBatch = 256

func scoreClasses(ctx context.Context, emb TextEmbedder, sc Scorer, classIdx []int, classes []Class, progressTo io.Writer) ([]*Ranking, error) {
	if emb == nil || sc == nil {
		return nil, fmt.Errorf("caption: scoring needs a text embedder and a scorer")
	}
	// Unique texts, in first-seen order.
	pos := make(map[string]int)
	var texts []string
	add := func(t string) {
		if _, ok := pos[t]; !ok {
			pos[t] = len(texts)
			texts = append(texts, t)
		}
	}
	caps := make([][]Caption, len(classes))
	for i, c := range classes {
		caps[i] = c.Captions()
		if len(caps[i]) == 0 {
			return nil, fmt.Errorf("caption: class %d (%q) has no captions", classIdx[i], c.Name)
		}
		add(c.Reference())
		for _, cp := range caps[i] {
			add(cp.Text)
		}
	}
	vecs, err := embedAll(ctx, emb, texts, progressTo)
	if err != nil {
		return nil, err
	}
	out := make([]*Ranking, len(classes))
	for i, c := range classes {
		ref := vecs.Row(pos[c.Reference()])
		// Rows 0..n: the reference's and every caption's embedding; rows n+1..2n: caption − reference.
		n := len(caps[i])
		in := matrix.Zeros(2*n+1, vecs.Cols)
		copy(in.Row(0), ref)
		for j, cp := range caps[i] {
			copy(in.Row(1+j), vecs.Row(pos[cp.Text]))
			difference(in.Row(n+1+j), vecs.Row(pos[cp.Text]), ref)
		}
		dec, err := sc.DecisionFor(classIdx[i], in)
		if err != nil {
			return nil, fmt.Errorf("caption: decision values for class %d (%q): %w", classIdx[i], c.Name, err)
		}
		if len(dec) != in.Rows {
			return nil, fmt.Errorf("caption: scorer returned %d decision values for %d texts of class %d", len(dec), in.Rows, classIdx[i])
		}
		for j, d := range dec {
			if math.IsNaN(float64(d)) || math.IsInf(float64(d), 0) {
				what := fmt.Sprintf("%q", c.Reference())
				switch {
				case j > n:
					what = fmt.Sprintf("%q minus the reference", caps[i][j-n-1].Text)
				case j > 0:
					what = fmt.Sprintf("%q", caps[i][j-1].Text)
				}
				return nil, fmt.Errorf("caption: class %d: decision value of %s is %v", classIdx[i], what, d)
			}
		}
		r := &Ranking{Class: classIdx[i], Name: c.Name, Reference: c.Reference(), ReferenceDecision: dec[0]}
		r.Captions = make([]Scored, n)
		for j, cp := range caps[i] {
			r.Captions[j] = Scored{Caption: cp, Decision: dec[j+1], Score: dec[n+1+j]}
		}
		slices.SortStableFunc(r.Captions, func(a, b Scored) int { return cmp.Compare(a.Score, b.Score) })
		out[i] = r
	}
	return out, nil
}

// difference writes caption − reference element-wise into dst: the vector whose decision value is a caption's score.
func difference(dst, caption, reference []float32) {
	for k, v := range caption {
		dst[k] = v - reference[k]
	}
}

// embedAll embeds texts in batches and checks the vectors' shape.
func embedAll(ctx context.Context, emb TextEmbedder, texts []string, progressTo io.Writer) (matrix.Dense, error) {
	bar := progress.New(progressTo, "embedding captions", len(texts))
	defer bar.Done()
	var out matrix.Dense
	for start := 0; start < len(texts); start += embedBatch {
		if err := ctx.Err(); err != nil {
			return matrix.Dense{}, fmt.Errorf("caption: embedding captions: %w", err)
		}
		batch := texts[start:min(start+embedBatch, len(texts))]
		vecs, err := emb.EmbedTexts(ctx, batch)
		if err != nil {
			return matrix.Dense{}, fmt.Errorf("caption: embedding captions %d..%d (first %q): %w", start, start+len(batch)-1, batch[0], err)
		}
		if err := vecs.CheckShape(); err != nil || vecs.Rows != len(batch) || vecs.Cols == 0 {
			return matrix.Dense{}, fmt.Errorf("caption: text embedder returned %d×%d values for %d texts (%v)", vecs.Rows, vecs.Cols, len(batch), err)
		}
		if start == 0 {
			out = matrix.Dense{Cols: vecs.Cols, Data: make([]float32, 0, len(texts)*vecs.Cols)}
		} else if vecs.Cols != out.Cols {
			return matrix.Dense{}, fmt.Errorf("caption: embeddings of %q have length %d, earlier ones %d", batch[0], vecs.Cols, out.Cols)
		}
		out.Data = append(out.Data, vecs.Data...)
		out.Rows += vecs.Rows
		bar.Add(len(batch))
	}
	return out, nil
}
